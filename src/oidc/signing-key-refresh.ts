import type Provider from 'oidc-provider';
import type { Database } from '../db/connect.ts';
import type { Logger } from '../log.ts';
import { loadSigningKeys } from '../storage/keys.ts';
import { replaceSigningKeys, signingKeyIds } from './internals.ts';

/**
 * Re-reads `signing_keys` and, when the set of kids changed (`keys rotate` or `keys remove` from
 * any instance or the CLI), installs it in the provider: every instance on the database signs with
 * the newest key and publishes it in /jwks within one interval, without a restart.
 * Returns whether the keys changed; a failed read keeps the current keys.
 */
export async function refreshSigningKeys(provider: Provider, db: Database, log: Logger): Promise<boolean> {
  let keys;
  try {
    keys = await loadSigningKeys(db);
  } catch (err) {
    log.warn('signing keys not refreshed', { err: (err as Error).message });
    return false;
  }
  const before = signingKeyIds(provider);
  const after = keys.map((k) => String(k.kid));
  if (keys.length === 0 || [...before].sort().join(' ') === [...after].sort().join(' ')) return false;
  try {
    replaceSigningKeys(provider, keys);
  } catch (err) {
    log.error('signing keys refused', { err: (err as Error).message });
    return false;
  }
  log.info('signing keys refreshed', { kids: after, added: after.filter((k) => !before.includes(k)), removed: before.filter((k) => !after.includes(k)) });
  return true;
}

/** Runs refreshSigningKeys every `intervalS` seconds, one at a time; the returned function stops it. */
export function watchSigningKeys(provider: Provider, db: Database, log: Logger, intervalS: number): () => void {
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    void refreshSigningKeys(provider, db, log).finally(() => (running = false));
  }, intervalS * 1000).unref();
  return () => clearInterval(timer);
}
