import type { Middleware } from 'koa';
import type Provider from 'oidc-provider';
import { Problem } from './problem.ts';

export type AdminScope = 'admin' | 'admin:privileges';

/**
 * Bearer tokens from Tessera's own token endpoint (client_credentials with scope `admin` or
 * `admin:privileges`), looked up at every request: a revoked or expired token stops at once.
 */
export function adminAuth(provider: Provider): Middleware {
  return async (ctx, next) => {
    const match = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/.exec(ctx.get('authorization'));
    const challenge = { 'www-authenticate': 'Bearer realm="tessera-admin"' };
    if (!match) throw new Problem(401, 'Unauthorized', 'send a bearer token obtained by client_credentials with scope admin', undefined, challenge);
    const token = await provider.ClientCredentials.find(match[1]!);
    if (!token || token.isExpired) throw new Problem(401, 'Unauthorized', 'the bearer token is unknown or expired', undefined, { 'www-authenticate': 'Bearer realm="tessera-admin", error="invalid_token"' });
    const scopes = new Set(String(token.scope ?? '').split(' '));
    ctx.state.admin = { clientId: token.clientId, scopes };
    await next();
  };
}

/** The scopes that open a route: `admin` opens everything. */
export function requireScope(...accepted: AdminScope[]): Middleware {
  return async (ctx, next) => {
    const scopes = ctx.state.admin?.scopes as Set<string> | undefined;
    if (!scopes || (!scopes.has('admin') && !accepted.some((s) => scopes.has(s)))) {
      throw new Problem(403, 'Forbidden', `this needs a token with scope ${['admin', ...accepted.filter((s) => s !== 'admin')].join(' or ')}`, undefined, {
        'www-authenticate': 'Bearer realm="tessera-admin", error="insufficient_scope"',
      });
    }
    await next();
  };
}
