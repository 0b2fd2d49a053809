import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import type { AdapterPayload } from 'oidc-provider';
import type { SpendableRead } from './claim-sources.ts';

/**
 * One token request's writes, held back until its answer is ready (src/oidc/token-unit-of-work.ts):
 * oidc-provider spends the code or refresh token, then stores the new tokens one by one, and a
 * failure in between must not leave the token spent with nothing issued. The storage adapter
 * records its writes here instead of running them; they commit together in one statement
 * (unit-of-work-commit.ts), or not at all.
 *
 * It also keeps what the request read, so a row is read once: the code or refresh token comes
 * with its claim sources and grant (claim-sources.ts), and oidc-provider's later finds of them
 * are answered from here.
 */

/** A row as the adapter stores it. */
export type PayloadRow = { model: string; id: string; payload: string; grant_id: string | null; user_code: string | null; uid: string | null; expires_at: Date | null };

/** The models whose writes wait for the commit: what a code exchange or a refresh spends and issues. */
export const DEFERRED_MODELS = new Set(['AuthorizationCode', 'RefreshToken', 'AccessToken', 'Grant']);

export class UnitOfWork {
  /** Marks what this request spends (consumed_by), so a lost commit answer can be told apart from a replay. */
  readonly id = randomUUID();
  /** The one code or refresh token this request spends. */
  consume: { model: string; id: string } | undefined;
  readonly upserts = new Map<string, PayloadRow>();
  /** destroy(): rows to delete (oidc-provider's answer to a replay). */
  readonly destroys: { model: string; id: string }[] = [];
  /** revokeByGrantId(): grants whose rows all go. */
  readonly revokedGrants = new Set<string>();
  /** A refresh with `organization=<alias>`: the grant's new active organization. */
  grantContext: { grant_id: string; organization_id: string } | undefined;
  /** The code or refresh token read with its claim sources. */
  spendable: SpendableRead | undefined;
  readonly reads = new Map<string, AdapterPayload | undefined>();

  recordConsume(model: string, id: string): void {
    if (this.consume && (this.consume.model !== model || this.consume.id !== id)) throw new Error('a token request spends one code or refresh token');
    this.consume = { model, id };
  }

  recordUpsert(row: PayloadRow): void {
    this.upserts.set(key(row.model, row.id), row);
    this.reads.delete(key(row.model, row.id));
  }

  recordDestroy(model: string, id: string): void {
    this.destroys.push({ model, id });
    this.upserts.delete(key(model, id));
    this.reads.set(key(model, id), undefined);
  }

  recordRevoke(grantId: string): void {
    this.revokedGrants.add(grantId);
    for (const [k, row] of this.upserts) if (row.grant_id === grantId) this.upserts.delete(k);
    this.reads.clear();
  }

  /** What this request already knows of a row: written or read earlier (a copy), or `found: false`. */
  known(model: string, id: string): { found: boolean; payload?: AdapterPayload | undefined } {
    const k = key(model, id);
    const written = this.upserts.get(k);
    if (written) return { found: true, payload: JSON.parse(written.payload) as AdapterPayload };
    return this.reads.has(k) ? { found: true, payload: structuredClone(this.reads.get(k)) } : { found: false };
  }

  rememberRead(model: string, id: string, payload: AdapterPayload | undefined): void {
    this.reads.set(key(model, id), structuredClone(payload));
  }

  /** Whether anything waits to be deleted (a replay's revocation), which happens whatever the answer. */
  get hasRemovals(): boolean {
    return this.destroys.length > 0 || this.revokedGrants.size > 0;
  }
}

const key = (model: string, id: string) => `${model}:${id}`;
const units = new AsyncLocalStorage<UnitOfWork>();

/** Runs `fn` (a token request) with a unit of work of its own. */
export function withUnitOfWork<T>(unit: UnitOfWork, fn: () => Promise<T>): Promise<T> {
  return units.run(unit, fn);
}

/** The unit of work of the token request being served, if any. */
export function currentUnit(): UnitOfWork | undefined {
  return units.getStore();
}
