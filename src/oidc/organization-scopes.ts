import type Provider from 'oidc-provider';
import type { Middleware } from 'koa';
import type { Database } from '../db/connect.ts';
import { aliasOfScope, splitScope } from '../claims/scopes.ts';
import { listOrganizationAliases, findOrganization } from '../storage/organizations.ts';
import { registerScope, isKnownScope, knownScopes } from './internals.ts';
import { ALL_ORGANIZATIONS_SCOPE, ORGANIZATION_SCOPE } from '../claims/scopes.ts';

/** Registers `organization:<alias>` as a scope value releasing the `organization` claim. */
export const registerOrganizationScope = (provider: Provider, alias: string) => registerScope(provider, `organization:${alias}`, ['organization']);

/**
 * A client's scope as oidc-provider must see it. A client allowed `organization` (or
 * `organization:*`) may ask for every organization scope value the provider knows; membership is
 * checked per user when the scope is used. An `organization:<alias>` the provider does not know
 * (yet) is left out rather than making the whole client invalid.
 */
export function expandOrganizationScopes(provider: Provider, scope: string): string {
  const scopes = splitScope(scope).filter((s) => aliasOfScope(s) === undefined || isKnownScope(provider, s));
  if (!scopes.includes(ORGANIZATION_SCOPE) && !scopes.includes(ALL_ORGANIZATIONS_SCOPE)) return scopes.join(' ');
  const all = knownScopes(provider).filter((s) => s === ALL_ORGANIZATIONS_SCOPE || aliasOfScope(s) !== undefined);
  return [...new Set([...scopes, ...all])].join(' ');
}

/** At start: every existing organization's scope. */
export async function registerKnownOrganizations(provider: Provider, db: Database): Promise<void> {
  for (const alias of await listOrganizationAliases(db)) registerOrganizationScope(provider, alias);
}

/**
 * Before an authorization request reaches the provider: an `organization:<alias>` scope for an
 * organization created since start (by this instance or another) is registered, so it is not
 * dropped as unknown. Unknown aliases are not registered, so a request cannot grow the set;
 * they still reach the organization check, which answers access_denied.
 */
export function organizationScopeRegistrar(provider: Provider, db: Database): Middleware {
  return async (ctx, next) => {
    if (ctx.method === 'GET' && ctx.path === '/auth' && typeof ctx.query.scope === 'string') {
      for (const scope of splitScope(ctx.query.scope)) {
        const alias = aliasOfScope(scope);
        if (alias && !isKnownScope(provider, scope) && (await findOrganization(db, alias))) registerOrganizationScope(provider, alias);
      }
    }
    await next();
  };
}
