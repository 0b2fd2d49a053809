import type { Middleware } from 'koa';
import type Provider from 'oidc-provider';
import type { Database } from '../db/connect.ts';
import { findClientForRequest } from '../storage/clients.ts';
import { splitScope } from '../claims/scopes.ts';
import { Problem } from './problem.ts';

export type AdminScope = 'admin' | 'admin:privileges';

/**
 * Bearer tokens from Tessera's own token endpoint (client_credentials with scope `admin` or
 * `admin:privileges`), looked up at every request: a revoked or expired token stops at once. The
 * token's client is looked up too (the request-path cache, forgotten at once by every change made
 * on this instance): a deleted client's tokens stop working, and a token keeps only the scopes its
 * client is still allowed, so reducing a client's scope takes the admin API away from its tokens.
 */
export function adminAuth(provider: Provider, db: Database): Middleware {
  return async (ctx, next) => {
    const match = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/.exec(ctx.get('authorization'));
    const challenge = { 'www-authenticate': 'Bearer realm="tessera-admin"' };
    if (!match) throw new Problem(401, 'Unauthorized', 'send a bearer token obtained by client_credentials with scope admin', undefined, challenge);
    const token = await provider.ClientCredentials.find(match[1]!);
    if (!token || token.isExpired) throw new Problem(401, 'Unauthorized', 'the bearer token is unknown or expired', undefined, { 'www-authenticate': 'Bearer realm="tessera-admin", error="invalid_token"' });
    const client = token.clientId ? await findClientForRequest(db, token.clientId) : undefined;
    if (!client) throw new Problem(401, 'Unauthorized', 'the client of this bearer token no longer exists', undefined, { 'www-authenticate': 'Bearer realm="tessera-admin", error="invalid_token"' });
    const allowed = new Set(splitScope(client.scope));
    const scopes = new Set(splitScope(String(token.scope ?? '')).filter((s) => allowed.has(s)));
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
