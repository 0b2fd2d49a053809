import type Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { TokenClaims } from './token-claims.ts';

/**
 * oidc-provider builds an ID token's claims from the account's scope-filtered claims; Tessera adds
 * its own after that filtering (Hasura, requested_scope, the payload hook's claims), under the
 * naming rules. Only ID tokens issued at the token endpoint are touched.
 */
export function addTokenClaimsToIdTokens(provider: Provider, claims: TokenClaims): void {
  const proto = provider.IdToken.prototype as unknown as { payload(): Promise<Record<string, unknown>>; ctx?: KoaContextWithOIDC };
  const original = proto.payload;
  proto.payload = async function payload(this: typeof proto) {
    const present = await original.call(this);
    if (!this.ctx || this.ctx.oidc.route !== 'token') return present;
    return { ...present, ...(await claims.forIdToken(this.ctx, present)) };
  };
}
