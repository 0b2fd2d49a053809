/**
 * The naming rules of SPEC 6, as pure functions: no I/O, no clock, no logging. Callers log and
 * count from the returned `renamed` / `dropped` / `largest`.
 */

/**
 * SPEC 6.1: protocol claims, never replaced; plus `active` and `username`, members of every
 * introspection answer (RFC 7662), so an opaque token's payload is renamed the same way.
 */
export const PROTOCOL_CLAIMS: ReadonlySet<string> = new Set([
  'iss', 'sub', 'aud', 'exp', 'nbf', 'iat', 'jti', 'auth_time', 'nonce', 'acr', 'amr', 'azp', 'sid',
  'at_hash', 'c_hash', 's_hash', 'client_id', 'scope', 'cnf', 'typ', 'token_type', 'active', 'username',
]);

/**
 * Claims Tessera places itself (SPEC 3, 4, 6.3), protected like protocol claims; `grant_id` names
 * the grant of a JWT access token (oidc/jwt-access-tokens.ts), which a hook must not redirect.
 */
export const TESSERA_CLAIMS: ReadonlySet<string> = new Set(['organization', 'user_profile', 'user_scope', 'requested_scope', 'https://hasura.io/jwt/claims', 'grant_id']);

/** Prefix of a renamed payload claim (SPEC 6.2). */
export const RENAME_PREFIX = 'extra_';

/**
 * Longest claim name a payload may emit, in UTF-16 code units. SPEC 6 is silent: an empty name or a
 * longer one is dropped (reported in `dropped`), as is a rename whose `extra_N` would be longer.
 * No legitimate claim needs more, and it bounds what reaches tokens, logs and metric labels.
 */
export const MAX_CLAIM_NAME = 256;

export type Rename = { from: string; to: string };
export type MergeResult = { claims: Record<string, unknown>; renamed: Rename[]; dropped: string[] };

/** Whether `name` is protected whatever the token carries (SPEC 6.1), e.g. `sub` in a client_credentials token. */
export function isProtected(name: string): boolean {
  return PROTOCOL_CLAIMS.has(name) || TESSERA_CLAIMS.has(name);
}

/**
 * Merges payload-hook claims into the claims already placed (SPEC 6). `base` (protocol claims,
 * standard claims, organization, privileges, requested_scope…) is copied, never changed, and wins.
 *
 * - A payload claim N that is free (not protected, not in `alsoProtected`, not a key of `base`)
 *   keeps its name, including a payload claim literally named `extra_X`.
 * - A colliding N becomes `extra_N`; if `extra_N` is taken too (by base, a protected name, or a
 *   payload claim of that very name, which keeps it), N is dropped. Only one level: never `extra_extra_N`.
 *   A payload's own `extra_N` that itself collides (base holds `extra_N`) is renamed `extra_extra_N` like any other.
 * - Decisions where SPEC 6 is silent: names are handled in code-unit order, free ones before
 *   renames, so `claims` (key order included), `renamed` and `dropped` depend only on the payload's
 *   members, not on its key order. An `undefined` member is absent (JSON would drop it) and is not
 *   reported; `null` is a value and kept. Empty and over-long names are dropped (see MAX_CLAIM_NAME).
 *   A base key counts as taken even when its value is `undefined`.
 * - Values are deep-copied (structuredClone: they must be JSON data, which the hook runner
 *   guarantees), so the hook's object cannot change a token later; only top-level names are looked
 *   at, nested objects are never inspected. Claims are defined, not assigned, so `__proto__`,
 *   `constructor` or `prototype` stay plain own members and pollute nothing.
 *
 * `alsoProtected`: names the caller reserves as well (standard claims whose scope was not granted).
 */
export function mergePayload(base: Record<string, unknown>, payload: Record<string, unknown> | undefined, alsoProtected: ReadonlySet<string> = new Set()): MergeResult {
  const claims: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(base)) define(claims, name, value);
  const renamed: Rename[] = [];
  const dropped: string[] = [];
  if (!payload) return { claims, renamed, dropped };

  const taken = (name: string) => Object.hasOwn(base, name) || isProtected(name) || alsoProtected.has(name);
  const entries = Object.entries(payload)
    .filter(([, value]) => value !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

  const colliding: Array<[string, unknown]> = [];
  // Free names first: a payload's own `extra_N` is placed before N tries to take it.
  for (const [name, value] of entries) {
    if (!validName(name)) dropped.push(name);
    else if (taken(name)) colliding.push([name, value]);
    else define(claims, name, copyOf(value));
  }
  for (const [name, value] of colliding) {
    const to = `${RENAME_PREFIX}${name}`;
    if (!validName(to) || taken(to) || Object.hasOwn(claims, to)) {
      dropped.push(name);
      continue;
    }
    define(claims, to, copyOf(value));
    renamed.push({ from: name, to });
  }
  return { claims, renamed, dropped };
}

/** A deep copy of an object or array; strings, numbers, booleans and null are immutable already. */
function copyOf(value: unknown): unknown {
  return typeof value === 'object' && value !== null ? structuredClone(value) : value;
}

function validName(name: string): boolean {
  return name.length > 0 && name.length <= MAX_CLAIM_NAME;
}

// defineProperty, not assignment: a claim named `__proto__` stays a plain own property.
function define(target: Record<string, unknown>, name: string, value: unknown): void {
  Object.defineProperty(target, name, { value, enumerable: true, writable: true, configurable: true });
}

export type SizeCheck = { ok: true; bytes: number } | { ok: false; bytes: number; limit: number; largest: Array<{ claim: string; bytes: number }> };

/** How many claims `checkTokenSize` names when over budget. */
export const LARGEST_REPORTED = 5;

/**
 * The size budget (SPEC 6): `bytes` is the UTF-8 length of the encoded token (given as the token, or
 * as that length when the token is not signed yet); at `limit` it passes,
 * over it the answer names the five largest claims for the log. A claim's size is that of its JSON
 * member, `"name":value`, since a long name costs as much as a long value; an `undefined` value
 * counts 0 (JSON leaves it out). Ties are ordered by name, so the list is deterministic.
 */
export function checkTokenSize(token: string | number, claims: Record<string, unknown>, limit: number): SizeCheck {
  const bytes = typeof token === 'number' ? token : Buffer.byteLength(token, 'utf8');
  if (bytes <= limit) return { ok: true, bytes };
  const largest = Object.entries(claims)
    .map(([claim, value]) => ({ claim, bytes: claimBytes(claim, value) }))
    .sort((a, b) => b.bytes - a.bytes || (a.claim < b.claim ? -1 : a.claim > b.claim ? 1 : 0))
    .slice(0, LARGEST_REPORTED);
  return { ok: false, bytes, limit, largest };
}

/** UTF-8 bytes of the JSON member `"name":value`; 0 when JSON would leave it out. */
export function claimBytes(name: string, value: unknown): number {
  const json = JSON.stringify(value);
  return json === undefined ? 0 : Buffer.byteLength(`${JSON.stringify(name)}:${json}`, 'utf8');
}
