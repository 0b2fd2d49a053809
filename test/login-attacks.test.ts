/**
 * The sign-in attacks of issue 13, performed as an outsider would, with the default limits (5 per
 * username and address, 20 per username, 100 per address in 15 minutes): parallel guessing, a login
 * flood against token issuance and its payload hook, locking a chosen account out, look-alike usernames,
 * and a password stored by an older version.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import { startTestServer, type TestServer } from './support/server.ts';
import { aClient, aResourceServer, aUser, authorizationRequest, relyingParty, unique } from './support/fixtures.ts';
import { signIn, AgentFrom } from './support/browserless.ts';
import { startReceiver, type Receiver } from './support/receiver.ts';
import { createUser } from '../src/storage/users.ts';
import { scryptSync } from 'node:crypto';

const PASSWORD = 'correct horse battery';
// Addresses of this run only: a PostgreSQL test database keeps counters between runs.
const octet = () => Math.floor(Math.random() * 250) + 1;
const net = () => `10.${octet()}.${octet()}`;
let server: TestServer;
let config: Awaited<ReturnType<typeof relyingParty>>;
let receiver: Receiver;

before(async () => {
  receiver = await startReceiver((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{"tier":"gold"}'));
  });
  // A waiting line long enough that the parallel tests see limits, not "busy"; hook hosts on loopback allowed.
  server = await startTestServer({ TESSERA_TRUST_PROXY: '1', TESSERA_PASSWORD_HASH_QUEUE: '1000', TESSERA_HOOK_ALLOWED_HOSTS: 'localhost,127.0.0.1' });
  const client = await aClient(server.db);
  config = await relyingParty(server.issuer, client.client_id, client.client_secret);
});
after(async () => {
  await server.stop();
  await receiver.stop();
});

/** Opens a sign-in page; `post` then submits one username and password, and gives the status the person sees. */
async function loginPage(agent: AgentFrom, at = { server, config }) {
  const page = await agent.follow((await authorizationRequest(at.config, { scope: 'openid' })).url, at.server.issuer);
  return async (username: string, password: string) => {
    const answer = await agent.submit(page.url, page.body!, /\/login"/, { username, password }, at.server.issuer);
    return answer.res ? answer.res.status : 302;
  };
}

async function pages(agents: AgentFrom[], at = { server, config }) {
  const ready = [];
  for (let i = 0; i < agents.length; i += 10) ready.push(...(await Promise.all(agents.slice(i, i + 10).map((a) => loginPage(a, at)))));
  return ready;
}

const tally = (statuses: number[]) => statuses.reduce<Record<number, number>>((t, s) => ({ ...t, [s]: (t[s] ?? 0) + 1 }), {});

async function signsIn(agent: AgentFrom, username: string, password = PASSWORD) {
  const landed = await signIn((await authorizationRequest(config, { scope: 'openid' })).url, server.issuer, username, password, agent);
  return new URL(landed.url).searchParams.has('code');
}

test('40 parallel wrong passwords for one user from one address: at most 5 are checked, the rest are refused unchecked', async () => {
  const user = await aUser(server.db, PASSWORD);
  const ip = `${net()}.1`;
  const posts = await pages(Array.from({ length: 40 }, () => new AgentFrom(ip)));
  const checksBefore = passwordChecks(await metrics());
  const answers = tally(await Promise.all(posts.map((post) => post(user.username, 'wrong password'))));
  // 401 "Wrong username or password" means the password was checked; 429 means it was not; /metrics counts the checks.
  assert.ok((answers[401] ?? 0) <= 5, `answered 401 ${answers[401]} times: ${JSON.stringify(answers)}`);
  assert.equal((answers[401] ?? 0) + (answers[429] ?? 0), 40, JSON.stringify(answers));
  assert.ok(passwordChecks(await metrics()) - checksBefore <= 5, `checked ${passwordChecks(await metrics()) - checksBefore} passwords`);
});

test('150 parallel attempts from one address across usernames: at most 100 are checked', async () => {
  const ip = `${net()}.2`;
  const posts = await pages(Array.from({ length: 150 }, () => new AgentFrom(ip)));
  const checksBefore = passwordChecks(await metrics());
  const answers = tally(await Promise.all(posts.map((post) => post(unique('nobody'), 'whatever-password'))));
  assert.ok((answers[401] ?? 0) <= 100, `answered 401 ${answers[401]} times: ${JSON.stringify(answers)}`);
  assert.equal((answers[401] ?? 0) + (answers[429] ?? 0), 150, JSON.stringify(answers));
  assert.ok(passwordChecks(await metrics()) - checksBefore <= 100, `checked ${passwordChecks(await metrics()) - checksBefore} passwords`);
});

test('strangers failing from 20 addresses do not lock the owner out of a browser that signed in before; a new browser waits', async () => {
  const victim = await aUser(server.db, PASSWORD);
  const owner = new AgentFrom(`${net()}.3`);
  assert.equal(await signsIn(owner, victim.username), true, 'the owner signs in once from their browser');
  const base = net();
  const strangers = await pages(Array.from({ length: 20 }, (_, i) => new AgentFrom(`${base}.${10 + i}`)));
  for (const post of strangers) assert.equal(await post(victim.username, 'wrong password'), 401);

  const newBrowser = await loginPage(new AgentFrom(`${net()}.4`));
  assert.equal(await newBrowser(victim.username, PASSWORD), 429, 'guessing stays bounded per account for browsers never signed in');
  owner.ip = `${net()}.5`; // the owner's laptop, now on another network, signed out: only the device cookie is left
  for (const name of [...owner.cookies.keys()]) if (!name.startsWith('tessera.device.')) owner.cookies.delete(name);
  assert.equal(owner.cookies.size, 1);
  assert.equal(await signsIn(owner, victim.username), true, 'the owner gets in at once with the right password');
});

test('a device cookie counts its own failures: a stolen-then-guessing browser is limited to 5', async () => {
  const victim = await aUser(server.db, PASSWORD);
  const browser = new AgentFrom(`${net()}.6`);
  assert.equal(await signsIn(browser, victim.username), true);
  // Tabs of that browser: its device cookie, each its own sign-in page.
  const tab = () => Object.assign(new AgentFrom(browser.ip), { cookies: new Map([...browser.cookies].filter(([k]) => k.startsWith('tessera.device'))) });
  assert.equal(tab().cookies.size, 1, 'the browser holds a device cookie');
  const posts = await pages(Array.from({ length: 8 }, tab));
  const answers = tally(await Promise.all(posts.map((post) => post(victim.username, 'wrong password'))));
  assert.deepEqual(answers, { 401: 5, 429: 3 });
});

test('a username typed in another Unicode form is the same account with the same counters; a look-alike is not the account', async () => {
  const victim = await aUser(server.db, PASSWORD, { username: unique('victim') });
  const ip = `${net()}.7`;
  const fullWidth = [...victim.username].map((c) => (/[a-z]/.test(c) ? String.fromCharCode(c.charCodeAt(0) + 0xfee0) : c)).join('');
  const forms = [victim.username.toUpperCase(), fullWidth, victim.username, fullWidth, victim.username.toUpperCase()];
  for (const form of forms) assert.equal(await (await loginPage(new AgentFrom(ip)))(form, 'wrong password'), 401);
  assert.equal(await (await loginPage(new AgentFrom(ip)))(victim.username, PASSWORD), 429, 'five failures in three spellings: one counter');
  // A dotted capital I lower-cases to i + U+0307, not i: another (unknown) name, never the victim.
  const lookalike = victim.username.replace('i', '\u0130');
  assert.equal(await (await loginPage(new AgentFrom(`${net()}.8`)))(lookalike, PASSWORD), 401);
  assert.equal(await signsIn(new AgentFrom(`${net()}.9`), fullWidth), true, 'the full-width spelling signs in as the victim');
});

test('a password stored by an older version (scrypt) signs in and is stored again as argon2id', async () => {
  const salt = Buffer.from('fixed-salt-for-test');
  const legacy = async (password: string) => ['scrypt', 14, 8, 1, salt.toString('base64url'), scryptSync(password, salt, 32, { N: 2 ** 14, r: 8, p: 1 }).toString('base64url')].join('$');
  const user = await createUser(server.db, { username: unique('old'), password: PASSWORD }, legacy);
  assert.match((await server.db('users').where({ id: user.id }).first('password_hash')).password_hash, /^scrypt\$/);
  assert.equal(await signsIn(new AgentFrom(`${net()}.11`), user.username), true);
  const { password_hash } = await server.db('users').where({ id: user.id }).first('password_hash');
  assert.match(password_hash, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
  assert.equal(await signsIn(new AgentFrom(`${net()}.12`), user.username), true, 'and the new hash verifies');
});

test('80 concurrent bad sign-ins do not starve token issuance or its webhook (whose host name needs DNS)', async () => {
  // Hashes of about a quarter of a second each, as with the scrypt cost the attack was first made on.
  const flooded = await startTestServer({ TESSERA_TRUST_PROXY: '1', TESSERA_PASSWORD_MEMORY_KIB: '65536', TESSERA_PASSWORD_PASSES: '4', TESSERA_HOOK_ALLOWED_HOSTS: 'localhost,127.0.0.1' });
  after(() => flooded.stop());
  const app = await aClient(flooded.db);
  const at = { server: flooded, config: await relyingParty(flooded.issuer, app.client_id, app.client_secret) };
  const rs = await aResourceServer(flooded.db);
  const hookUrl = receiver.url.replace('127.0.0.1', 'localhost');
  const service = await aClient(flooded.db, { grant_types: ['client_credentials'], redirect_uris: [], allowed_resources: [rs.identifier], payload_hook: { url: hookUrl, secret: 'hook-secret-0123456789abcdef' } as never });
  const serviceRp = await relyingParty(flooded.issuer, service.client_id, service.client_secret);
  const failuresBefore = hookFailures(await metrics(flooded));

  const base = net();
  const posts = await pages(Array.from({ length: 80 }, (_, i) => new AgentFrom(`${base}.${i + 1}`)), at);
  let flooding = true;
  const flood = Promise.all(posts.map((post) => post(unique('nobody'), 'wrong password'))).finally(() => (flooding = false));
  const tokens: string[] = [];
  const refused: string[] = [];
  while (flooding || tokens.length < 5) {
    await oidc.clientCredentialsGrant(serviceRp, { scope: 'read', resource: rs.identifier }).then(
      (t) => tokens.push(t.access_token),
      (err: oidc.ResponseBodyError) => refused.push(`${err.error}: ${err.error_description}`),
    );
  }
  const answers = tally(await flood);
  assert.deepEqual(refused, [], 'no token request failed during the flood');
  assert.equal(hookFailures(await metrics(flooded)), failuresBefore, 'no hook failure in /metrics');
  assert.ok((answers[401] ?? 0) > 0, `the flood's passwords were checked: ${JSON.stringify(answers)}`);
  // Past the waiting line, sign-in says it is busy rather than queueing without end.
  assert.equal((answers[401] ?? 0) + (answers[503] ?? 0), 80, JSON.stringify(answers));
  assert.ok((answers[503] ?? 0) > 0, JSON.stringify(answers));
});

async function metrics(of = server) {
  return (await fetch(`${of.issuer}/metrics`)).text();
}

/** The sum of a counter's series in /metrics' text. */
const total = (name: string) => (text: string) =>
  text
    .split('\n')
    .filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `))
    .reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
const hookFailures = total('tessera_payload_hook_failures_total');
const passwordChecks = (text: string) => total('tessera_password_checks_total')(text.split('\n').filter((l) => !l.includes('outcome="busy"')).join('\n'));
