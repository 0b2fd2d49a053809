import { randomUUID } from 'node:crypto';
import * as oidc from 'openid-client';
import type { Database } from '../../src/db/connect.ts';
import { createUser } from '../../src/storage/users.ts';
import { DEFAULT_PASSWORD_HASHING, hashPassword } from '../../src/auth/password.ts';

/** Users made by tests are hashed as the server hashes them. */
export const testPasswordHash = (password: string) => hashPassword(password, DEFAULT_PASSWORD_HASHING);
import { createClient } from '../../src/storage/clients.ts';
import { createResourceServer } from '../../src/storage/resource-servers.ts';
import type { NewClient } from '../../src/model/client.ts';

export const REDIRECT_URI = 'https://app.test/cb';

/** A unique suffix so tests sharing one PostgreSQL database never collide. */
export const unique = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`;

export async function aUser(db: Database, password = 'correct horse battery', extra: Record<string, unknown> = {}) {
  return createUser(db, { username: unique('user'), password, email: 'someone@example.com', email_verified: true, name: 'Some One', ...extra }, testPasswordHash);
}

export async function aClient(db: Database, input: Partial<NewClient> = {}) {
  return createClient(db, {
    client_name: 'Test app',
    redirect_uris: [REDIRECT_URI],
    post_logout_redirect_uris: ['https://app.test/bye'],
    grant_types: ['authorization_code', 'refresh_token'],
    ...input,
  });
}

export async function aResourceServer(db: Database, format: 'jwt' | 'opaque' = 'jwt') {
  return createResourceServer(db, { identifier: `https://${unique('api')}.example.test`, scopes: ['read', 'write'], access_token_format: format });
}

/** openid-client's view of a client, discovered from the running issuer (plain http on loopback). */
export async function relyingParty(issuer: string, clientId: string, secret: string | null) {
  return oidc.discovery(
    new URL(issuer),
    clientId,
    { id_token_signed_response_alg: 'ES256', ...(secret ? { client_secret: secret } : {}) },
    secret ? oidc.ClientSecretBasic(secret) : oidc.None(),
    { execute: [oidc.allowInsecureRequests] },
  );
}

/** Builds an authorization URL with PKCE and state; returns what the callback needs. */
export async function authorizationRequest(config: oidc.Configuration, params: Record<string, string>) {
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT_URI,
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    ...params,
  });
  return { url: url.href, verifier, state };
}
