import { errors, type KoaContextWithOIDC } from 'oidc-provider';
import type Provider from 'oidc-provider';
import type { Database } from '../db/connect.ts';
import { saveGrantContext } from '../storage/grant-context.ts';
import { aliasOfScope } from '../claims/scopes.ts';
import { extendGrantType } from './internals.ts';
import type { TokenClaims } from './token-claims.ts';

type Spendable = { clientId?: string; accountId?: string; grantId?: string; scope?: string; resource?: string | string[]; isExpired?: boolean; consumed?: unknown };

/**
 * oidc-provider spends the code or refresh token before it builds the access token. A refused
 * organization switch or a failing payload hook would then leave the app with a spent refresh
 * token and no new one (and its next try would look like a replay and revoke the grant). So the
 * claims of the response are computed first, from the unspent token; only then is it spent.
 *
 * refresh_token also takes `organization=<alias>` (SPEC 3): tokens for that organization without a
 * new login. The grant remembers the new organization once the tokens were issued.
 */
export function computeClaimsBeforeSpending(provider: Provider, db: Database, claims: TokenClaims): void {
  extendGrantType(provider, 'authorization_code', [], (original) => async (ctx) => {
    await prime(ctx, await provider.AuthorizationCode.find(String(ctx.oidc.params?.code ?? '')));
    return original(ctx);
  });

  extendGrantType(provider, 'refresh_token', ['organization'], (original) => async (ctx) => {
    const alias = ctx.oidc.params?.organization as string | undefined;
    if (alias !== undefined) {
      if (!aliasOfScope(`organization:${alias}`)) throw new errors.InvalidRequest('organization must be an organization alias');
      claims.requestSwitch(ctx, alias);
    }
    await prime(ctx, await provider.RefreshToken.find(String(ctx.oidc.params?.refresh_token ?? ''), { ignoreExpiration: true }));
    await original(ctx);
    if (alias === undefined) return;
    const grantId = (ctx.oidc.entities.RefreshToken as Spendable | undefined)?.grantId;
    const active = await claims.activeOrganization(ctx);
    if (grantId && active) await saveGrantContext(db, grantId, { organization_id: active.id });
  });

  /** Only a token the provider would accept is worth computing claims for; otherwise it answers the error itself. */
  async function prime(ctx: KoaContextWithOIDC, token: Spendable | undefined) {
    if (!token || token.clientId !== ctx.oidc.client?.clientId || token.isExpired || token.consumed) return;
    const resource = typeof token.resource === 'string' ? token.resource : undefined;
    await claims.prime(ctx, { accountId: token.accountId, grantId: token.grantId, scope: token.scope, ...(resource ? { resourceServer: { audience: resource } } : {}) });
  }
}
