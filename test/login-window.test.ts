/**
 * The sign-in limits count failures within TESSERA_LOGIN_WINDOW_S: once the window has passed, the
 * person who was refused signs in again, with nothing else done. End to end, through the login form,
 * on a server with a short window (the default is 15 minutes).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { startTestServer, type TestServer } from './support/server.ts';
import { aClient, aUser, authorizationRequest, relyingParty } from './support/fixtures.ts';
import { UserAgent, signIn } from './support/browserless.ts';

const PASSWORD = 'correct horse battery';
const WINDOW_S = 8;
let server: TestServer;
let config: Awaited<ReturnType<typeof relyingParty>>;
before(async () => {
  server = await startTestServer({ TESSERA_LOGIN_MAX_FAILURES: '2', TESSERA_LOGIN_WINDOW_S: String(WINDOW_S) });
  const client = await aClient(server.db);
  config = await relyingParty(server.issuer, client.client_id, client.client_secret);
});
after(async () => server.stop());

async function tryLogin(username: string, password: string) {
  const agent = new UserAgent();
  const page = await agent.follow((await authorizationRequest(config, { scope: 'openid' })).url, server.issuer);
  const answer = await agent.submit(page.url, page.body!, /\/login"/, { username, password }, server.issuer);
  return { status: answer.res?.status, retryAfter: Number(answer.res?.headers.get('retry-after')) };
}

test('refused after the limit, the right password works again once the window has passed', async () => {
  const user = await aUser(server.db, PASSWORD);
  for (let i = 0; i < 2; i++) assert.equal((await tryLogin(user.username, 'wrong password')).status, 401);
  const limited = await tryLogin(user.username, PASSWORD);
  assert.equal(limited.status, 429, 'the limit holds within the window');
  assert.ok(limited.retryAfter > 0 && limited.retryAfter <= WINDOW_S, `Retry-After within the window, got ${limited.retryAfter}`);

  // Wait as long as Tessera said to (and a little more), then try again.
  await sleep(limited.retryAfter * 1000 + 1000);
  const landed = await signIn((await authorizationRequest(config, { scope: 'openid' })).url, server.issuer, user.username, PASSWORD);
  assert.ok(new URL(landed.url).searchParams.has('code'), `signed in after the window, landed on ${landed.url}`);
});

test('failures older than the window no longer count', async () => {
  const user = await aUser(server.db, PASSWORD);
  assert.equal((await tryLogin(user.username, 'wrong password')).status, 401);
  await sleep(WINDOW_S * 1000 + 1000);
  // One fresh failure after an expired one is one failure, not two: still not limited.
  assert.equal((await tryLogin(user.username, 'wrong password')).status, 401);
  const landed = await signIn((await authorizationRequest(config, { scope: 'openid' })).url, server.issuer, user.username, PASSWORD);
  assert.ok(new URL(landed.url).searchParams.has('code'), 'the right password is accepted');
});
