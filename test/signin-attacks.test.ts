/**
 * Attacks on sign-in and recovery, performed as an attacker would (no browser: their own software
 * authenticator). Each passed on the first version of the sign-in steps: a passkey registered on
 * the sign-in page's challenge, or the "create a passkey" step a request for urn:tessera:acr:phr
 * opened, let the password alone through a client that requires a second factor and left the
 * attacker's passkey on the account; a second reset link still set the password after the first;
 * full-width spellings of a name each had their own "forgot your password" counter.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from './support/server.ts';
import { aClient, aUser, authorizationRequest, relyingParty } from './support/fixtures.ts';
import { UserAgent } from './support/browserless.ts';
import { attackerRegistration, passkeyOptionsOn } from './support/software-passkey.ts';
import { addConfirmedTotp } from '../src/signin/storage.ts';
import { newTotpSecret } from '../src/signin/totp.ts';
import { forgotCounterKeys } from '../src/auth/login-limits.ts';
import { adminApi } from './support/admin.ts';

const PASSWORD = 'correct horse battery';
let server: TestServer;
before(async () => {
  server = await startTestServer();
});
after(async () => server?.stop());

const csrfOn = (html: string) => /name="csrf" value="([^"]+)"/.exec(html)?.[1] ?? '';

/** A user with an authenticator app, and a client that requires a second factor. */
async function victim() {
  const user = await aUser(server.db, PASSWORD);
  assert.ok(await addConfirmedTotp(server.db, user.id, newTotpSecret(), 'Authenticator app', 1));
  const client = await aClient(server.db, { first_party: true, mfa: 'required' });
  return { user, config: await relyingParty(server.issuer, client.client_id, client.client_secret) };
}

/** Posts the attacker's passkey registration for `challenge` to the interaction `uid`. */
async function registerAttackerPasskey(agent: UserAgent, uid: string, csrf: string, challenge: string) {
  const res = await agent.request(`${server.issuer}/interaction/${uid}/passkey-register`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ csrf, response: JSON.stringify(attackerRegistration(challenge, server.issuer)) }).toString(),
  });
  await res.arrayBuffer();
  return res;
}

test("the sign-in page's passkey challenge cannot register a passkey after the password", async () => {
  const { user, config } = await victim();
  const agent = new UserAgent();
  const req = await authorizationRequest(config, { scope: 'openid' });
  const signInPage = await agent.follow(req.url, server.issuer);
  const signInChallenge = passkeyOptionsOn(signInPage.body!)?.challenge;
  assert.ok(signInChallenge, 'the sign-in page offers "Use a passkey"');
  const codePage = await agent.submit(signInPage.url, signInPage.body!, /\/login"/, { username: user.username, password: PASSWORD }, server.issuer);
  assert.match(codePage.body!, /name="code"/, 'the password leads to the code step');
  const uid = new URL(codePage.url).pathname.split('/')[2]!;

  const res = await registerAttackerPasskey(agent, uid, csrfOn(codePage.body!), signInChallenge);
  assert.equal(res.status, 403);
  assert.equal((await server.db('signin_passkeys').where({ user_id: user.id })).length, 0, 'no passkey was added');
  // And the sign-in is still waiting for the code: nothing was issued.
  const still = await agent.follow(`${server.issuer}/interaction/${uid}`, server.issuer);
  assert.match(still.body!, /name="code"/);
});

test('a request for a phishing-resistant sign-in asks a user with an authenticator for it, never for a new passkey', async () => {
  const { user, config } = await victim();
  const agent = new UserAgent();
  const req = await authorizationRequest(config, { scope: 'openid', acr_values: 'urn:tessera:acr:phr' });
  const signInPage = await agent.follow(req.url, server.issuer);
  const next = await agent.submit(signInPage.url, signInPage.body!, /\/login"/, { username: user.username, password: PASSWORD }, server.issuer);
  assert.match(next.body!, /name="code"/, 'the code is asked');
  assert.doesNotMatch(next.body!, /data-webauthn="create"/, 'no passkey to create');
  const uid = new URL(next.url).pathname.split('/')[2]!;
  // Whatever challenge the attacker answers, registration is refused for a user who has a factor.
  const challenge = passkeyOptionsOn(next.body!)?.challenge ?? passkeyOptionsOn(signInPage.body!)!.challenge;
  assert.equal((await registerAttackerPasskey(agent, uid, csrfOn(next.body!), challenge)).status, 403);
  assert.equal((await server.db('signin_passkeys').where({ user_id: user.id })).length, 0, 'no passkey was added');
});

test('a password set by one reset link spends the other links of that user', async () => {
  const user = await aUser(server.db, PASSWORD);
  const { api } = await adminApi(server);
  const first = (await api('POST', `/users/${user.id}/password-reset`)).json as { url: string };
  const second = (await api('POST', `/users/${user.id}/password-reset`)).json as { url: string };
  const agent = new UserAgent();
  const page = await agent.follow(first.url, server.issuer);
  const done = await agent.submit(page.url, page.body!, /action="\/reset"/, { password: 'a new long password', confirm: 'a new long password' }, server.issuer);
  assert.equal(done.res!.status, 200);
  assert.equal((await agent.follow(second.url, server.issuer)).res!.status, 410, 'the older link no longer sets a password');
});

test('spellings of one name share the "forgot your password" counter', () => {
  const limits = { perUserAndIp: 5, perUser: 20, perIp: 100, windowS: 900 };
  const keyOf = (name: string) => forgotCounterKeys(name, '203.0.113.9', limits)[0]!.key;
  assert.equal(keyOf('\uff43arol'), keyOf('carol'), 'full-width c');
  assert.equal(keyOf(' CAROL '), keyOf('carol'));
  assert.notEqual(keyOf('carl'), keyOf('carol'));
});
