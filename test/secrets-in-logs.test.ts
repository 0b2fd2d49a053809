/**
 * Runs one of every flow with the logger at debug level and checks that no secret value seen in
 * those flows (passwords, right and wrong; client secrets, old and rotated; the admin secret and
 * token; codes, PKCE verifiers, access, refresh and ID tokens; cookies; the hook secret) appears in
 * any log line.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import { startTestServer, type TestServer } from './support/server.ts';
import { startReceiver, type Receiver } from './support/receiver.ts';
import { authorizationRequest, relyingParty, REDIRECT_URI, unique } from './support/fixtures.ts';
import { UserAgent } from './support/browserless.ts';
import { adminApi } from './support/admin.ts';

const ADMIN_SECRET = 'test-admin-secret-0123456789';
const HOOK_SECRET = 'hook-secret-f00dfeedc0ffee42';
let hookFails = false;
let receiver: Receiver;
let server: TestServer;
before(async () => {
  receiver = await startReceiver((req, res) => {
    req.resume();
    req.on('end', () => (hookFails ? res.writeHead(500).end('{}') : res.writeHead(200, { 'content-type': 'application/json' }).end('{"tier":"gold"}')));
  });
  process.env.TEST_LOG_LEVEL = 'debug';
  server = await startTestServer({ TESSERA_LOG_LEVEL: 'debug' });
});
after(async () => {
  await server.stop();
  await receiver.stop();
});

test('a run of every flow at debug level writes no secret to the log', async () => {
  const secrets = new Map<string, string>([['admin client secret', ADMIN_SECRET], ['hook secret', HOOK_SECRET]]);
  const keep = (what: string, value: string | undefined | null) => {
    assert.ok(value && value.length >= 8, `${what} was seen`);
    secrets.set(`${what} #${secrets.size}`, value);
  };
  const { api, tokenFor } = await adminApi(server);
  keep('admin token', await tokenFor('admin'));

  // Admin API: a user with a password, a client with a secret and a webhook hook, a rotation.
  const password = `pw-${unique('right')}-Ω`;
  const wrongPassword = `pw-${unique('wrong')}-✓`;
  keep('password', password);
  keep('wrong password', wrongPassword);
  const username = unique('logs');
  const user = (await api('POST', '/users', { body: { username, password, email: 'logs@example.com' } })).json;
  assert.ok(user.id);
  const hookUrl = receiver.url;
  const created = await api('POST', '/clients', {
    body: {
      client_name: 'Logs',
      redirect_uris: [REDIRECT_URI],
      post_logout_redirect_uris: ['https://app.test/bye'],
      grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
      scope: 'openid profile email offline_access',
      payload_hook: { url: hookUrl, secret: HOOK_SECRET, failure: 'open' },
    },
  });
  assert.equal(created.status, 201);
  keep('client secret', created.json.client_secret);
  const rotated = await api('POST', `/clients/${created.json.client_id}/secret`);
  keep('rotated client secret', rotated.json.client_secret);
  const clientId = created.json.client_id as string;
  const config = await relyingParty(server.issuer, clientId, rotated.json.client_secret);

  // The login form: a wrong password, then the right one; consent; the code.
  const req = await authorizationRequest(config, { scope: 'openid profile email offline_access', prompt: 'consent' });
  keep('PKCE verifier', req.verifier);
  const agent = new UserAgent();
  // The interaction cookie's value is the interaction id, which is in every sign-in URL by design;
  // its signature, the session cookie and the rest are secrets.
  const keepCookies = () => {
    for (const [name, value] of agent.cookies) if (!/^_interaction(_resume)?$/.test(name) && value.length >= 16) keep(`cookie ${name}`, value);
  };
  const page = await agent.follow(req.url, server.issuer);
  keepCookies();
  const wrong = await agent.submit(page.url, page.body!, /\/login"/, { username, password: wrongPassword }, server.issuer);
  assert.equal(wrong.res?.status, 401);
  const consent = await agent.submit(wrong.url, wrong.body!, /\/login"/, { username, password }, server.issuer);
  keepCookies();
  const landed = await agent.submit(consent.url, consent.body!, /\/confirm"/, {}, server.issuer);
  keep('authorization code', new URL(landed.url).searchParams.get('code'));

  // Tokens: code exchange, refresh (the hook answers), refresh again (the hook fails, open policy).
  const tokens = await oidc.authorizationCodeGrant(config, new URL(landed.url), { pkceCodeVerifier: req.verifier, expectedState: req.state });
  keep('access token', tokens.access_token);
  keep('refresh token', tokens.refresh_token);
  keep('ID token', tokens.id_token);
  const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token!);
  keep('refreshed access token', refreshed.access_token);
  keep('rotated refresh token', refreshed.refresh_token);
  hookFails = true;
  const afterFailure = await oidc.refreshTokenGrant(config, refreshed.refresh_token!);
  hookFails = false;
  keep('refresh token after a hook failure', afterFailure.refresh_token);
  assert.ok(server.logs.some((l) => l.includes('payload hook failed')), 'the hook failure was logged');

  // Userinfo, introspection, revocation, client credentials, a wrong client secret.
  assert.equal((await oidc.fetchUserInfo(config, afterFailure.access_token, user.id)).sub, user.id);
  assert.equal((await oidc.tokenIntrospection(config, afterFailure.access_token)).active, true);
  await oidc.tokenRevocation(config, afterFailure.refresh_token!);
  const service = await oidc.clientCredentialsGrant(config, {});
  keep('client credentials token', service.access_token);
  const wrongSecret = `wrong-${unique('secret')}`;
  keep('wrong client secret', wrongSecret);
  const refused = await fetch(`${server.issuer}/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${clientId}:${wrongSecret}`).toString('base64')}` }, body: 'grant_type=client_credentials' });
  assert.equal(refused.status, 401);
  await assert.rejects(oidc.refreshTokenGrant(config, tokens.refresh_token!), { error: 'invalid_grant' }, 'a replayed refresh token is refused (and logged)');

  // Sign out through the confirmation form; the ID token travels in the logout URL's query string.
  keep('ID token sent to logout', afterFailure.id_token);
  const logout = await agent.follow(oidc.buildEndSessionUrl(config, { id_token_hint: afterFailure.id_token!, post_logout_redirect_uri: 'https://app.test/bye' }).href, server.issuer);
  keepCookies();
  const done = await agent.submit(logout.url, logout.body!, /op\.logoutForm/, { logout: 'yes' }, server.issuer);
  assert.ok(done.url.startsWith('https://app.test/bye'));

  const lines = server.logs;
  assert.ok(lines.some((l) => l.includes('"level":"debug"')), 'the logger ran at debug level');
  assert.ok(lines.length >= 30, `${lines.length} log lines: every request is logged`);
  const leaks: string[] = [];
  for (const [what, value] of secrets) {
    // The whole value, and for tokens also their last part (a JWT's signature), which is just as secret.
    const needles = [value, ...(value.length > 40 ? [value.slice(-24)] : [])];
    for (const line of lines) if (needles.some((n) => line.includes(n))) leaks.push(`${what} in: ${line.slice(0, 300)}`);
  }
  assert.deepEqual(leaks, [], `secrets in the log:\n${leaks.join('\n')}`);
  console.log(`# ${lines.length} log lines checked against ${secrets.size} secret values`);
});
