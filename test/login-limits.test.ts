import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from './support/server.ts';
import { aClient, aUser, authorizationRequest, relyingParty, unique } from './support/fixtures.ts';
import { signIn, AgentFrom } from './support/browserless.ts';

const PASSWORD = 'correct horse battery';
// Addresses of this run only: failures are kept in the database, which a PostgreSQL test run shares
// between files and between runs, so fixed addresses would find the last run's counters.
const octet = () => Math.floor(Math.random() * 250) + 1;
const [A, B, C] = [`10.${octet()}.${octet()}`, `10.${octet()}.${octet()}`, `10.${octet()}.${octet()}`];
let server: TestServer;
let config: Awaited<ReturnType<typeof relyingParty>>;
before(async () => {
  // Behind a proxy: X-Forwarded-For names the client. Small limits so the test stays short.
  server = await startTestServer({ TESSERA_TRUST_PROXY: '1', TESSERA_LOGIN_MAX_FAILURES: '3', TESSERA_LOGIN_MAX_FAILURES_PER_USER: '6', TESSERA_LOGIN_MAX_FAILURES_PER_IP: '8', TESSERA_LOGIN_WINDOW_S: '900' });
  const client = await aClient(server.db);
  config = await relyingParty(server.issuer, client.client_id, client.client_secret);
});
after(async () => server.stop());

/** Opens a login page and posts one username and password through the form; the answer as the person sees it. */
async function tryLogin(ip: string, username: string, password: string) {
  const agent = new AgentFrom(ip);
  const page = await agent.follow((await authorizationRequest(config, { scope: 'openid' })).url, server.issuer);
  const answer = await agent.submit(page.url, page.body!, /\/login"/, { username, password }, server.issuer);
  return { status: answer.res?.status, body: answer.body ?? '', retryAfter: answer.res?.headers.get('retry-after'), signedIn: !answer.res || answer.res.status < 400 };
}

async function signsIn(ip: string, username: string) {
  const landed = await signIn((await authorizationRequest(config, { scope: 'openid' })).url, server.issuer, username, PASSWORD, new AgentFrom(ip));
  return new URL(landed.url).searchParams.has('code');
}

test('after 3 failures for a username from one address, even the right password is refused with a clear message', async () => {
  const user = await aUser(server.db, PASSWORD);
  for (let i = 0; i < 3; i++) assert.equal((await tryLogin(`${A}.10`, user.username, 'wrong password')).status, 401);
  const limited = await tryLogin(`${A}.10`, user.username, PASSWORD);
  assert.equal(limited.status, 429);
  assert.match(limited.body, /Too many failed sign-in attempts/);
  assert.match(limited.body, /try again in 15 minutes/);
  assert.equal(limited.retryAfter !== null && Number(limited.retryAfter) > 800, true, 'Retry-After in seconds');
  assert.equal(limited.signedIn, false);
  // Same user typed in another case: the same counter.
  assert.equal((await tryLogin(`${A}.10`, user.username.toUpperCase(), PASSWORD)).status, 429);
  assert.ok(server.logs.some((l) => l.includes('login rate limited')), 'the limit is logged');

  // Nobody else is locked out: another user from that address, this user from another address.
  const other = await aUser(server.db, PASSWORD);
  assert.equal(await signsIn(`${A}.10`, other.username), true, 'another user from the same address signs in');
  assert.equal(await signsIn(`${B}.7`, user.username), true, 'the same user from another address signs in');
});

test('a successful sign-in clears that address\'s failures for the user', async () => {
  const user = await aUser(server.db, PASSWORD);
  for (let round = 0; round < 2; round++) {
    for (let i = 0; i < 2; i++) assert.equal((await tryLogin(`${A}.20`, user.username, 'wrong password')).status, 401);
    assert.equal(await signsIn(`${A}.20`, user.username), true, `round ${round}: 2 failures then the right password`);
  }
  // Four failures in all, never three in a row: not limited.
  assert.equal((await tryLogin(`${A}.20`, user.username, 'wrong password')).status, 401);
});

test('guessing one username from many addresses hits the per-username limit', async () => {
  const user = await aUser(server.db, PASSWORD);
  for (let i = 0; i < 6; i++) assert.equal((await tryLogin(`${C}.${100 + i}`, user.username, 'wrong password')).status, 401);
  const limited = await tryLogin(`${C}.200`, user.username, PASSWORD);
  assert.equal(limited.status, 429);
  assert.match(limited.body, /Too many failed sign-in attempts/);
});

test('trying many usernames from one address hits the per-address limit, and a forged X-Forwarded-For does not evade it', async () => {
  const ip = `${A}.30`;
  for (let i = 0; i < 8; i++) assert.equal((await tryLogin(ip, unique('nobody'), 'whatever-password')).status, 401);
  const user = await aUser(server.db, PASSWORD);
  assert.equal((await tryLogin(ip, user.username, PASSWORD)).status, 429, 'a real user from that address waits too');
  // A client that prepends its own X-Forwarded-For entry: the proxy appends the real address last.
  assert.equal((await tryLogin(`10.9.8.7, ${ip}`, user.username, PASSWORD)).status, 429);
  assert.equal(await signsIn(`${A}.31`, user.username), true, 'other addresses are not affected');
});
