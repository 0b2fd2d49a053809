import { createRequire } from 'node:module';
import type { Knex } from 'knex';
import { PGlite } from '@electric-sql/pglite';
import { lockDataDir } from './data-dir-lock.ts';
import { makeDataDirPrivate } from './private-data-dir.ts';

// knex ships its dialects as CommonJS; the PostgreSQL client is the base we extend.
const require = createRequire(import.meta.url);
const PgClient = require('knex/lib/dialects/postgres/index.js') as new (config: Knex.Config) => object;

type QueryObject = { sql: string; bindings?: unknown[]; response?: unknown };

/**
 * A knex client that speaks to an embedded PGlite instance instead of a PostgreSQL server.
 * It reuses knex's PostgreSQL SQL generation unchanged, so migrations and queries are the same SQL
 * for both; only the transport differs. PGlite is a single connection, so the pool holds one.
 */
export class PGliteClient extends (PgClient as unknown as new (config: Knex.Config) => Record<string, unknown>) {
  #db: PGlite | undefined;
  #dataDir: string;
  #unlock: (() => void) | undefined;
  #onTightened: ((paths: string[]) => void) | undefined;

  constructor(config: Knex.Config & { dataDir: string; onDataDirTightened?: (paths: string[]) => void }) {
    super({ ...config, client: 'pg', pool: { min: 1, max: 1 } });
    this.#dataDir = config.dataDir;
    this.#onTightened = config.onDataDirTightened;
    this.driverName = 'pglite';
  }

  _driver() {
    return {};
  }

  async acquireRawConnection() {
    if (!this.#db) {
      const { tightened } = makeDataDirPrivate(this.#dataDir);
      if (tightened.length) this.#onTightened?.(tightened);
      this.#unlock = lockDataDir(this.#dataDir);
      try {
        this.#db = await PGlite.create(this.#dataDir);
        // A first start unpacks a ready-made database with its own modes (0666): made private now;
        // what PostgreSQL creates from here on is 0600 already, under the umask set above.
        makeDataDirPrivate(this.#dataDir);
      } catch (err) {
        this.#unlock();
        throw err;
      }
    }
    this.version = '17';
    return this.#db;
  }

  async destroyRawConnection(db: PGlite) {
    await db.close();
    this.#db = undefined;
    this.#unlock?.();
  }

  validateConnection(db: PGlite) {
    return !db.closed;
  }

  async checkVersion() {
    return '17';
  }

  async setSchemaSearchPath() {
    return true;
  }

  async _query(db: PGlite, obj: QueryObject) {
    if (!obj.sql) throw new Error('The query is empty');
    obj.response = await db.query(obj.sql, obj.bindings ?? []);
    return obj;
  }

  async _stream(): Promise<never> {
    throw new Error('streaming queries are not supported on the embedded database');
  }
}
