import type { Database } from './connect.ts';

const unnamed = new WeakSet<Database>();

/** For a pooler that cannot keep prepared statements (PgBouncer before 1.21 in transaction mode). */
export function disablePreparedStatements(db: Database): void {
  unnamed.add(db);
}

/**
 * knex query options that make a hot statement a named prepared statement on PostgreSQL: parsed
 * and planned once per connection rather than at every request (planning was the largest part of
 * PostgreSQL's time on a refresh), on PostgreSQL and on the embedded database alike. A name must
 * always go with the same SQL text.
 */
export function prepared(db: Database, name: string): { name?: string } {
  return unnamed.has(db) ? {} : { name: `tessera_${name}` };
}
