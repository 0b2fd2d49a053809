import Provider from 'oidc-provider';
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
 * checked per user when the scope is used (`everyOrganization` false leaves them out, for a
 * request that names none). An `organization:<alias>` the provider does not know (yet) is left out
 * rather than making the whole client invalid.
 */
export function expandOrganizationScopes(provider: Provider, scope: string, everyOrganization = true): string {
  const scopes = splitScope(scope).filter((s) => aliasOfScope(s) === undefined || isKnownScope(provider, s));
  if (!everyOrganization || (!scopes.includes(ORGANIZATION_SCOPE) && !scopes.includes(ALL_ORGANIZATIONS_SCOPE))) return scopes.join(' ');
  const all = knownScopes(provider).filter((s) => s === ALL_ORGANIZATIONS_SCOPE || aliasOfScope(s) !== undefined);
  return [...new Set([...scopes, ...all])].join(' ');
}

// Routes where oidc-provider never checks a requested scope against the client's list (token
// narrows to what the grant holds, except client_credentials, which validateClientScope checks).
const NO_SCOPE_CHECK = new Set(['introspection', 'revocation', 'userinfo']);

/**
 * Whether the client loaded for the request in progress needs its organization scopes expanded:
 * only when the request may name an `organization:<alias>` (the expansion lists every organization,
 * and oidc-provider copies, hashes and splits that list at every client load). Outside a request,
 * or where the scope may arrive later (a request object, a pushed request), it does.
 */
export function requestMayNameOrganizations(): boolean {
  const oidc = (Provider.ctx as { oidc?: { route?: string; params?: Record<string, unknown> } } | undefined)?.oidc;
  if (!oidc?.route) return true;
  if (NO_SCOPE_CHECK.has(oidc.route)) return false;
  if (oidc.route !== 'token' || !oidc.params) return true;
  const scope = oidc.params.scope;
  return typeof scope === 'string' && splitScope(scope).some((s) => aliasOfScope(s) !== undefined);
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
