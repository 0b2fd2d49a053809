import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import { startTestServer, type TestServer } from './support/server.ts';
import { aClient, aUser, authorizationRequest, relyingParty, REDIRECT_URI } from './support/fixtures.ts';
import { UserAgent } from './support/browserless.ts';

let server: TestServer;
before(async () => {
  server = await startTestServer();
});
after(async () => server.stop());

const basic = (id: string, secret: string) => 'Basic ' + Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64');

async function token(body: string | URLSearchParams, headers: Record<string, string> = {}) {
  const res = await fetch(`${server.issuer}/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body });
  return { status: res.status, json: (await res.json().catch(() => ({}))) as { error?: string; error_description?: string } };
}

test('a wrong password keeps the user on the login page with a message, and issues nothing', async () => {
  const user = await aUser(server.db);
  const client = await aClient(server.db);
  const config = await relyingParty(server.issuer, client.client_id, client.client_secret);
  const agent = new UserAgent();
  const page = await agent.follow((await authorizationRequest(config, { scope: 'openid' })).url, server.issuer);
  const answer = await agent.submit(page.url, page.body!, /\/login"/, { username: user.username, password: 'wrong password' }, server.issuer);
  assert.equal(answer.res?.status, 401);
  assert.match(answer.body!, /Wrong username or password/);
  assert.match(answer.body!, new RegExp(`value="${user.username}"`), 'the username stays filled in');
  const unknown = await agent.submit(answer.url, answer.body!, /\/login"/, { username: 'nobody-at-all', password: 'whatever1' }, server.issuer);
  assert.match(unknown.body!, /Wrong username or password/, 'unknown user: the same answer');
});

test('a disabled user cannot sign in', async () => {
  const user = await aUser(server.db, 'correct horse battery', { enabled: false });
  const client = await aClient(server.db);
  const config = await relyingParty(server.issuer, client.client_id, client.client_secret);
  const agent = new UserAgent();
  const page = await agent.follow((await authorizationRequest(config, { scope: 'openid' })).url, server.issuer);
  const answer = await agent.submit(page.url, page.body!, /\/login"/, { username: user.username, password: 'correct horse battery' }, server.issuer);
  assert.match(answer.body!, /account is disabled/);
});

test('a login form posted without its CSRF token is refused', async () => {
  const client = await aClient(server.db);
  const user = await aUser(server.db);
  const config = await relyingParty(server.issuer, client.client_id, client.client_secret);
  const agent = new UserAgent();
  const page = await agent.follow((await authorizationRequest(config, { scope: 'openid' })).url, server.issuer);
  const res = await agent.request(`${page.url}/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ username: user.username, password: 'correct horse battery' }).toString(),
  });
  assert.equal(res.status, 403);
});

test('an unknown client gets an error page, not a redirect', async () => {
  const url = new URL(`${server.issuer}/auth`);
  url.search = new URLSearchParams({ client_id: 'no-such-client', response_type: 'code', scope: 'openid', redirect_uri: REDIRECT_URI }).toString();
  const res = await fetch(url, { redirect: 'manual' });
  assert.equal(res.status, 400);
  assert.equal(res.headers.get('location'), null);
  assert.match(await res.text(), /invalid_client/);
});

test('a redirect_uri that is not registered gets an error page, never a redirect to it', async () => {
  const client = await aClient(server.db);
  const url = new URL(`${server.issuer}/auth`);
  url.search = new URLSearchParams({ client_id: client.client_id, response_type: 'code', scope: 'openid', redirect_uri: 'https://evil.example/cb' }).toString();
  const res = await fetch(url, { redirect: 'manual' });
  assert.equal(res.status, 400);
  assert.equal(res.headers.get('location'), null);
  assert.match(await res.text(), /redirect_uri/);
});

test('a public client without PKCE is sent back with invalid_request', async () => {
  const client = await aClient(server.db, { token_endpoint_auth_method: 'none' });
  const url = new URL(`${server.issuer}/auth`);
  url.search = new URLSearchParams({ client_id: client.client_id, response_type: 'code', scope: 'openid', redirect_uri: REDIRECT_URI }).toString();
  const res = await fetch(url, { redirect: 'manual' });
  assert.equal(res.status, 303);
  const back = new URL(res.headers.get('location')!);
  assert.equal(back.origin + back.pathname, REDIRECT_URI);
  assert.equal(back.searchParams.get('error'), 'invalid_request');
  assert.match(back.searchParams.get('error_description') ?? '', /PKCE/i);
});

test('the token endpoint answers malformed requests with standard OAuth errors', async () => {
  const client = await aClient(server.db, { grant_types: ['authorization_code', 'refresh_token', 'client_credentials'] });
  const auth = { authorization: basic(client.client_id, client.client_secret!) };
  const cases: Array<[string, Awaited<ReturnType<typeof token>>, number, string]> = [
    ['no grant_type', await token('', auth), 400, 'invalid_request'],
    ['unknown grant_type', await token('grant_type=password&username=a&password=b', auth), 400, 'unsupported_grant_type'],
    ['garbage code', await token(`grant_type=authorization_code&code=nope&redirect_uri=${encodeURIComponent(REDIRECT_URI)}&code_verifier=${'a'.repeat(43)}`, auth), 400, 'invalid_grant'],
    ['garbage refresh token', await token('grant_type=refresh_token&refresh_token=nope', auth), 400, 'invalid_grant'],
    ['unknown client', await token('grant_type=client_credentials', { authorization: basic('nobody', 'nothing') }), 401, 'invalid_client'],
    ['wrong secret', await token('grant_type=client_credentials', { authorization: basic(client.client_id, 'wrong') }), 401, 'invalid_client'],
    ['duplicate parameters', await token('grant_type=client_credentials&grant_type=client_credentials', auth), 400, 'invalid_request'],
    ['JSON instead of a form', await token('{"grant_type":"client_credentials"}', { ...auth, 'content-type': 'application/json' }), 400, 'invalid_request'],
  ];
  for (const [name, answer, status, error] of cases) {
    assert.equal(answer.status, status, `${name}: status`);
    assert.equal(answer.json.error, error, `${name}: error`);
  }
  // A scope the client was not given is not granted (RFC 6749 lets the server narrow the scope).
  const narrowed = await token('grant_type=client_credentials&scope=launch-missiles', auth);
  assert.equal(narrowed.status, 200);
  assert.ok(!String((narrowed.json as { scope?: string }).scope ?? '').includes('launch-missiles'));
});

test('a code needs its PKCE verifier, and a replayed code revokes what it gave', async () => {
  const user = await aUser(server.db);
  const client = await aClient(server.db);
  const config = await relyingParty(server.issuer, client.client_id, client.client_secret);
  const { signIn } = await import('./support/browserless.ts');
  const req = await authorizationRequest(config, { scope: 'openid' });
  const landed = await signIn(req.url, server.issuer, user.username, 'correct horse battery');
  const code = new URL(landed.url).searchParams.get('code')!;
  const wrongVerifier = await token(`grant_type=authorization_code&code=${code}&redirect_uri=${encodeURIComponent(REDIRECT_URI)}&code_verifier=${'b'.repeat(43)}`, {
    authorization: basic(client.client_id, client.client_secret!),
  });
  assert.equal(wrongVerifier.json.error, 'invalid_grant');
  const tokens = await oidc.authorizationCodeGrant(config, new URL(landed.url), { pkceCodeVerifier: req.verifier, expectedState: req.state });
  assert.equal((await oidc.tokenIntrospection(config, tokens.access_token)).active, true);
  await assert.rejects(oidc.authorizationCodeGrant(config, new URL(landed.url), { pkceCodeVerifier: req.verifier, expectedState: req.state }), { error: 'invalid_grant' });
  assert.equal((await oidc.tokenIntrospection(config, tokens.access_token)).active, false, 'tokens from a replayed code are revoked');
});

test('oversized and hostile bodies never cause a server error', async () => {
  const huge = await fetch(`${server.issuer}/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=' + 'x'.repeat(2_000_000) });
  assert.ok(huge.status >= 400 && huge.status < 500, `huge body: ${huge.status}`);
  const loginHuge = await fetch(`${server.issuer}/interaction/whatever/login`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'x'.repeat(100_000) });
  assert.ok(loginHuge.status >= 400 && loginHuge.status < 500, `huge login post: ${loginHuge.status}`);
  const introspect = await fetch(`${server.issuer}/token/introspection`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '\u0000\uffff' });
  assert.ok(introspect.status >= 400 && introspect.status < 500, `introspection with text/plain: ${introspect.status}`);
  const badInteraction = await fetch(`${server.issuer}/interaction/%00%ff`);
  assert.ok(badInteraction.status >= 400 && badInteraction.status < 500, `bad interaction id: ${badInteraction.status}`);
});
