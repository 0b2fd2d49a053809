import * as oidc from 'openid-client';
import type { DemoSettings } from './settings.ts';

export type Tokens = oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers;
export type PendingSignIn = { verifier: string; state: string };

/** The demo's side of OpenID Connect, through openid-client: code flow with PKCE, refresh, userinfo. */
export function relyingParty(settings: DemoSettings) {
  const redirectUri = `${settings.baseUrl}/callback`;
  let discovered: Promise<oidc.Configuration> | undefined;

  // Discovered at first use (Tessera may start after the demo) and again after a failure.
  function configuration(): Promise<oidc.Configuration> {
    discovered ??= oidc
      .discovery(
        new URL(settings.issuer),
        settings.clientId,
        // Tessera signs ID tokens with ES256 unless the client was registered for RS256.
        { id_token_signed_response_alg: 'ES256', ...(settings.clientSecret ? { client_secret: settings.clientSecret } : {}) },
        settings.clientSecret ? oidc.ClientSecretBasic(settings.clientSecret) : oidc.None(),
        // A local issuer on plain http (http://localhost:3000) is what the walkthrough uses.
        new URL(settings.issuer).protocol === 'http:' ? { execute: [oidc.allowInsecureRequests] } : undefined,
      )
      .catch((err: unknown) => {
        discovered = undefined;
        throw err;
      });
    return discovered;
  }

  return {
    async signInUrl(extra: Record<string, string> = {}): Promise<{ url: string; pending: PendingSignIn }> {
      const verifier = oidc.randomPKCECodeVerifier();
      const state = oidc.randomState();
      const url = oidc.buildAuthorizationUrl(await configuration(), {
        redirect_uri: redirectUri,
        scope: settings.scope,
        code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
        state,
        ...extra,
      });
      return { url: url.href, pending: { verifier, state } };
    },
    async callback(currentUrl: URL, pending: PendingSignIn): Promise<Tokens> {
      return oidc.authorizationCodeGrant(await configuration(), currentUrl, { pkceCodeVerifier: pending.verifier, expectedState: pending.state });
    },
    /** A refresh; with `organization` it switches the grant's active organization (Tessera's refresh parameter). */
    async refresh(refreshToken: string, organization?: string): Promise<Tokens> {
      return oidc.refreshTokenGrant(await configuration(), refreshToken, organization ? { organization } : undefined);
    },
    async userinfo(tokens: Tokens): Promise<oidc.UserInfoResponse> {
      const sub = tokens.claims()?.sub ?? oidc.skipSubjectCheck;
      return oidc.fetchUserInfo(await configuration(), tokens.access_token, sub);
    },
  };
}

export type RelyingParty = ReturnType<typeof relyingParty>;
