import type { Database } from './connect.ts';
import type { Logger } from '../log.ts';

/** How often the tables' change counters are read: autovacuum's naptime is a minute; this is cheap. */
export const EMBEDDED_AUTOVACUUM_S = 10;

type TableStats = { relname: string; n_dead_tup: number; n_mod_since_analyze: number; reltuples: number };

/**
 * PGlite runs PostgreSQL in single-user mode, where autovacuum never runs (measured: 100,000 dead
 * row versions, none reclaimed after 75 s), so the server does its work: it reads the change counters
 * PostgreSQL keeps (pg_stat_user_tables) and vacuums or analyzes a table past autovacuum's default
 * thresholds. Vacuum lets the space of spent tokens be reused, or the data folder only grows.
 * Analyze matters as much: a named prepared statement keeps the generic plan chosen from the
 * table's statistics, and one chosen while the table was nearly empty scans it whole; it was kept
 * as the table grew (measured: a token lookup by primary key took 14.9 ms after 100,000 inserts,
 * 0.76 ms once analyzed, which makes the plans be chosen again). Answers the tables it worked on.
 * A PostgreSQL server is left to its own autovacuum.
 */
export async function autovacuumEmbedded(db: Database): Promise<string[]> {
  const { rows } = (await db.raw(
    `select s.relname, s.n_dead_tup, s.n_mod_since_analyze, greatest(c.reltuples, 0) as reltuples
     from pg_stat_user_tables s join pg_class c on c.oid = s.relid
     where s.schemaname = current_schema()`,
  )) as { rows: TableStats[] };
  const done: string[] = [];
  for (const t of rows) {
    // autovacuum_vacuum_threshold + autovacuum_vacuum_scale_factor, and the same for analyze.
    const vacuum = Number(t.n_dead_tup) > 50 + 0.2 * Number(t.reltuples);
    const analyze = Number(t.n_mod_since_analyze) > 50 + 0.1 * Number(t.reltuples);
    if (!vacuum && !analyze) continue;
    await db.raw(`${vacuum ? 'vacuum analyze' : 'analyze'} "${t.relname.replaceAll('"', '""')}"`);
    done.push(t.relname);
  }
  return done;
}

/** Runs autovacuumEmbedded now and every EMBEDDED_AUTOVACUUM_S; answers the function that stops it (after a run in progress). */
export function startEmbeddedAutovacuum(db: Database, log: Logger): () => Promise<void> {
  let running: Promise<void> | undefined;
  const tick = () => {
    running ??= autovacuumEmbedded(db)
      .then((tables) => {
        if (tables.length) log.debug('embedded database vacuumed or analyzed', { tables });
      })
      .catch((err: unknown) => log.warn('embedded autovacuum failed', { err: (err as Error).message }))
      .finally(() => {
        running = undefined;
      });
  };
  tick();
  const timer = setInterval(tick, EMBEDDED_AUTOVACUUM_S * 1000).unref();
  return async () => {
    clearInterval(timer);
    await running;
  };
}
