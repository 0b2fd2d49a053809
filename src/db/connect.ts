import knexFactory, { type Knex } from 'knex';
import pg from 'pg';
import { dataDirOwner } from './data-dir-lock.ts';
import { EMBEDDED_PORT, startEmbeddedServer, type EmbeddedServer } from './embedded/thread.ts';
import { disablePreparedStatements } from './prepared.ts';

// Same results from both drivers: int8 (counts, sums) as numbers rather than strings.
pg.types.setTypeParser(pg.types.builtins.INT8, (value: string) => Number.parseInt(value, 10));

export type Database = Knex;

// knex prints pool errors to the console itself; they reach our callers as rejections instead.
const quiet = { warn() {}, error() {}, deprecate() {}, debug() {} };

export type DatabaseTarget = { url: string } | { dataDir: string };

type ConnectOptions = {
  poolMax?: number;
  timeoutMs?: number;
  statementTimeoutMs?: number;
  preparedStatements?: boolean;
  onDataDirTightened?: (paths: string[]) => void;
  /** Embedded: when a server already runs on the folder, use its database rather than refuse (the CLI). */
  joinRunning?: boolean;
  /** Embedded: the database's thread ended unexpectedly (why); the next connection starts a new one. */
  onEmbeddedLost?: (reason: string) => void;
};

// How much longer than statement_timeout the client waits for an answer: normally the server
// cancels the statement first (57014) and the connection stays usable; the client-side deadline is
// for a server that cannot answer at all (frozen, or its host gone silent).
const CLIENT_MARGIN_MS = 1000;



/**
 * Opens the database: PostgreSQL through `pg` when a URL is given, else embedded PGlite in a folder.
 * `timeoutMs` bounds both connecting and waiting for a pooled connection, so while PostgreSQL is
 * unreachable a request fails within it (and answers 503) instead of hanging. `statementTimeoutMs`
 * bounds every statement: PostgreSQL's `statement_timeout` on each connection, and pg's
 * `query_timeout` a little above it for a server that no longer answers at all.
 */
export function connectDatabase(
  target: DatabaseTarget,
  options: ConnectOptions = {},
): Database {
  if ('url' in target) {
    const timeoutMs = options.timeoutMs ?? 5000;
    const statement = options.statementTimeoutMs;
    const db = knexFactory({
      client: 'pg',
      // keepAlive: a connection whose peer vanished is noticed by the OS rather than kept forever.
      connection: {
        connectionString: target.url,
        connectionTimeoutMillis: timeoutMs,
        keepAlive: true,
        ...(statement ? { statement_timeout: statement, query_timeout: statement + CLIENT_MARGIN_MS } : {}),
      },
      pool: { min: 0, max: options.poolMax ?? 10, afterCreate: retireOnReadTimeout },
      acquireConnectionTimeout: timeoutMs,
      log: quiet,
    });
    if (options.preparedStatements === false) disablePreparedStatements(db);
    return db;
  }
  return connectEmbedded(target.dataDir, options);
}

/**
 * The embedded database through the same `pg` driver as PostgreSQL: the database runs in a worker
 * thread started at the first connection (src/db/embedded/), or, for the CLI beside a running
 * server, is that server's. One backend serves every connection, one at a time; a few connections
 * still pay, because the thread runs one connection's statement while the event loop reads another's
 * answer and sends the next: with one, the backend waited out every round trip (introspection, three
 * lookups at once, went from 130–183 to 183–279 a second in alternating runs: docs/benchmarks.md).
 */
const EMBEDDED_POOL_MAX = 4;
const embeddedServers = new WeakMap<Database, () => Promise<EmbeddedServer> | undefined>();

/** The thread serving an embedded database opened here, once started (for tests of its failure). */
export function embeddedServerOf(db: Database): Promise<EmbeddedServer> | undefined {
  return embeddedServers.get(db)?.();
}

function connectEmbedded(dataDir: string, options: ConnectOptions): Database {
  let server: Promise<EmbeddedServer> | undefined;
  const db = knexFactory({
    client: 'pg',
    connection: async () => {
      const running = options.joinRunning ? dataDirOwner(dataDir) : undefined;
      if (running) return { host: running.socketDir, port: EMBEDDED_PORT, user: 'postgres', database: 'postgres' };
      if (!server) {
        const starting: Promise<EmbeddedServer> = startEmbeddedServer(dataDir, options.onDataDirTightened).then(
          (started) => {
            // A thread that dies (PGlite failed) is replaced at the next connection, rather than every
            // request failing until the process restarts; PostgreSQL recovers the folder on its start.
            void started.lost.then((reason) => {
              if (server === starting) server = undefined;
              options.onEmbeddedLost?.(reason);
            });
            return started;
          },
          (err: unknown) => {
            if (server === starting) server = undefined;
            throw err;
          },
        );
        server = starting;
      }
      const current = server;
      const { host, port } = await current;
      // knex keeps these settings until this says they expired: when the thread was lost.
      return { host, port, user: 'postgres', database: 'postgres', expirationChecker: () => server !== current };
    },
    pool: { min: 0, max: EMBEDDED_POOL_MAX },
    acquireConnectionTimeout: 60000,
    log: quiet,
  });
  if (options.preparedStatements === false) disablePreparedStatements(db);
  embeddedServers.set(db, () => server);
  // Closing the database also stops its thread (PGlite writes what it holds) and frees the folder.
  const client = db.client as { destroy(callback?: (err?: unknown) => void): Promise<void> };
  const destroyPool = client.destroy.bind(client);
  client.destroy = async (callback) => {
    await destroyPool();
    const started = server;
    server = undefined;
    if (started) await (await started.catch(() => undefined))?.close();
    callback?.();
  };
  return db;
}

type PgConnection = { query: (...args: unknown[]) => unknown; __knex__disposed?: unknown; connection?: { stream?: { destroy(): void } } };

/**
 * After pg's client-side deadline the statement is still in flight on that connection, and the next
 * query would queue behind it. The connection is marked for knex to discard (and its socket closed),
 * so the pool opens a fresh one instead of handing out a stuck one.
 */
function retireOnReadTimeout(conn: PgConnection, done: (err: Error | null, conn: PgConnection) => void): void {
  const query = conn.query.bind(conn);
  conn.query = (...args: unknown[]) => {
    const last = args.length - 1;
    const callback = args[last];
    if (typeof callback === 'function') {
      args[last] = (err: unknown, res: unknown) => {
        if (err instanceof Error && err.message === 'Query read timeout') {
          conn.__knex__disposed = err;
          conn.connection?.stream?.destroy();
        }
        callback(err, res);
      };
    }
    return query(...args);
  };
  done(null, conn);
}
