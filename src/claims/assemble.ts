import { HASURA_SCOPE, PRIVILEGES_SCOPE, organizationRequest } from './scopes.ts';
import { organizationClaim, type Membership } from './organization.ts';
import { hasuraClaims, HASURA_CLAIM } from './hasura.ts';
import { privilegeClaims } from './privileges.ts';
import { mergePayload, type MergeResult } from './naming.ts';
import { STANDARD_SCOPE_CLAIMS } from './standard.ts';

export type ClaimSources = {
  sub: string | undefined;
  /** The scopes granted for this issue. */
  scopes: readonly string[];
  inClaim: readonly Membership[];
  active: Membership | null;
  privileges: { profile: unknown; scope: string } | undefined;
};

export type Target = 'id_token' | 'access_token' | 'userinfo';

/**
 * The claims Tessera places from its own data (SPEC 3 and 4), for one target, each only when its
 * scope was granted: `organization` everywhere, privileges everywhere, Hasura in tokens only.
 */
export function placedClaims(src: ClaimSources, target: Target): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (!src.sub) return out; // client_credentials: no user, nothing of a user's to place
  if (organizationRequest(src.scopes).kind !== 'none') out.organization = organizationClaim(src.inClaim);
  if (src.scopes.includes(PRIVILEGES_SCOPE)) Object.assign(out, privilegeClaims(src.privileges));
  if (target !== 'userinfo' && src.scopes.includes(HASURA_SCOPE)) out[HASURA_CLAIM] = hasuraClaims(src.sub, src.active);
  return out;
}

/** Standard OIDC claim names stay reserved for their scopes even when not granted, so a hook cannot pose as them. */
export const STANDARD_CLAIM_NAMES: ReadonlySet<string> = new Set(Object.values(STANDARD_SCOPE_CLAIMS).flat());

/**
 * Names a token cannot carry as given, renamed `extra_N` like protected ones. oidc-provider takes
 * claims only as a "plain object", checked with `claims.constructor === Object`: a claim named
 * `constructor` made it refuse the whole token (a server error, after the refresh token was spent).
 * It copies an opaque token's claims into the introspection answer by assignment, where `__proto__`
 * would set the answer's prototype instead of being a claim.
 */
export const UNCARRIABLE_NAMES: ReadonlySet<string> = new Set(['constructor', '__proto__']);

const RESERVED_NAMES: ReadonlySet<string> = new Set([...STANDARD_CLAIM_NAMES, ...UNCARRIABLE_NAMES]);

export type PayloadPart = { hookActive: boolean; requestedScope: string | undefined; claims: Record<string, unknown> | undefined };

/**
 * Adds `requested_scope` (whenever a hook is active for the client) and the hook's claims to the
 * claims already placed, under the naming rules of SPEC 6.
 */
export function withPayload(placed: Record<string, unknown>, part: PayloadPart): MergeResult {
  const base = part.hookActive ? { ...placed, requested_scope: part.requestedScope ?? '' } : { ...placed };
  return mergePayload(base, part.claims, RESERVED_NAMES);
}
