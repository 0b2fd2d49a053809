/**
 * SPEC 6.1: protocol claims, never replaced; plus `active` and `username`, members of every
 * introspection answer (RFC 7662), so an opaque token's payload is renamed the same way.
 */
export const PROTOCOL_CLAIMS: ReadonlySet<string> = new Set([
  'iss', 'sub', 'aud', 'exp', 'nbf', 'iat', 'jti', 'auth_time', 'nonce', 'acr', 'amr', 'azp', 'sid',
  'at_hash', 'c_hash', 's_hash', 'client_id', 'scope', 'cnf', 'typ', 'token_type', 'active', 'username',
]);

/** Claims Tessera places itself (SPEC 3, 4, 6.3), protected like protocol claims. */
export const TESSERA_CLAIMS: ReadonlySet<string> = new Set(['organization', 'user_profile', 'user_scope', 'requested_scope', 'https://hasura.io/jwt/claims']);

export type Rename = { from: string; to: string };
export type MergeResult = { claims: Record<string, unknown>; renamed: Rename[]; dropped: string[] };

const MAX_NAME = 256;

/**
 * Merges payload-hook claims into the claims already placed (SPEC 6). A payload claim N that
 * collides with a protected name or a claim of `base` becomes `extra_N`; if `extra_N` is taken too
 * (by base, a protected name, or a payload claim of that very name, which keeps it) N is dropped.
 * Base is never changed; values are deep-copied, so the hook's object cannot change a token later.
 */
export function mergePayload(base: Record<string, unknown>, payload: Record<string, unknown> | undefined, alsoProtected: ReadonlySet<string> = new Set()): MergeResult {
  const claims: Record<string, unknown> = { ...base };
  const renamed: Rename[] = [];
  const dropped: string[] = [];
  if (!payload) return { claims, renamed, dropped };
  const taken = (name: string) => Object.hasOwn(base, name) || PROTOCOL_CLAIMS.has(name) || TESSERA_CLAIMS.has(name) || alsoProtected.has(name);
  const entries = Object.entries(payload).filter(([, v]) => v !== undefined);
  const colliding: string[] = [];
  // Free names first, so the outcome does not depend on the payload's key order.
  for (const [name, value] of entries) {
    if (name === '' || name.length > MAX_NAME) {
      dropped.push(name);
      continue;
    }
    if (taken(name)) colliding.push(name);
    else define(claims, name, structuredClone(value));
  }
  for (const name of colliding) {
    const to = `extra_${name}`;
    if (taken(to) || Object.hasOwn(claims, to)) {
      dropped.push(name);
      continue;
    }
    define(claims, to, structuredClone(payload[name]));
    renamed.push({ from: name, to });
  }
  return { claims, renamed, dropped };
}

// defineProperty, not assignment: a claim named `__proto__` stays a plain own property.
function define(target: Record<string, unknown>, name: string, value: unknown) {
  Object.defineProperty(target, name, { value, enumerable: true, writable: true, configurable: true });
}

export type SizeCheck = { ok: true; bytes: number } | { ok: false; bytes: number; limit: number; largest: Array<{ claim: string; bytes: number }> };

/** The size budget: over `limit` bytes, the answer names the five largest claims for the log. */
export function checkTokenSize(encodedToken: string, claims: Record<string, unknown>, limit: number): SizeCheck {
  const bytes = Buffer.byteLength(encodedToken);
  if (bytes <= limit) return { ok: true, bytes };
  const largest = Object.entries(claims)
    .map(([claim, value]) => ({ claim, bytes: Buffer.byteLength(JSON.stringify(value) ?? '') }))
    .sort((a, b) => b.bytes - a.bytes)
    .slice(0, 5);
  return { ok: false, bytes, limit, largest };
}
