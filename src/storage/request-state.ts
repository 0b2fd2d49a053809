import Provider, { type AdapterPayload } from 'oidc-provider';

/**
 * What the storage adapter keeps for the length of one oidc-provider request (its context is the
 * key, found through the provider's AsyncLocalStorage), so one token request costs fewer round trips:
 *
 * - reads: Tessera computes a token's claims from the code or refresh token (and reads the grant
 *   with the claims) before oidc-provider reads them again to spend the token; those second reads
 *   are answered from here. Safe because spending refuses a token another request spent in
 *   between, and any write through the adapter forgets the row.
 * - a pending spend: a rotated refresh token is marked consumed by the same statement that stores
 *   its successor (one round trip and one commit instead of two).
 */
type RequestState = {
  reads: Map<string, AdapterPayload | undefined>;
  pendingSpend?: { model: string; id: string; spend: () => Promise<void> };
};

const states = new WeakMap<object, RequestState>();

function stateOf(ctx: object | undefined = Provider.ctx): RequestState | undefined {
  if (!ctx) return undefined;
  let s = states.get(ctx);
  if (!s) states.set(ctx, (s = { reads: new Map() }));
  return s;
}

const key = (model: string, id: string) => `${model}:${id}`;

/** This request's earlier read of the row, as a copy; `found` is false when it has none. */
export function readEarlier(model: string, id: string): { found: boolean; payload?: AdapterPayload | undefined } {
  const reads = stateOf()?.reads;
  const k = key(model, id);
  return reads?.has(k) ? { found: true, payload: structuredClone(reads.get(k)) } : { found: false };
}

/** Keeps a row this request read (by the adapter, or with the claims statement). */
export function rememberRead(model: string, id: string, payload: AdapterPayload | undefined): void {
  stateOf()?.reads.set(key(model, id), structuredClone(payload));
}

export function forgetRead(model: string, id: string): void {
  stateOf()?.reads.delete(key(model, id));
}

export function forgetAllReads(): void {
  stateOf()?.reads.clear();
}

/**
 * Puts off spending a token until its successor is stored in this request; false (spend it now)
 * outside a request. `spend` is the fallback, run at the end of the request if no successor came.
 */
export function deferSpend(model: string, id: string, spend: () => Promise<void>): boolean {
  const s = stateOf();
  if (!s) return false;
  s.pendingSpend = { model, id, spend };
  return true;
}

/** The token of `model` this request has yet to spend (now taken over by the caller), if any. */
export function takePendingSpend(model: string): string | undefined {
  const s = stateOf();
  const pending = s?.pendingSpend;
  if (!pending || pending.model !== model) return undefined;
  s.pendingSpend = undefined;
  return pending.id;
}

/** At the end of a request: a spend still pending (no successor was stored) happens now. */
export async function spendWhatIsPending(ctx: object): Promise<void> {
  const s = states.get(ctx);
  const pending = s?.pendingSpend;
  if (!pending) return;
  s.pendingSpend = undefined;
  await pending.spend();
}
