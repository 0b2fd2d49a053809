/** The organization scopes of SPEC 3, as written by Keycloak 26. */
export const ORGANIZATION_SCOPE = 'organization';
export const ALL_ORGANIZATIONS_SCOPE = 'organization:*';
export const PRIVILEGES_SCOPE = 'privileges';
export const HASURA_SCOPE = 'hasura';

const ALIAS_SCOPE = /^organization:([a-z0-9][a-z0-9_-]{0,62})$/;

export type OrganizationRequest =
  | { kind: 'none' }
  | { kind: 'one' } // `organization`: the active one, chosen when there are several
  | { kind: 'aliases'; aliases: string[] } // `organization:<alias>`...
  | { kind: 'all' }; // `organization:*`

export const splitScope = (scope: string | undefined | null): string[] => (scope ?? '').split(' ').filter(Boolean);

/** The alias of an `organization:<alias>` scope value, or undefined for anything else. */
export function aliasOfScope(scope: string): string | undefined {
  return ALIAS_SCOPE.exec(scope)?.[1];
}

/** What the organization scopes of a scope string ask for; `organization:*` wins, then aliases, then `organization`. */
export function organizationRequest(scopes: readonly string[]): OrganizationRequest {
  if (scopes.includes(ALL_ORGANIZATIONS_SCOPE)) return { kind: 'all' };
  const aliases = [...new Set(scopes.map(aliasOfScope).filter((a): a is string => a !== undefined))];
  if (aliases.length) return { kind: 'aliases', aliases };
  if (scopes.includes(ORGANIZATION_SCOPE)) return { kind: 'one' };
  return { kind: 'none' };
}

/** The OpenID Connect scope values oidc-provider knows (Core §5.4 and offline_access). */
export const OPENID_SCOPES = ['openid', 'offline_access', 'profile', 'email', 'address', 'phone'] as const;
/**
 * Stands for "none of Tessera's scopes" in oidc-provider's view of a client whose `scope` lists only
 * resource servers' scopes: oidc-provider reads an empty client scope as "every scope allowed"
 * (`admin` included). Releases no claim; the admin API does not accept it in a client's scope.
 */
export const NO_PROVIDER_SCOPE = 'tessera:none';
/** Tessera's admin API scopes (SPEC 8). */
export const ADMIN_SCOPES = ['admin', 'admin:privileges'] as const;
/** A Shared Signals receiver managing its stream (src/signals/), by client_credentials. */
export const SSF_SCOPE = 'ssf';

/** A scope value Tessera itself answers, as opposed to a resource server's. */
export function isProviderScope(scope: string): boolean {
  return (
    (OPENID_SCOPES as readonly string[]).includes(scope) ||
    (ADMIN_SCOPES as readonly string[]).includes(scope) ||
    scope === SSF_SCOPE ||
    [ORGANIZATION_SCOPE, ALL_ORGANIZATIONS_SCOPE, PRIVILEGES_SCOPE, HASURA_SCOPE].includes(scope) ||
    aliasOfScope(scope) !== undefined
  );
}
