import type { Membership } from './organization.ts';

export const HASURA_CLAIM = 'https://hasura.io/jwt/claims';

/** Hasura's claims for the active organization; every value a string (or string array), as Hasura requires. */
export function hasuraClaims(sub: string, active: Membership | null): Record<string, string | string[]> {
  const roles = active && active.roles.length ? active.roles.map(String) : ['user'];
  return {
    'x-hasura-user-id': sub,
    ...(active ? { 'x-hasura-org-id': active.id } : {}),
    'x-hasura-allowed-roles': roles,
    'x-hasura-default-role': roles[0]!,
  };
}
