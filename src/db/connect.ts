import knexFactory, { type Knex } from 'knex';
import pg from 'pg';
import { PGliteClient } from './pglite-client.ts';
import { disablePreparedStatements } from './prepared.ts';

// Same results from both drivers: int8 (counts, sums) as numbers rather than strings.
pg.types.setTypeParser(pg.types.builtins.INT8, (value: string) => Number.parseInt(value, 10));

export type Database = Knex;

// knex prints pool errors to the console itself; they reach our callers as rejections instead.
const quiet = { warn() {}, error() {}, deprecate() {}, debug() {} };

export type DatabaseTarget = { url: string } | { dataDir: string };

/**
 * Opens the database: PostgreSQL through `pg` when a URL is given, else embedded PGlite in a folder.
 * `timeoutMs` bounds both connecting and waiting for a pooled connection, so while PostgreSQL is
 * unreachable a request fails within it (and answers 503) instead of hanging.
 */
export function connectDatabase(
  target: DatabaseTarget,
  options: { poolMax?: number; timeoutMs?: number; preparedStatements?: boolean; onDataDirTightened?: (paths: string[]) => void } = {},
): Database {
  if ('url' in target) {
    const timeoutMs = options.timeoutMs ?? 5000;
    const db = knexFactory({
      client: 'pg',
      // keepAlive: a connection whose peer vanished is noticed by the OS rather than kept forever.
      connection: { connectionString: target.url, connectionTimeoutMillis: timeoutMs, keepAlive: true },
      pool: { min: 0, max: options.poolMax ?? 10 },
      acquireConnectionTimeout: timeoutMs,
      log: quiet,
    });
    if (options.preparedStatements === false) disablePreparedStatements(db);
    return db;
  }
  return knexFactory({
    client: PGliteClient as unknown as typeof Knex.Client,
    connection: {},
    dataDir: target.dataDir,
    // The embedded folder is made private (0700/0600) before it opens; what was wider is reported here.
    onDataDirTightened: options.onDataDirTightened,
    acquireConnectionTimeout: 60000,
    log: quiet,
  } as Knex.Config);
}
