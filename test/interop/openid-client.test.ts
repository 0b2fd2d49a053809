import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as oidc from 'openid-client';
import { createRemoteJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose';
import { startTestServer, type TestServer } from '../support/server.ts';
import { aClient, aResourceServer, aUser, authorizationRequest, relyingParty, unique } from '../support/fixtures.ts';
import { signIn, UserAgent } from '../support/browserless.ts';
import { adminApi } from '../support/admin.ts';
import { createResourceServer } from '../../src/storage/resource-servers.ts';
import { createOrganization, putMembership } from '../../src/storage/organizations.ts';

/** openid-client with its defaults against Tessera (SPEC 10); one server for the file. */
let server: TestServer;
let admin: Awaited<ReturnType<typeof adminApi>>;
before(async () => {
  server = await startTestServer({ TESSERA_KEYS_REFRESH_S: '30' });
  admin = await adminApi(server);
});
after(async () => server.stop());

const PASSWORD = 'correct horse battery';
/** What openid-client throws for a 401 with an `invalid_token` challenge. */
const unauthorized = (e: { response?: Response; cause?: Array<{ parameters?: { error?: string } }> }) => e.response?.status === 401 && e.cause?.[0]?.parameters?.error === 'invalid_token';

async function codeFlow(config: oidc.Configuration, username: string, params: Record<string, string>, agent = new UserAgent()) {
  const req = await authorizationRequest(config, params);
  const landed = await signIn(req.url, server.issuer, username, PASSWORD, agent);
  const tokens = await oidc.authorizationCodeGrant(config, new URL(landed.url), { pkceCodeVerifier: req.verifier, expectedState: req.state });
  return { tokens, agent };
}

/** A resource server's client and its API (a confidential client allowed to introspect its tokens). */
async function apiSetup(scope = 'openid email offline_access read') {
  const rs = await aResourceServer(server.db);
  const client = await aClient(server.db, { scope, allowed_resources: [rs.identifier], default_resource: rs.identifier });
  const config = await relyingParty(server.issuer, client.client_id, client.client_secret);
  const api = await aClient(server.db, { grant_types: ['client_credentials'], redirect_uris: [], scope: 'read', allowed_resources: [rs.identifier] });
  const apiConfig = await relyingParty(server.issuer, api.client_id, api.client_secret);
  return { rs, client, config, apiConfig };
}

test('userinfo answers the JWT access token of a default_resource client with the claims its grant allows', async () => {
  const user = await aUser(server.db);
  const { rs, config } = await apiSetup();
  const { tokens } = await codeFlow(config, user.username, { scope: 'openid email read' });
  const at = decodeJwt(tokens.access_token);
  assert.equal(at.aud, rs.identifier, 'the access token is the API one');
  const info = await oidc.fetchUserInfo(config, tokens.access_token, user.id);
  assert.equal(info.sub, user.id);
  assert.equal(info.email, 'someone@example.com');
  assert.equal('name' in info, false, 'profile was not granted');
  assert.equal('grant_id' in info, false);
});

test('the token response lists what was granted, OpenID scopes included, and never an empty scope', async () => {
  const user = await aUser(server.db);
  const { config } = await apiSetup();
  const onlyOpenId = await codeFlow(config, user.username, { scope: 'openid email' });
  assert.equal(onlyOpenId.tokens.scope, 'openid email');
  const both = await codeFlow(config, user.username, { scope: 'openid email offline_access read', prompt: 'consent' }, onlyOpenId.agent);
  assert.deepEqual(both.tokens.scope!.split(' ').sort(), ['email', 'offline_access', 'openid', 'read']);
  const refreshed = await oidc.refreshTokenGrant(config, both.tokens.refresh_token!);
  assert.deepEqual(refreshed.scope!.split(' ').sort(), ['email', 'offline_access', 'openid', 'read']);
});

test('an API introspects its JWT access tokens: active while the grant stands, inactive once revoked, signed out, disabled or deleted', async () => {
  const { config, apiConfig, rs } = await apiSetup();
  const ended: Array<[string, (userId: string, tokens: oidc.TokenEndpointResponse) => Promise<unknown>]> = [
    ['refresh token revoked', (_u, t) => oidc.tokenRevocation(config, t.refresh_token!)],
    ['admin logout', (u) => admin.api('POST', `/users/${u}/logout`)],
    ['user disabled', (u) => admin.api('PATCH', `/users/${u}`, { body: { enabled: false } })],
    ['user deleted', (u) => admin.api('DELETE', `/users/${u}`)],
  ];
  for (const [how, end] of ended) {
    const user = await aUser(server.db);
    const { tokens } = await codeFlow(config, user.username, { scope: 'openid email offline_access read', prompt: 'consent' });
    const active = await oidc.tokenIntrospection(apiConfig, tokens.access_token);
    assert.equal(active.active, true, how);
    assert.equal(active.sub, user.id);
    assert.equal(active.aud, rs.identifier);
    assert.equal(active.scope, 'read');
    assert.equal(active.token_type, 'Bearer');
    assert.equal('grant_id' in active, false);
    await end(user.id, tokens);
    assert.deepEqual(await oidc.tokenIntrospection(apiConfig, tokens.access_token), { active: false }, how);
    await assert.rejects(oidc.fetchUserInfo(config, tokens.access_token, user.id), unauthorized, `userinfo after ${how}`);
  }
});

test('a JWT that Tessera did not sign, or that names another grant, is not active', async () => {
  const user = await aUser(server.db);
  const { config, apiConfig } = await apiSetup();
  const { tokens } = await codeFlow(config, user.username, { scope: 'openid email read' });
  const [h, p, s] = tokens.access_token.split('.');
  const forged = JSON.parse(Buffer.from(p!, 'base64url').toString());
  forged.sub = (await aUser(server.db)).id;
  const tampered = `${h}.${Buffer.from(JSON.stringify(forged)).toString('base64url')}.${s}`;
  assert.deepEqual(await oidc.tokenIntrospection(apiConfig, tampered), { active: false });
  await assert.rejects(oidc.fetchUserInfo(config, tampered, forged.sub), unauthorized);
});

test('a resource server with a plain-name audience and RS256: aud is the name, the token verifies against /jwks, and its API can introspect it', async () => {
  const rs = await createResourceServer(server.db, { identifier: `urn:${unique('openfga')}`, audience: unique('openfga'), scopes: ['check'], signing_alg: 'RS256' });
  const client = await aClient(server.db, { grant_types: ['client_credentials'], redirect_uris: [], scope: 'check', allowed_resources: [rs.identifier] });
  const config = await relyingParty(server.issuer, client.client_id, client.client_secret);
  const tokens = await oidc.clientCredentialsGrant(config, { scope: 'check', resource: rs.identifier });
  assert.equal(decodeProtectedHeader(tokens.access_token).alg, 'RS256');
  const { payload } = await jwtVerify(tokens.access_token, createRemoteJWKSet(new URL(`${server.issuer}/jwks`)), { issuer: server.issuer, audience: rs.audience, typ: 'at+jwt' });
  assert.equal(payload.scope, 'check');
  const api = await aClient(server.db, { grant_types: ['client_credentials'], redirect_uris: [], scope: 'check', allowed_resources: [rs.identifier] });
  const introspected = await oidc.tokenIntrospection(await relyingParty(server.issuer, api.client_id, api.client_secret), tokens.access_token);
  assert.equal(introspected.active, true);
  assert.equal(introspected.aud, rs.audience);
});

test('a client registered for RS256 gets RS256 ID tokens; discovery advertises only the algorithms Tessera has keys for', async () => {
  const user = await aUser(server.db);
  const client = await aClient(server.db, { scope: 'openid email', id_token_signed_response_alg: 'RS256' });
  const config = await oidc.discovery(new URL(server.issuer), client.client_id, { id_token_signed_response_alg: 'RS256', client_secret: client.client_secret! }, oidc.ClientSecretBasic(client.client_secret!), { execute: [oidc.allowInsecureRequests] });
  const { tokens } = await codeFlow(config, user.username, { scope: 'openid email' });
  assert.equal(decodeProtectedHeader(tokens.id_token!).alg, 'RS256');
  assert.deepEqual(config.serverMetadata().id_token_signing_alg_values_supported, ['ES256', 'RS256']);
});

test('offline_access consented on the consent page yields a refresh token without prompt=consent, and the next sign-in asks nothing', async () => {
  const user = await aUser(server.db);
  const client = await aClient(server.db, { scope: 'openid profile offline_access' });
  const config = await relyingParty(server.issuer, client.client_id, client.client_secret);
  const agent = new UserAgent();
  const req = await authorizationRequest(config, { scope: 'openid profile offline_access' });
  let step = await agent.follow(req.url, server.issuer);
  step = await agent.submit(step.url, step.body!, /\/login"/, { username: user.username, password: PASSWORD }, server.issuer);
  assert.match(step.body!, /<li>Stay signed in<\/li>/, 'the consent page asks for offline access');
  step = await agent.submit(step.url, step.body!, /\/confirm"/, {}, server.issuer);
  const first = await oidc.authorizationCodeGrant(config, new URL(step.url), { pkceCodeVerifier: req.verifier, expectedState: req.state });
  assert.ok(first.refresh_token, 'a refresh token after consent');
  assert.match(first.scope!, /offline_access/);

  const again = await authorizationRequest(config, { scope: 'openid profile offline_access' });
  const landed = await agent.follow(again.url, server.issuer);
  assert.match(landed.url, /^https:\/\/app\.test\/cb\?code=/, 'no page this time');
  const second = await oidc.authorizationCodeGrant(config, new URL(landed.url), { pkceCodeVerifier: again.verifier, expectedState: again.state });
  assert.ok(second.refresh_token);
  assert.ok((await oidc.refreshTokenGrant(config, second.refresh_token!)).access_token);
});

test('a silent request (prompt=none) never becomes consent_required for offline_access it was not granted', async () => {
  const user = await aUser(server.db);
  const client = await aClient(server.db, { scope: 'openid profile offline_access' });
  const config = await relyingParty(server.issuer, client.client_id, client.client_secret);
  const { agent } = await codeFlow(config, user.username, { scope: 'openid profile' });
  const silent = await authorizationRequest(config, { scope: 'openid profile offline_access', prompt: 'none' });
  const landed = await agent.follow(silent.url, server.issuer);
  const tokens = await oidc.authorizationCodeGrant(config, new URL(landed.url), { pkceCodeVerifier: silent.verifier, expectedState: silent.state });
  assert.equal(tokens.refresh_token, undefined);
});

test('a first-party client: no consent page, offline_access granted when asked for', async () => {
  const user = await aUser(server.db);
  const rs = await aResourceServer(server.db);
  const client = await aClient(server.db, { scope: 'openid profile offline_access read', first_party: true, allowed_resources: [rs.identifier] });
  const config = await relyingParty(server.issuer, client.client_id, client.client_secret);
  const agent = new UserAgent();
  const req = await authorizationRequest(config, { scope: 'openid profile offline_access read', resource: rs.identifier });
  let step = await agent.follow(req.url, server.issuer);
  step = await agent.submit(step.url, step.body!, /\/login"/, { username: user.username, password: PASSWORD }, server.issuer);
  assert.match(step.url, /^https:\/\/app\.test\/cb\?code=/, 'straight back to the app after the login page');
  const tokens = await oidc.authorizationCodeGrant(config, new URL(step.url), { pkceCodeVerifier: req.verifier, expectedState: req.state }, { resource: rs.identifier });
  assert.ok(tokens.refresh_token);
  assert.equal(decodeJwt(tokens.access_token).scope, 'read');
});

test('organization:<alias> for an organization that does not exist is access_denied, like a non-member', async () => {
  const user = await aUser(server.db);
  const client = await aClient(server.db, { scope: 'openid organization' });
  const config = await relyingParty(server.issuer, client.client_id, client.client_secret);
  const req = await authorizationRequest(config, { scope: `openid ${unique('organization:nope')}`, prompt: 'consent' });
  const landed = await signIn(req.url, server.issuer, user.username, PASSWORD);
  assert.equal(new URL(landed.url).searchParams.get('error'), 'access_denied', landed.url);
});

test('consent to organization covers switching by organization:<alias> with prompt=none', async () => {
  const acme = await createOrganization(server.db, { alias: unique('acme'), name: 'Acme' });
  const beta = await createOrganization(server.db, { alias: unique('beta'), name: 'Beta' });
  const user = await aUser(server.db);
  await putMembership(server.db, acme.id, user.id, { roles: ['admin'] });
  await putMembership(server.db, beta.id, user.id, { roles: ['viewer'] });
  const client = await aClient(server.db, { scope: 'openid organization' });
  const config = await relyingParty(server.issuer, client.client_id, client.client_secret);
  const agent = new UserAgent();
  const req = await authorizationRequest(config, { scope: 'openid organization', prompt: 'consent' });
  let step = await agent.follow(req.url, server.issuer);
  step = await agent.submit(step.url, step.body!, /\/login"/, { username: user.username, password: PASSWORD }, server.issuer);
  step = await agent.submit(step.url, step.body!, /\/organization"/, { organization: acme.alias }, server.issuer);
  step = await agent.submit(step.url, step.body!, /\/confirm"/, {}, server.issuer);
  const first = await oidc.authorizationCodeGrant(config, new URL(step.url), { pkceCodeVerifier: req.verifier, expectedState: req.state });
  assert.deepEqual(Object.keys(first.claims()!.organization as object), [acme.alias]);

  const sw = await authorizationRequest(config, { scope: `openid organization:${beta.alias}`, prompt: 'none' });
  const landed = await agent.follow(sw.url, server.issuer);
  assert.equal(new URL(landed.url).searchParams.get('error'), null, landed.url);
  const switched = await oidc.authorizationCodeGrant(config, new URL(landed.url), { pkceCodeVerifier: sw.verifier, expectedState: sw.state });
  assert.deepEqual(Object.keys(switched.claims()!.organization as object), [beta.alias]);
});

/** A native app's loopback listener on an ephemeral port: it receives the redirect, as the app would. */
async function loopbackListener() {
  let received!: (url: string) => void;
  const got = new Promise<string>((r) => (received = r));
  const srv = http.createServer((req, res) => {
    received(`http://127.0.0.1:${(srv.address() as AddressInfo).port}${req.url}`);
    res.end('You can close this window.');
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return { port: (srv.address() as AddressInfo).port, got, close: () => new Promise((r) => srv.close(r)) };
}

for (const kind of ['private-use scheme', 'loopback on an ephemeral port'] as const) {
  test(`a native app with a ${kind} redirect signs in with PKCE and refreshes`, async () => {
    const user = await aUser(server.db);
    const listener = kind === 'loopback on an ephemeral port' ? await loopbackListener() : undefined;
    const registered = listener ? 'http://127.0.0.1/callback' : `com.example.${unique('app').replace('-', '')}:/oauth2redirect`;
    const created = await admin.api('POST', '/clients', { body: { client_name: 'Phone app', token_endpoint_auth_method: 'none', redirect_uris: [registered], scope: 'openid profile offline_access' } });
    assert.equal(created.status, 201, JSON.stringify(created.json));
    assert.equal(created.json.application_type, 'native', 'inferred from the redirect URI');
    const config = await relyingParty(server.issuer, created.json.client_id, null);
    const redirectUri = listener ? `http://127.0.0.1:${listener.port}/callback` : registered;

    const withoutPkce = oidc.buildAuthorizationUrl(config, { redirect_uri: redirectUri, scope: 'openid', state: 'x' });
    const refused = await new UserAgent().follow(withoutPkce.href, server.issuer);
    assert.match(refused.url, /error=invalid_request/, 'PKCE stays required');

    const verifier = oidc.randomPKCECodeVerifier();
    const url = oidc.buildAuthorizationUrl(config, { redirect_uri: redirectUri, scope: 'openid profile offline_access', code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', state: 'st' });
    const landed = await signIn(url.href, server.issuer, user.username, PASSWORD);
    let final = landed.url;
    if (listener) {
      await fetch(landed.url);
      final = await listener.got;
      await listener.close();
    }
    assert.ok(final.startsWith(`${redirectUri}?`), final);
    const tokens = await oidc.authorizationCodeGrant(config, new URL(final), { pkceCodeVerifier: verifier, expectedState: 'st' });
    assert.equal(tokens.claims()!.sub, user.id);
    assert.ok(tokens.refresh_token);
    assert.ok((await oidc.refreshTokenGrant(config, tokens.refresh_token!)).access_token);
  });
}

test('allowed_origins: a browser at a listed origin may call the token endpoint, another origin may not', async () => {
  const user = await aUser(server.db);
  const client = await aClient(server.db, { token_endpoint_auth_method: 'none', scope: 'openid offline_access', allowed_origins: ['https://spa.example.test'] });
  const config = await relyingParty(server.issuer, client.client_id, null);
  const { tokens } = await codeFlow(config, user.username, { scope: 'openid offline_access', prompt: 'consent' });
  const refresh = (origin: string, token: string) =>
    fetch(`${server.issuer}/token`, { method: 'POST', headers: { origin, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: token, client_id: client.client_id }) });
  const other = await refresh('https://evil.example.test', tokens.refresh_token!);
  assert.equal(other.headers.get('access-control-allow-origin'), null);
  assert.equal(other.status, 400);
  const listed = await refresh('https://spa.example.test', tokens.refresh_token!);
  assert.equal(listed.status, 200);
  assert.equal(listed.headers.get('access-control-allow-origin'), 'https://spa.example.test');
});

test('/jwks and discovery may be cached no longer than the key refresh interval', async () => {
  for (const path of ['/jwks', '/.well-known/openid-configuration']) {
    const res = await fetch(`${server.issuer}${path}`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('cache-control'), 'public, max-age=30', path);
  }
});

test('a client registered for signed userinfo and introspection answers gets JWTs signed with its algorithm', async () => {
  const user = await aUser(server.db);
  const rs = await aResourceServer(server.db);
  const client = await aClient(server.db, { scope: 'openid email read', allowed_resources: [rs.identifier], userinfo_signed_response_alg: 'RS256', introspection_signed_response_alg: 'ES256' });
  const config = await relyingParty(server.issuer, client.client_id, client.client_secret);
  const { tokens } = await codeFlow(config, user.username, { scope: 'openid email' });
  const me = await fetch(`${server.issuer}/me`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
  assert.match(me.headers.get('content-type')!, /^application\/jwt/);
  const userinfo = await me.text();
  assert.equal(decodeProtectedHeader(userinfo).alg, 'RS256');
  assert.equal(decodeJwt(userinfo).email, 'someone@example.com');
  const introspected = await fetch(`${server.issuer}/token/introspection`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`${client.client_id}:${client.client_secret}`).toString('base64')}`, accept: 'application/token-introspection+jwt', 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token: tokens.access_token }),
  });
  const signed = await introspected.text();
  assert.equal(decodeProtectedHeader(signed).alg, 'ES256');
  assert.equal((decodeJwt(signed).token_introspection as { active: boolean }).active, true);
});
