/**
 * Sign-ins that arrive at the same moment: one person in many tabs, colleagues behind one office
 * address. Each sign-in takes a count from the counters of its username, its address and both, and
 * a correct one gives it back; those writes must never deadlock one another, or a person with the
 * right password meets "Server error". (Found by `npm run bench`, whose code flows sign one user in
 * many times at once: PostgreSQL answered `deadlock detected`.)
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from './support/server.ts';
import { aClient, aUser, authorizationRequest, relyingParty } from './support/fixtures.ts';
import { AgentFrom } from './support/browserless.ts';
import { counterKeys, DEFAULT_LOGIN_LIMITS } from '../src/auth/login-limits.ts';
import { forgiveLoginAttempt, reserveLoginAttempt } from '../src/storage/login-failures.ts';

const PASSWORD = 'correct horse battery';
const octet = () => Math.floor(Math.random() * 250) + 1;
let server: TestServer;
let config: Awaited<ReturnType<typeof relyingParty>>;

before(async () => {
  if (!process.env.TEST_DATABASE_URL) return; // every test here is PostgreSQL's (onPostgres)
  // Limits high enough that every attempt here is let through to the password check: what is tested
  // is what the counters' writes do when they meet, not the limits.
  server = await startTestServer({
    TESSERA_TRUST_PROXY: '1',
    TESSERA_PASSWORD_HASH_QUEUE: '1000',
    TESSERA_LOGIN_MAX_FAILURES: '1000',
    TESSERA_LOGIN_MAX_FAILURES_PER_USER: '1000',
    TESSERA_LOGIN_MAX_FAILURES_PER_IP: '1000',
  });
  const client = await aClient(server.db);
  config = await relyingParty(server.issuer, client.client_id, client.client_secret);
});
after(async () => {
  await server?.stop();
});

/**
 * Opens a sign-in page; the function it gives submits it and answers what the person sees next:
 * `signed in` (the consent page that follows a right password) or the page's status.
 */
async function loginPage(agent: AgentFrom) {
  const page = await agent.follow((await authorizationRequest(config, { scope: 'openid' })).url, server.issuer);
  return async (username: string, password: string) => {
    const answer = await agent.submit(page.url, page.body!, /\/login"/, { username, password }, server.issuer);
    return answer.body && /action="[^"]+\/confirm"/.test(answer.body) ? 'signed in' : String(answer.res?.status);
  };
}

// Only PostgreSQL runs statements side by side; the embedded database's one backend runs them in turn.
const onPostgres = process.env.TEST_DATABASE_URL ? {} : { skip: 'the embedded database runs one statement at a time' };

const tally = (seen: string[]) => seen.reduce<Record<string, number>>((t, s) => ({ ...t, [s]: (t[s] ?? 0) + 1 }), {});

test('one person signing in again and again from 12 tabs at once, with a colleague beside them: every right password gets in', onPostgres, async () => {
  const person = await aUser(server.db, PASSWORD);
  const colleague = await aUser(server.db, PASSWORD);
  const office = `10.${octet()}.${octet()}.${octet()}`;
  // Each tab signs in four times in a row, so sign-ins start while others finish: the counters are
  // taken from and given back at the same moments.
  const tab = async (username: string, password: string) => {
    const seen: string[] = [];
    for (let i = 0; i < 4; i++) seen.push(await (await loginPage(new AgentFrom(office)))(username, password));
    return seen;
  };
  const [mine, theirs, wrong] = await Promise.all([
    Promise.all(Array.from({ length: 12 }, () => tab(person.username, PASSWORD))),
    Promise.all(Array.from({ length: 2 }, () => tab(colleague.username, PASSWORD))),
    tab(colleague.username, 'wrong password'),
  ]);
  assert.deepEqual(tally(mine.flat()), { 'signed in': 48 }, "the person's own sign-ins");
  assert.deepEqual(tally(theirs.flat()), { 'signed in': 8 }, "the colleague's");
  assert.deepEqual(tally(wrong), { 401: 4 }, 'a wrong password is still refused');
});

test('the counters of one username and address, taken and given back by 16 sign-ins at a time, never deadlock', onPostgres, async () => {
  // The writes of a right password (take one from each counter, then give back) without the
  // password check between them, so they meet as often as they can.
  const username = `person-${octet()}-${Date.now()}`;
  const keys = counterKeys(username, `10.${octet()}.${octet()}.${octet()}`, DEFAULT_LOGIN_LIMITS);
  const errors: string[] = [];
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      for (let i = 0; i < 60; i++) {
        try {
          await reserveLoginAttempt(server.db, keys, 900);
          await forgiveLoginAttempt(server.db, keys);
        } catch (err) {
          errors.push((err as Error).message);
        }
      }
    }),
  );
  assert.deepEqual(errors.slice(0, 3), [], `${errors.length} of 960 sign-ins failed`);
});
