import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import * as oidc from 'openid-client';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { startTestServer, freePort, type TestServer } from './support/server.ts';
import { startReceiver, type Receiver } from './support/receiver.ts';
import { aClient, aResourceServer, aUser, authorizationRequest, relyingParty } from './support/fixtures.ts';
import { signIn } from './support/browserless.ts';
import type { PayloadHookConfigInput } from '../src/hooks/config.ts';

const SECRET = 'webhook-secret-0123456789abcdef';
const PASSWORD = 'correct horse battery';

/** A real webhook on loopback: verifies the signature as documented, records calls, answers as told. */
type Reply = { status: number; body?: string; delayMs?: number; location?: string };
const calls: Array<{ input: Record<string, unknown>; signatureValid: boolean }> = [];
let reply: Reply = { status: 200, body: '{}' };
let receiver: Receiver;
let hookUrl: string;
let server: TestServer;

before(async () => {
  receiver = await startReceiver((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      const header = String(req.headers['tessera-signature'] ?? '');
      const t = /t=(\d+)/.exec(header)?.[1] ?? '';
      const v1 = /v1=([0-9a-f]+)/.exec(header)?.[1] ?? '';
      const expected = createHmac('sha256', SECRET).update(`${t}.${body}`).digest('hex');
      calls.push({ input: JSON.parse(body), signatureValid: v1 === expected && Math.abs(Date.now() / 1000 - Number(t)) < 300 && req.headers['content-type'] === 'application/json' });
      const send = () => {
        res.writeHead(reply.status, { ...(reply.body ? { 'content-type': 'application/json' } : {}), ...(reply.location ? { location: reply.location } : {}) });
        res.end(reply.body);
      };
      if (reply.delayMs) setTimeout(send, reply.delayMs);
      else send();
    });
  });
  hookUrl = receiver.url;
  server = await startTestServer();
});
after(async () => {
  await server.stop();
  await receiver.stop();
});

async function clientWithHook(hook: PayloadHookConfigInput, extra: Parameters<typeof aClient>[1] = {}) {
  const client = await aClient(server.db, { scope: 'openid profile email offline_access privileges', ...extra, payload_hook: hook as never });
  return { client, config: await relyingParty(server.issuer, client.client_id, client.client_secret) };
}

async function signedInTokens(config: oidc.Configuration, scope = 'openid email offline_access', extra: Record<string, string> = {}) {
  const user = await aUser(server.db);
  const req = await authorizationRequest(config, { scope, prompt: 'consent', ...extra });
  const landed = await signIn(req.url, server.issuer, user.username, PASSWORD);
  return { user, req, landed };
}

test('hook claims reach the ID token and access token; colliding names are renamed and the real ones kept', async () => {
  const rs = await aResourceServer(server.db);
  const { client, config } = await clientWithHook({ url: hookUrl, secret: SECRET }, { allowed_resources: [rs.identifier] });
  reply = { status: 200, body: JSON.stringify({ scope: 'admin everything', sub: 'someone-else', iss: 'https://evil.example', email: 'x@evil.example', tier: 'gold', perms: { docs: ['read'] } }) };
  calls.length = 0;
  const { user, req, landed } = await signedInTokens(config, 'openid email offline_access read', { resource: rs.identifier });
  const tokens = await oidc.authorizationCodeGrant(config, new URL(landed.url), { pkceCodeVerifier: req.verifier, expectedState: req.state }, { resource: rs.identifier });

  assert.equal(calls.length, 1, 'one hook call for the whole token response');
  assert.ok(calls[0]!.signatureValid, 'the signature verifies with the documented algorithm');
  assert.deepEqual(calls[0]!.input, {
    client_id: client.client_id,
    sub: user.id,
    scope: 'openid email offline_access read',
    requested_scope: 'openid email offline_access read',
    grant_type: 'authorization_code',
    organization: null,
    resource: rs.identifier,
    // How the user signed in (a password alone), so a hook can withhold privileges from such a session.
    amr: ['pwd'],
    acr: 'urn:tessera:acr:pwd',
    request_id: calls[0]!.input.request_id,
  });

  const id = tokens.claims()!;
  const { payload: at } = await jwtVerify(tokens.access_token, createRemoteJWKSet(new URL(config.serverMetadata().jwks_uri!)), { issuer: server.issuer, audience: rs.identifier, typ: 'at+jwt' });
  for (const claims of [id, at] as Array<Record<string, unknown>>) {
    assert.equal(claims.sub, user.id);
    assert.equal(claims.iss, server.issuer);
    assert.equal(claims.extra_sub, 'someone-else');
    assert.equal(claims.extra_iss, 'https://evil.example');
    assert.equal(claims.extra_scope, 'admin everything');
    assert.equal(claims.extra_email, 'x@evil.example', 'a standard claim name is reserved too');
    assert.equal(claims.tier, 'gold');
    assert.deepEqual(claims.perms, { docs: ['read'] });
    assert.equal(claims.requested_scope, 'openid email offline_access read');
    assert.deepEqual(claims.amr, ['pwd']);
    assert.equal(claims.acr, 'urn:tessera:acr:pwd');
  }
  assert.equal(at.scope, 'read');
  assert.equal(id.email, 'someone@example.com');
  assert.ok(server.logs.some((l) => l.includes('payload claim renamed') && l.includes('extra_scope')), 'renames are logged');

  // Every refresh calls the hook again, and the answer may change.
  reply = { status: 200, body: JSON.stringify({ tier: 'platinum' }) };
  const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token!, { resource: rs.identifier });
  assert.equal(calls.length, 2);
  assert.equal(calls[1]!.input.grant_type, 'refresh_token');
  assert.equal(refreshed.claims()!.tier, 'platinum');
});

test('opaque access tokens carry the payload at introspection', async () => {
  const { config } = await clientWithHook({ url: hookUrl, secret: SECRET });
  reply = { status: 200, body: JSON.stringify({ tier: 'silver', active: false }) };
  const { req, landed } = await signedInTokens(config);
  const tokens = await oidc.authorizationCodeGrant(config, new URL(landed.url), { pkceCodeVerifier: req.verifier, expectedState: req.state });
  const info = await oidc.tokenIntrospection(config, tokens.access_token);
  assert.equal(info.active, true, 'a hook cannot deactivate a token');
  assert.equal(info.tier, 'silver');
  assert.equal(info.extra_active, false);
});

test('closed policy: a failing hook fails the token request clearly, and the refresh token survives for a retry', async () => {
  const { config } = await clientWithHook({ url: hookUrl, secret: SECRET });
  reply = { status: 200, body: '{}' };
  const { req, landed } = await signedInTokens(config);
  const tokens = await oidc.authorizationCodeGrant(config, new URL(landed.url), { pkceCodeVerifier: req.verifier, expectedState: req.state });

  for (const [answer, cause] of [
    [{ status: 500, body: '{"error":"boom"}' }, 'status_500'],
    [{ status: 200, body: 'not json' }, 'invalid_json'],
    [{ status: 200, body: '[1,2]' }, 'not_an_object'],
    [{ status: 200, body: JSON.stringify({ big: 'x'.repeat(1024 * 1024) }) }, 'body_too_large'],
  ] as Array<[Reply, string]>) {
    reply = answer;
    await assert.rejects(oidc.refreshTokenGrant(config, tokens.refresh_token!), (err: oidc.ResponseBodyError) => {
      assert.equal(err.error, 'temporarily_unavailable', cause);
      assert.equal(err.status, 400, 'a token endpoint error (hooks/README.md)');
      assert.match(err.error_description ?? '', new RegExp(cause));
      return true;
    });
  }
  reply = { status: 200, body: JSON.stringify({ tier: 'back' }) };
  const retried = await oidc.refreshTokenGrant(config, tokens.refresh_token!);
  assert.equal(retried.claims()!.tier, 'back', 'the unspent refresh token works once the hook recovers');
  const metrics = await (await fetch(`${server.issuer}/metrics`)).text();
  assert.match(metrics, /tessera_payload_hook_failures_total\{cause="status_500",source="webhook"\} [1-9]/);
});

test('closed policy: timeout and refused connection', async () => {
  const closedPort = await freePort();
  const slow = await clientWithHook({ url: hookUrl, secret: SECRET, timeout_ms: 300 });
  reply = { status: 200, body: '{}', delayMs: 2000 };
  const { req, landed } = await signedInTokens(slow.config);
  // The receiver would answer 200 after 2 s: a failure naming the timeout means it was cut at 300 ms.
  await assert.rejects(oidc.authorizationCodeGrant(slow.config, new URL(landed.url), { pkceCodeVerifier: req.verifier, expectedState: req.state }), (err: oidc.ResponseBodyError) => {
    assert.equal(err.error, 'temporarily_unavailable');
    assert.match(err.error_description ?? '', /timeout/);
    return true;
  });

  const redirected = await clientWithHook({ url: hookUrl, secret: SECRET });
  reply = { status: 302, location: `http://127.0.0.1:${closedPort}/elsewhere` };
  const r1 = await signedInTokens(redirected.config);
  await assert.rejects(oidc.authorizationCodeGrant(redirected.config, new URL(r1.landed.url), { pkceCodeVerifier: r1.req.verifier, expectedState: r1.req.state }), (err: oidc.ResponseBodyError) => {
    assert.equal(err.error, 'temporarily_unavailable');
    assert.match(err.error_description ?? '', /redirect/);
    return true;
  });

  const refused = await clientWithHook({ url: `http://127.0.0.1:${closedPort}/payload`, secret: SECRET });
  const r2 = await signedInTokens(refused.config);
  await assert.rejects(oidc.authorizationCodeGrant(refused.config, new URL(r2.landed.url), { pkceCodeVerifier: r2.req.verifier, expectedState: r2.req.state }), { error: 'temporarily_unavailable' });
});

test('open policy: the token is issued without payload claims', async () => {
  const { config } = await clientWithHook({ url: hookUrl, secret: SECRET, failure: 'open' });
  reply = { status: 503, body: '{}' };
  const { user, req, landed } = await signedInTokens(config);
  const tokens = await oidc.authorizationCodeGrant(config, new URL(landed.url), { pkceCodeVerifier: req.verifier, expectedState: req.state });
  assert.equal(tokens.claims()!.sub, user.id);
  assert.equal('tier' in tokens.claims()!, false);
  assert.equal(tokens.claims()!.requested_scope, 'openid email offline_access', 'requested_scope is there whenever a hook is active');
});

test('client credentials: the hook gets no sub, and requested_scope is the token request scope', async () => {
  const rs = await aResourceServer(server.db);
  const { client, config } = await clientWithHook({ url: hookUrl, secret: SECRET }, { grant_types: ['client_credentials'], redirect_uris: [], allowed_resources: [rs.identifier] });
  reply = { status: 200, body: JSON.stringify({ service_tier: 'batch', client_id: 'spoofed' }) };
  calls.length = 0;
  const tokens = await oidc.clientCredentialsGrant(config, { scope: 'read', resource: rs.identifier });
  const { payload } = await jwtVerify(tokens.access_token, createRemoteJWKSet(new URL(config.serverMetadata().jwks_uri!)), { issuer: server.issuer, audience: rs.identifier });
  assert.equal(calls.length, 1);
  assert.equal('sub' in calls[0]!.input, false);
  assert.equal(calls[0]!.input.grant_type, 'client_credentials');
  assert.equal(calls[0]!.input.requested_scope, 'read');
  assert.equal(payload.service_tier, 'batch');
  assert.equal(payload.client_id, client.client_id);
  assert.equal(payload.extra_client_id, 'spoofed');
});

test('the cache reuses an answer for the same input, and the circuit breaker stops calling a failing hook', async () => {
  const rs = await aResourceServer(server.db);
  const cached = await clientWithHook({ url: hookUrl, secret: SECRET, cache_ttl_s: 60 }, { grant_types: ['client_credentials'], redirect_uris: [], allowed_resources: [rs.identifier] });
  reply = { status: 200, body: JSON.stringify({ n: 1 }) };
  calls.length = 0;
  for (let i = 0; i < 5; i++) await oidc.clientCredentialsGrant(cached.config, { scope: 'read', resource: rs.identifier });
  assert.equal(calls.length, 1, 'five identical requests, one call');

  const failing = await clientWithHook({ url: hookUrl, secret: SECRET }, { grant_types: ['client_credentials'], redirect_uris: [], allowed_resources: [rs.identifier] });
  reply = { status: 500, body: '{}' };
  calls.length = 0;
  for (let i = 0; i < 10; i++) await assert.rejects(oidc.clientCredentialsGrant(failing.config, { scope: 'read', resource: rs.identifier }), { error: 'temporarily_unavailable' });
  assert.equal(calls.length, 5, 'after five failures the hook is not called for a while');
});

test('a module hook from hooks/ serves as the global hook', async () => {
  const own = await startTestServer({ TESSERA_PAYLOAD_HOOK: 'hooks/example-payload.ts', TESSERA_HOOKS_DIR: process.cwd() });
  try {
    const client = await aClient(own.db);
    const config = await relyingParty(own.issuer, client.client_id, client.client_secret);
    const user = await aUser(own.db);
    const req = await authorizationRequest(config, { scope: 'openid', prompt: 'consent' });
    const landed = await signIn(req.url, own.issuer, user.username, PASSWORD);
    const tokens = await oidc.authorizationCodeGrant(config, new URL(landed.url), { pkceCodeVerifier: req.verifier, expectedState: req.state });
    const claims = tokens.claims()!;
    assert.equal(claims.requested_scope, 'openid');
    assert.ok(Object.keys(claims).some((k) => !['iss', 'sub', 'aud', 'exp', 'iat', 'auth_time', 'at_hash', 'sid', 'requested_scope'].includes(k)), 'the example module adds claims');
  } finally {
    await own.stop();
  }
});

test('a token over TESSERA_MAX_TOKEN_BYTES is a hook failure, logged with its largest claims', async () => {
  const small = await startTestServer({ TESSERA_MAX_TOKEN_BYTES: '2048' });
  try {
    const rs = await aResourceServer(small.db);
    const make = (failure: 'open' | 'closed') =>
      aClient(small.db, { grant_types: ['client_credentials'], redirect_uris: [], allowed_resources: [rs.identifier], payload_hook: { url: hookUrl, secret: SECRET, failure } as never });
    reply = { status: 200, body: JSON.stringify({ huge: 'x'.repeat(4000), small: 1 }) };
    const closed = await make('closed');
    const closedRp = await relyingParty(small.issuer, closed.client_id, closed.client_secret);
    await assert.rejects(oidc.clientCredentialsGrant(closedRp, { scope: 'read', resource: rs.identifier }), (err: oidc.ResponseBodyError) => {
      assert.equal(err.error, 'temporarily_unavailable');
      assert.match(err.error_description ?? '', /token_too_large/);
      return true;
    });
    const line = small.logs.find((l) => l.includes('token over size budget'));
    assert.ok(line && JSON.parse(line).largest[0].claim === 'huge', 'the log names the largest claim');

    const open = await make('open');
    const openRp = await relyingParty(small.issuer, open.client_id, open.client_secret);
    const tokens = await oidc.clientCredentialsGrant(openRp, { scope: 'read', resource: rs.identifier });
    assert.ok(tokens.access_token.length < 2048, 'issued without the payload');
    assert.equal('huge' in JSON.parse(Buffer.from(tokens.access_token.split('.')[1]!, 'base64url').toString()), false);
  } finally {
    await small.stop();
  }
});

test('closed policy: a failing hook at the code exchange leaves the code unspent; the same code works once the hook recovers', async () => {
  const { config } = await clientWithHook({ url: hookUrl, secret: SECRET });
  reply = { status: 500, body: '{"error":"boom"}' };
  const { req, landed } = await signedInTokens(config);
  const exchange = () => oidc.authorizationCodeGrant(config, new URL(landed.url), { pkceCodeVerifier: req.verifier, expectedState: req.state });
  await assert.rejects(exchange(), (err: oidc.ResponseBodyError) => {
    assert.equal(err.error, 'temporarily_unavailable');
    return true;
  });
  reply = { status: 200, body: JSON.stringify({ tier: 'back' }) };
  const tokens = await exchange();
  assert.equal(tokens.claims()!.tier, 'back', 'the unspent code gives tokens once the hook recovers');
  assert.ok(tokens.refresh_token, 'and a working refresh token');
  await oidc.refreshTokenGrant(config, tokens.refresh_token!);
});
