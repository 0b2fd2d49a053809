import type Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';
import { splitScope } from '../claims/scopes.ts';

type Scoped = { scope?: string; scopes?: Set<string> };

/**
 * RFC 6749 §5.1: the token response's `scope` is what was granted. oidc-provider answers the
 * access token's scope, which for a resource server's token holds only that server's scopes
 * (`""` when the app asked only for OpenID scopes alongside a resource). Tessera answers both:
 * the OpenID scopes the grant gives this response (the ID token's, offline_access included) and
 * the access token's; an empty list is left out rather than sent as `""`.
 */
export function listGrantedScopes(provider: Provider): void {
  provider.use(async (ctx, next) => {
    await next();
    const oidc = (ctx as KoaContextWithOIDC).oidc;
    const body = ctx.body as Record<string, unknown> | undefined;
    if (oidc?.route !== 'token' || ctx.status !== 200 || !body || typeof body.access_token !== 'string') return;
    const e = oidc.entities as Record<string, Scoped | undefined> & { Grant?: { getOIDCScopeFiltered(s: Set<string>): string } };
    const at = e.AccessToken ?? e.ClientCredentials;
    const source = e.AuthorizationCode ?? e.RefreshToken;
    const asked = oidc.params?.grant_type === 'refresh_token' && oidc.params.scope ? oidc.requestParamScopes : source?.scopes;
    const openid = e.Grant && asked ? splitScope(e.Grant.getOIDCScopeFiltered(asked)) : [];
    const granted = [...new Set([...openid, ...splitScope(at?.scope)])];
    if (granted.length) body.scope = granted.join(' ');
    else delete body.scope;
  });
}
