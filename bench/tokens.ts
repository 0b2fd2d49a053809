/**
 * Real refresh tokens to start the rotating chains from. For Tessera they come from real code flows
 * through the login and consent pages (openid-client as the app, a form-filling user agent as the
 * person); the baseline makes its own grants in its process.
 */
import * as oidc from 'openid-client';
import { signIn } from '../test/support/browserless.ts';
import { BENCH } from './setup.ts';

export type AppClient = { id: string; secret: string };

async function relyingParty(issuer: string, client: AppClient) {
  return oidc.discovery(new URL(issuer), client.id, { id_token_signed_response_alg: 'ES256', client_secret: client.secret }, oidc.ClientSecretBasic(client.secret), {
    execute: [oidc.allowInsecureRequests],
  });
}

/** One code flow: sign in, consent, exchange the code; returns the refresh token. */
async function codeFlow(config: oidc.Configuration, issuer: string, username: string, scope: string): Promise<string> {
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: BENCH.redirectUri,
    scope,
    prompt: 'consent',
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
  });
  const landed = await signIn(url.href, issuer, username, BENCH.password);
  if (!landed.url.startsWith(BENCH.redirectUri)) throw new Error(`the code flow for ${username} ended at ${landed.url}: ${landed.body?.slice(0, 300)}`);
  const tokens = await oidc.authorizationCodeGrant(config, new URL(landed.url), { pkceCodeVerifier: verifier, expectedState: state });
  if (!tokens.refresh_token) throw new Error(`no refresh token for ${scope}`);
  return tokens.refresh_token;
}

/** `n` refresh tokens of `client` for `username`, each from its own code flow (4 at a time). */
export async function tesseraRefreshTokens(issuer: string, client: AppClient, username: string, scope: string, n: number): Promise<string[]> {
  const config = await relyingParty(issuer, client);
  const out: string[] = [];
  const worker = async () => {
    while (out.length < n) {
      out.push('');
      const i = out.length - 1;
      out[i] = await codeFlow(config, issuer, username, scope);
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
  return out.slice(0, n);
}

export async function baselineRefreshTokens(url: string, n: number): Promise<string[]> {
  const res = await fetch(`${url}/bench/refresh-tokens?n=${n}`, { method: 'POST', signal: AbortSignal.timeout(60_000) });
  if (res.status !== 200) throw new Error(`the baseline made no refresh tokens: ${res.status} ${await res.text()}`);
  return (await res.json()) as string[];
}

/** A client_credentials access token (the opaque one for introspection, the admin one for the admin API). */
export async function clientCredentialsToken(url: string, client: AppClient, params: Record<string, string>): Promise<string> {
  const res = await fetch(`${url}/token`, {
    method: 'POST',
    headers: { authorization: basic(client), 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', ...params }).toString(),
    signal: AbortSignal.timeout(30_000),
  });
  const body = (await res.json()) as { access_token?: string };
  if (!body.access_token) throw new Error(`no client_credentials token from ${url}: ${JSON.stringify(body)}`);
  return body.access_token;
}

export const basic = (client: AppClient) => `Basic ${Buffer.from(`${encodeURIComponent(client.id)}:${encodeURIComponent(client.secret)}`).toString('base64')}`;
