import knexFactory, { type Knex } from 'knex';
import pg from 'pg';
import { PGliteClient } from './pglite-client.ts';

// Same results from both drivers: int8 (counts, sums) as numbers rather than strings.
pg.types.setTypeParser(pg.types.builtins.INT8, (value: string) => Number.parseInt(value, 10));

export type Database = Knex;

// knex prints pool errors to the console itself; they reach our callers as rejections instead.
const quiet = { warn() {}, error() {}, deprecate() {}, debug() {} };

export type DatabaseTarget = { url: string } | { dataDir: string };

/** Opens the database: PostgreSQL through `pg` when a URL is given, else embedded PGlite in a folder. */
export function connectDatabase(target: DatabaseTarget, options: { poolMax?: number } = {}): Database {
  if ('url' in target) {
    return knexFactory({
      client: 'pg',
      connection: { connectionString: target.url, connectionTimeoutMillis: 5000 },
      pool: { min: 0, max: options.poolMax ?? 10 },
      acquireConnectionTimeout: 10000,
      log: quiet,
    });
  }
  return knexFactory({
    client: PGliteClient as unknown as typeof Knex.Client,
    connection: {},
    dataDir: target.dataDir,
    acquireConnectionTimeout: 60000,
    log: quiet,
  } as Knex.Config);
}
