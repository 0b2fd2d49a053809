import { errors } from 'oidc-provider';
import type Provider from 'oidc-provider';
import { currentUnit } from '../storage/unit-of-work.ts';
import { aliasOfScope } from '../claims/scopes.ts';
import { extendGrantType } from './internals.ts';
import type { TokenClaims } from './token-claims.ts';

/**
 * refresh_token also takes `organization=<alias>` (SPEC 3): tokens for that organization without a
 * new login. The grant remembers the new organization with the rest of the refresh, in its unit of
 * work (token-unit-of-work.ts): a refresh that fails switches nothing.
 */
export function acceptOrganizationSwitch(provider: Provider, claims: TokenClaims): void {
  extendGrantType(provider, 'refresh_token', ['organization'], (original) => async (ctx) => {
    const alias = ctx.oidc.params?.organization as string | undefined;
    if (alias === undefined) return original(ctx);
    if (!aliasOfScope(`organization:${alias}`)) throw new errors.InvalidRequest('organization must be an organization alias');
    claims.requestSwitch(ctx, alias);
    await original(ctx);
    const grantId = (ctx.oidc.entities.RefreshToken as { grantId?: string } | undefined)?.grantId;
    const active = await claims.activeOrganization(ctx);
    const unit = currentUnit();
    if (grantId && active && unit) unit.grantContext = { grant_id: grantId, organization_id: active.id };
  });
}
