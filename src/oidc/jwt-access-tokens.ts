import Provider, { type KoaContextWithOIDC } from 'oidc-provider';
import { createLocalJWKSet, jwtVerify, type JWTPayload } from 'jose';
import { SIGNING_ALGS } from '../model/signing-alg.ts';
import { publicSigningKeys, signingKeyIds } from './internals.ts';

/**
 * Tessera's JWT access tokens at its own endpoints (SPEC 10). A JWT access token is not stored, so
 * on its own it cannot be revoked; a user's token therefore names its grant (`grant_id`), and
 * introspection and userinfo accept it only while that grant stands: an admin logout, a disabled or
 * deleted user, a revoked refresh token (each removes the grant) end it there at once, as they
 * end an opaque token. The grant id gives its holder nothing: every endpoint wants a token.
 */
export const GRANT_CLAIM = 'grant_id';

type Structured = { payload: Record<string, unknown> };

/** `formats.customizers.jwt`: a user's JWT access token carries the id of its grant. */
export function nameGrantInJwt(_ctx: unknown, token: { grantId?: string }, jwt: Structured): void {
  if (token.grantId) jwt.payload[GRANT_CLAIM] = token.grantId;
}

// Answered by introspection from the token's own fields; the rest of the payload is `extra`.
const STANDARD = new Set(['iss', 'sub', 'aud', 'exp', 'iat', 'nbf', 'jti', 'client_id', 'scope', 'cnf', 'authorization_details', GRANT_CLAIM]);

/**
 * Teaches AccessToken.find (used by userinfo and introspection) Tessera's JWT access tokens: one
 * that verifies against the provider's current keys, comes from this issuer, is unexpired, belongs
 * to an existing client and, for a user's token, to a grant that still exists for that client and
 * user. At userinfo it stands for the grant's OpenID scopes (so any access token of a grant
 * holding `openid` reads the claims that grant allows, whatever its audience); at introspection it
 * is the token as issued. Anything else is not found, as an unknown opaque token is.
 */
export function findJwtAccessTokens(provider: Provider): void {
  const AccessToken = provider.AccessToken as unknown as { find(value: string, options?: unknown): Promise<unknown>; new (payload: Record<string, unknown>): unknown };
  const findStored = AccessToken.find.bind(AccessToken);
  let keys: { ids: string; set: ReturnType<typeof createLocalJWKSet> } | undefined;
  const keySet = () => {
    const ids = signingKeyIds(provider).join(' ');
    if (keys?.ids !== ids) keys = { ids, set: createLocalJWKSet({ keys: publicSigningKeys(provider) }) };
    return keys.set;
  };

  async function fromJwt(value: string): Promise<unknown> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(value, keySet(), { issuer: provider.issuer, typ: 'at+jwt', algorithms: SIGNING_ALGS }));
    } catch {
      return undefined;
    }
    const clientId = payload.client_id;
    if (typeof clientId !== 'string' || !(await provider.Client.find(clientId))) return undefined;
    const userinfo = (Provider.ctx as KoaContextWithOIDC | undefined)?.oidc?.route === 'userinfo';
    const grantId = payload[GRANT_CLAIM];
    let grant: InstanceType<Provider['Grant']> | undefined;
    if (typeof grantId === 'string') {
      grant = await provider.Grant.find(grantId);
      if (!grant || grant.clientId !== clientId || grant.accountId !== payload.sub) return undefined;
    } else if (userinfo) {
      return undefined;
    }
    const common = { jti: payload.jti, iat: payload.iat, exp: payload.exp, clientId, ...(grant ? { accountId: payload.sub, grantId } : {}) };
    if (userinfo) return new AccessToken({ ...common, scope: grant!.getOIDCScope() });
    const extra = Object.fromEntries(Object.entries(payload).filter(([k]) => !STANDARD.has(k)));
    return new AccessToken({ ...common, scope: payload.scope, aud: payload.aud, extra });
  }

  AccessToken.find = async (value: string, options?: unknown) => {
    if (typeof value === 'string' && value.split('.').length === 3) return fromJwt(value);
    return findStored(value, options);
  };
}
