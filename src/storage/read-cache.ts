import type { Database } from '../db/connect.ts';

/**
 * Rows read on every token request (clients, resource servers), kept for a short time per database
 * handle. Only rows that exist are kept, so a row added anywhere is found at once. Every write made
 * through this process's storage functions forgets the row at once; a write made by another
 * instance or the CLI shows here within `ttlMs`. Callers get a copy, never the kept object.
 */
export function createReadCache<T>(ttlMs: number, now: () => number = () => Date.now()) {
  const perDatabase = new WeakMap<Database, Map<string, { value: T; until: number }>>();
  const entries = (db: Database) => {
    let m = perDatabase.get(db);
    if (!m) perDatabase.set(db, (m = new Map()));
    return m;
  };
  return {
    async get(db: Database, key: string, load: () => Promise<T | undefined>): Promise<T | undefined> {
      const m = entries(db);
      const hit = m.get(key);
      if (hit && hit.until > now()) return structuredClone(hit.value);
      const value = await load();
      if (value === undefined) m.delete(key);
      else m.set(key, { value: structuredClone(value), until: now() + ttlMs });
      return value;
    },
    forget(db: Database, key: string): void {
      perDatabase.get(db)?.delete(key);
    },
  };
}
