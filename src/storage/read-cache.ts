import type { Database } from '../db/connect.ts';

/** How long a client or resource server row read for a token request is reused: the staleness bound across instances. */
export const CLIENT_CACHE_TTL_MS = 5000;

/**
 * Rows read on every token request (clients, resource servers), kept for a short time per database
 * handle. Only rows that exist are kept, so a row added anywhere is found at once. Every write made
 * through this process's storage functions forgets the row at once; a write made by another
 * instance or the CLI shows here within `ttlMs`. The kept row is deep-frozen and handed out as it
 * is (copying it at every request cost more than the rest of the lookup): a caller that tries to
 * change it gets a TypeError rather than changing it for everyone.
 */
export function createReadCache<T extends object>(ttlMs: number, now: () => number = () => Date.now()) {
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
      if (hit && hit.until > now()) return hit.value;
      const value = await load();
      if (value === undefined) {
        m.delete(key);
        return undefined;
      }
      const kept = deepFreeze(value);
      m.set(key, { value: kept, until: now() + ttlMs });
      return kept;
    },
    forget(db: Database, key: string): void {
      perDatabase.get(db)?.delete(key);
    },
  };
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
