import type { User } from '../model/user.ts';

/** Claim names each standard scope releases; oidc-provider filters by the granted scopes. */
export const STANDARD_SCOPE_CLAIMS = {
  openid: ['sub'],
  profile: ['name', 'given_name', 'family_name', 'middle_name', 'nickname', 'preferred_username', 'profile', 'picture', 'website', 'gender', 'birthdate', 'zoneinfo', 'locale', 'updated_at'],
  email: ['email', 'email_verified'],
  address: ['address'],
  phone: ['phone_number', 'phone_number_verified'],
} as const satisfies Record<string, readonly string[]>;

const STORED_STANDARD = new Set<string>(Object.values(STANDARD_SCOPE_CLAIMS).flat());

/**
 * A user's standard OIDC claims. Columns win over `claims` (the free-form standard claims),
 * and only standard names are taken from it, so a stored value can never pose as a protocol claim.
 */
export function standardClaims(user: User): { sub: string } & Record<string, unknown> {
  const extra = Object.fromEntries(Object.entries(user.claims ?? {}).filter(([k]) => STORED_STANDARD.has(k) && k !== 'sub'));
  const out: { sub: string } & Record<string, unknown> = {
    ...extra,
    sub: user.id,
    preferred_username: user.username,
    updated_at: Math.floor(new Date(user.updated_at).getTime() / 1000),
    email_verified: user.email_verified,
  };
  for (const key of ['name', 'given_name', 'family_name', 'email'] as const) {
    if (user[key] !== null) out[key] = user[key];
  }
  if (user.email === null) delete out.email_verified;
  return out;
}
