import { errors, type KoaContextWithOIDC } from 'oidc-provider';
import type Provider from 'oidc-provider';
import type { Database } from '../db/connect.ts';
import { saveGrantContext } from '../storage/grant-context.ts';
import { readSpendableWithClaimSources, type SpendableRead } from '../storage/claim-sources.ts';
import { rememberRead } from '../storage/request-state.ts';
import { unstorableText } from '../model/json.ts';
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
    const code = String(ctx.oidc.params?.code ?? '');
    const preread = await readWithSources('AuthorizationCode', code);
    await prime(ctx, await provider.AuthorizationCode.find(code), preread);
    return original(ctx);
  });

  extendGrantType(provider, 'refresh_token', ['organization'], (original) => async (ctx) => {
    const alias = ctx.oidc.params?.organization as string | undefined;
    if (alias !== undefined) {
      if (!aliasOfScope(`organization:${alias}`)) throw new errors.InvalidRequest('organization must be an organization alias');
      claims.requestSwitch(ctx, alias);
    }
    const value = String(ctx.oidc.params?.refresh_token ?? '');
    const preread = await readWithSources('RefreshToken', value);
    await prime(ctx, await provider.RefreshToken.find(value, { ignoreExpiration: true }), preread);
    await original(ctx);
    if (alias === undefined) return;
    const grantId = (ctx.oidc.entities.RefreshToken as Spendable | undefined)?.grantId;
    const active = await claims.activeOrganization(ctx);
    if (grantId && active) await saveGrantContext(db, grantId, { organization_id: active.id });
  });

  /**
   * The token and its claim sources in one statement. The adapter keeps the token for this request,
   * so the provider's own find (here, and again when it spends it) asks the database nothing.
   */
  async function readWithSources(model: 'AuthorizationCode' | 'RefreshToken', id: string): Promise<SpendableRead | undefined> {
    if (!id || unstorableText(id)) return undefined;
    const read = await readSpendableWithClaimSources(db, model, id);
    rememberRead(model, id, read.payload);
    return read;
  }

  /** Only a token the provider would accept is worth computing claims for; otherwise it answers the error itself. */
  async function prime(ctx: KoaContextWithOIDC, token: Spendable | undefined, preread: SpendableRead | undefined) {
    if (!token || token.clientId !== ctx.oidc.client?.clientId || token.isExpired || token.consumed) return;
    const resource = typeof token.resource === 'string' ? token.resource : undefined;
    await claims.prime(ctx, { accountId: token.accountId, grantId: token.grantId, scope: token.scope, ...(resource ? { resourceServer: { audience: resource } } : {}) }, preread);
  }
}
