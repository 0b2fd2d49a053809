import type { Database } from './connect.ts';

// The tables every token request writes: each refresh leaves a dead row version behind.
const CHURNING_TABLES = ['oidc_payloads', 'grant_context', 'login_failures'];

/**
 * PGlite runs PostgreSQL in single-user mode, where autovacuum never runs (measured: 100,000 dead
 * row versions, none reclaimed after 75 s). Without vacuum, the space of spent tokens is never
 * reused and the data folder only grows, so the purge job vacuums these tables itself. It analyzes
 * them too, as autovacuum would: the token path's named prepared statements may switch to a generic
 * plan, which is chosen from the tables' statistics. A PostgreSQL server is left to its autovacuum.
 */
export async function vacuumEmbedded(db: Database): Promise<void> {
  for (const table of CHURNING_TABLES) await db.raw(`vacuum analyze ${table}`);
}
