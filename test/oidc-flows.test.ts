import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import { createRemoteJWKSet, jwtVerify, decodeProtectedHeader } from 'jose';
import { startTestServer, type TestServer } from './support/server.ts';
import { aClient, aResourceServer, aUser, authorizationRequest, relyingParty, REDIRECT_URI } from './support/fixtures.ts';
import { signIn } from './support/browserless.ts';

let server: TestServer;
before(async () => {
  server = await startTestServer();
});
after(async () => server.stop());

describe('discovery', () => {
  test('advertises the standard endpoints, code flow only, S256 PKCE', async () => {
    const client = await aClient(server.db);
    const config = await relyingParty(server.issuer, client.client_id, client.client_secret);
    const meta = config.serverMetadata();
    assert.equal(meta.issuer, server.issuer);
    for (const endpoint of ['authorization_endpoint', 'token_endpoint', 'userinfo_endpoint', 'jwks_uri', 'introspection_endpoint', 'revocation_endpoint', 'end_session_endpoint'] as const) {
      assert.ok(meta[endpoint]?.startsWith(server.issuer), `${endpoint} advertised`);
    }
    assert.deepEqual(meta.response_types_supported, ['code']);
    assert.deepEqual(meta.code_challenge_methods_supported, ['S256']);
    assert.ok(meta.grant_types_supported?.includes('client_credentials'));
    assert.ok(meta.id_token_signing_alg_values_supported?.includes('ES256'));
  });
});

describe('client credentials', () => {
  test('a JWT access token (RFC 9068) for the resource server, verified against the JWKS', async () => {
    const rs = await aResourceServer(server.db);
    const client = await aClient(server.db, { grant_types: ['client_credentials'], redirect_uris: [], allowed_resources: [rs.identifier] });
    const config = await relyingParty(server.issuer, client.client_id, client.client_secret);
    const tokens = await oidc.clientCredentialsGrant(config, { scope: 'read', resource: rs.identifier });
    assert.equal(tokens.token_type.toLowerCase(), 'bearer');
    const jwks = createRemoteJWKSet(new URL(config.serverMetadata().jwks_uri!));
    const { payload, protectedHeader } = await jwtVerify(tokens.access_token, jwks, {
      issuer: server.issuer,
      audience: rs.identifier,
      typ: 'at+jwt',
      algorithms: ['ES256'],
    });
    assert.equal(protectedHeader.alg, 'ES256');
    assert.equal(payload.client_id, client.client_id);
    assert.equal(payload.scope, 'read');
    assert.ok(typeof payload.exp === 'number' && payload.exp > Date.now() / 1000);
  });

  test('the default_resource applies when the request names none', async () => {
    const rs = await aResourceServer(server.db);
    const client = await aClient(server.db, { grant_types: ['client_credentials'], redirect_uris: [], allowed_resources: [rs.identifier], default_resource: rs.identifier });
    const config = await relyingParty(server.issuer, client.client_id, client.client_secret);
    const tokens = await oidc.clientCredentialsGrant(config, { scope: 'write' });
    const jwks = createRemoteJWKSet(new URL(config.serverMetadata().jwks_uri!));
    const { payload } = await jwtVerify(tokens.access_token, jwks, { issuer: server.issuer, audience: rs.identifier, typ: 'at+jwt' });
    assert.equal(payload.scope, 'write');
  });

  test('a resource server outside allowed_resources is refused with invalid_target', async () => {
    const mine = await aResourceServer(server.db);
    const other = await aResourceServer(server.db);
    const client = await aClient(server.db, { grant_types: ['client_credentials'], redirect_uris: [], allowed_resources: [mine.identifier] });
    const config = await relyingParty(server.issuer, client.client_id, client.client_secret);
    await assert.rejects(oidc.clientCredentialsGrant(config, { scope: 'read', resource: other.identifier }), (err: oidc.ResponseBodyError) => {
      assert.equal(err.error, 'invalid_target');
      return true;
    });
  });

  test('an opaque resource server gets an opaque token that introspects with the same claims', async () => {
    const rs = await aResourceServer(server.db, 'opaque');
    const client = await aClient(server.db, { grant_types: ['client_credentials'], redirect_uris: [], allowed_resources: [rs.identifier] });
    const config = await relyingParty(server.issuer, client.client_id, client.client_secret);
    const tokens = await oidc.clientCredentialsGrant(config, { scope: 'read', resource: rs.identifier });
    assert.equal(tokens.access_token.split('.').length, 1, 'not a JWT');
    const info = await oidc.tokenIntrospection(config, tokens.access_token);
    assert.equal(info.active, true);
    assert.equal(info.aud, rs.identifier);
    assert.equal(info.client_id, client.client_id);
    assert.equal(info.scope, 'read');
    assert.equal(info.iss, server.issuer);
  });
});

describe('who may introspect', () => {
  test('another client learns nothing of a token; a client allowed its audience may read it', async () => {
    const rs = await aResourceServer(server.db, 'opaque');
    const issuer = await aClient(server.db, { grant_types: ['client_credentials'], redirect_uris: [], allowed_resources: [rs.identifier] });
    const stranger = await aClient(server.db, { grant_types: ['client_credentials'], redirect_uris: [] });
    const api = await aClient(server.db, { grant_types: ['client_credentials'], redirect_uris: [], allowed_resources: [rs.identifier] });
    const tokens = await oidc.clientCredentialsGrant(await relyingParty(server.issuer, issuer.client_id, issuer.client_secret), { scope: 'read', resource: rs.identifier });
    const asStranger = await oidc.tokenIntrospection(await relyingParty(server.issuer, stranger.client_id, stranger.client_secret), tokens.access_token);
    assert.deepEqual(asStranger, { active: false });
    const asApi = await oidc.tokenIntrospection(await relyingParty(server.issuer, api.client_id, api.client_secret), tokens.access_token);
    assert.equal(asApi.active, true);
    assert.equal(asApi.client_id, issuer.client_id);
    await assert.rejects(oidc.tokenRevocation(await relyingParty(server.issuer, stranger.client_id, stranger.client_secret), tokens.access_token), { error: 'invalid_request' });
  });
});

describe('authorization code flow', () => {
  test('login form, consent, code with PKCE, ID token, userinfo, refresh, revocation, logout', async () => {
    const user = await aUser(server.db);
    const client = await aClient(server.db);
    const config = await relyingParty(server.issuer, client.client_id, client.client_secret);
    const req = await authorizationRequest(config, { scope: 'openid profile email offline_access', prompt: 'consent' });

    const landed = await signIn(req.url, server.issuer, user.username, 'correct horse battery');
    assert.ok(landed.url.startsWith(REDIRECT_URI), `redirected to the app, got ${landed.url}`);

    const tokens = await oidc.authorizationCodeGrant(config, new URL(landed.url), { pkceCodeVerifier: req.verifier, expectedState: req.state });
    const idClaims = tokens.claims()!;
    assert.equal(idClaims.sub, user.id);
    assert.equal(idClaims.email, 'someone@example.com');
    assert.equal(idClaims.name, 'Some One');
    assert.equal(idClaims.preferred_username, user.username);
    assert.equal(decodeProtectedHeader(tokens.id_token!).alg, 'ES256');
    assert.ok(tokens.refresh_token, 'offline_access gives a refresh token');

    const info = await oidc.fetchUserInfo(config, tokens.access_token, user.id);
    assert.equal(info.email, 'someone@example.com');
    assert.equal(info.email_verified, true);

    const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token!);
    assert.ok(refreshed.refresh_token && refreshed.refresh_token !== tokens.refresh_token, 'refresh token rotated');
    assert.equal(refreshed.claims()!.sub, user.id);
    await assert.rejects(oidc.refreshTokenGrant(config, tokens.refresh_token!), { error: 'invalid_grant' }, 'a used refresh token is spent');

    await oidc.tokenRevocation(config, refreshed.refresh_token!);
    await assert.rejects(oidc.refreshTokenGrant(config, refreshed.refresh_token!), { error: 'invalid_grant' }, 'revoked refresh token is refused');

    const logoutUrl = oidc.buildEndSessionUrl(config, { id_token_hint: refreshed.id_token!, post_logout_redirect_uri: 'https://app.test/bye' });
    const confirm = await landed.agent.follow(logoutUrl.href, server.issuer);
    assert.match(confirm.body!, /Sign out\?/);
    const done = await landed.agent.submit(confirm.url, confirm.body!, /op\.logoutForm/, { logout: 'yes' }, server.issuer);
    assert.ok(done.url.startsWith('https://app.test/bye'), `back at the app after logout, got ${done.url}`);

    // The session is gone: a new authorization request asks for the password again.
    const again = await authorizationRequest(config, { scope: 'openid' });
    const page = await landed.agent.follow(again.url, server.issuer);
    assert.match(page.body ?? '', /name="password"/);
  });

  test('the second sign-in to a consented app needs no consent page', async () => {
    const user = await aUser(server.db);
    const client = await aClient(server.db);
    const config = await relyingParty(server.issuer, client.client_id, client.client_secret);
    const first = await signIn((await authorizationRequest(config, { scope: 'openid' })).url, server.issuer, user.username, 'correct horse battery');
    assert.ok(first.url.startsWith(REDIRECT_URI));
    const second = await authorizationRequest(config, { scope: 'openid' });
    const step = await first.agent.follow(second.url, server.issuer);
    assert.ok(step.url.startsWith(REDIRECT_URI), 'straight back to the app');
  });

  test('a public client (SPA) completes the flow with PKCE and no secret', async () => {
    const user = await aUser(server.db);
    const client = await aClient(server.db, { token_endpoint_auth_method: 'none' });
    assert.equal(client.client_secret, null);
    const config = await relyingParty(server.issuer, client.client_id, null);
    const req = await authorizationRequest(config, { scope: 'openid email' });
    const landed = await signIn(req.url, server.issuer, user.username, 'correct horse battery');
    const tokens = await oidc.authorizationCodeGrant(config, new URL(landed.url), { pkceCodeVerifier: req.verifier, expectedState: req.state });
    assert.equal(tokens.claims()!.sub, user.id);
  });

  test('an access token for a resource server is a JWT with that audience; userinfo tokens stay opaque', async () => {
    const user = await aUser(server.db);
    const rs = await aResourceServer(server.db);
    const client = await aClient(server.db, { allowed_resources: [rs.identifier] });
    const config = await relyingParty(server.issuer, client.client_id, client.client_secret);
    const req = await authorizationRequest(config, { scope: 'openid read', resource: rs.identifier });
    const landed = await signIn(req.url, server.issuer, user.username, 'correct horse battery');
    const tokens = await oidc.authorizationCodeGrant(config, new URL(landed.url), { pkceCodeVerifier: req.verifier, expectedState: req.state }, { resource: rs.identifier });
    const jwks = createRemoteJWKSet(new URL(config.serverMetadata().jwks_uri!));
    const { payload } = await jwtVerify(tokens.access_token, jwks, { issuer: server.issuer, audience: rs.identifier, typ: 'at+jwt' });
    assert.equal(payload.sub, user.id);
    assert.equal(payload.scope, 'read');

    const plain = await authorizationRequest(config, { scope: 'openid' });
    const step = await landed.agent.follow(plain.url, server.issuer);
    const userinfoTokens = await oidc.authorizationCodeGrant(config, new URL(step.url), { pkceCodeVerifier: plain.verifier, expectedState: plain.state });
    assert.equal(userinfoTokens.access_token.split('.').length, 1, 'opaque');
  });
});
