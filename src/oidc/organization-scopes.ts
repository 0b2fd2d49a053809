import Provider from 'oidc-provider';
import type { Middleware } from 'koa';
import type { Database } from '../db/connect.ts';
import { aliasOfScope, splitScope } from '../claims/scopes.ts';
import { listOrganizationAliases, existingAliases } from '../storage/organizations.ts';
import { findClientForRequest } from '../storage/clients.ts';
import { registerScope, unregisterScope, isKnownScope, knownScopes } from './internals.ts';
import { errorPage } from '../interactions/views.ts';
import type { Brand } from '../interactions/brand.ts';
import { requestPageContext } from '../interactions/page-context.ts';
import { ALL_ORGANIZATIONS_SCOPE, ORGANIZATION_SCOPE } from '../claims/scopes.ts';

/** Registers `organization:<alias>` as a scope value releasing the `organization` claim. */
export const registerOrganizationScope = (provider: Provider, alias: string) => registerScope(provider, `organization:${alias}`, ['organization']);

/** An organization deleted or renamed: its `organization:<alias>` is no longer a scope value. */
export const unregisterOrganizationScope = (provider: Provider, alias: string) => unregisterScope(provider, `organization:${alias}`);

/** More scope values than this in one authorization request is invalid_request, before any lookup. */
export const MAX_SCOPE_VALUES = 50;

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
 * Before an authorization request reaches the provider: its `organization:<alias>` values are
 * looked up once (one statement), and only for a client that exists, so junk requests cost no
 * organization lookups. An alias of an organization created since start (here or on another
 * instance) is registered; one whose organization is gone (deleted or renamed elsewhere) is
 * unregistered, so it is no longer accepted. Unknown aliases are not registered, so a request
 * cannot grow the set; they still reach the organization check, which answers access_denied.
 * A request naming more than MAX_SCOPE_VALUES scope values is refused first.
 */
export function organizationScopeRegistrar(provider: Provider, db: Database, brand: Brand): Middleware {
  return async (ctx, next) => {
    if (ctx.method === 'GET' && ctx.path === '/auth' && typeof ctx.query.scope === 'string') {
      const scopes = splitScope(ctx.query.scope);
      if (scopes.length > MAX_SCOPE_VALUES) return refuseTooManyScopes(ctx, brand);
      const aliases = [...new Set(scopes.map(aliasOfScope).filter((a): a is string => a !== undefined))];
      const clientId = ctx.query.client_id;
      if (aliases.length && typeof clientId === 'string' && (await findClientForRequest(db, clientId))) {
        const existing = await existingAliases(db, aliases);
        for (const alias of aliases) {
          if (existing.has(alias)) registerOrganizationScope(provider, alias);
          else unregisterOrganizationScope(provider, alias);
        }
      }
    }
    await next();
  };
}

function refuseTooManyScopes(ctx: Parameters<Middleware>[0], brand: Brand) {
  const description = `at most ${MAX_SCOPE_VALUES} scope values in one request`;
  ctx.status = 400;
  ctx.set('cache-control', 'no-store');
  if (ctx.accepts('json', 'html') === 'html') {
    ctx.type = 'html';
    const p = requestPageContext(brand, ctx);
    ctx.body = errorPage(p, p.t.errorTitle, p.t.errorMessage, [[p.t.detailError, 'invalid_request'], [p.t.detailDescription, description]]);
  } else {
    ctx.body = { error: 'invalid_request', error_description: description };
  }
}

/**
 * Discovery names the organization scopes generically (`organization`, `organization:*`): listing
 * every `organization:<alias>` would publish the tenants' names (and, before this, deleted ones).
 */
export function genericOrganizationScopesInDiscovery(provider: Provider): void {
  provider.use(async (ctx, next) => {
    await next();
    const body = ctx.body as { scopes_supported?: unknown } | undefined;
    if (ctx.path !== '/.well-known/openid-configuration' || !body || !Array.isArray(body.scopes_supported)) return;
    const generic = (body.scopes_supported as string[]).filter((s) => aliasOfScope(s) === undefined);
    for (const s of [ORGANIZATION_SCOPE, ALL_ORGANIZATIONS_SCOPE]) if (!generic.includes(s)) generic.push(s);
    body.scopes_supported = generic;
  });
}
