/**
 * Database outage: Tessera runs in a child process on a PostgreSQL server of this test's own,
 * which is stopped with `pg_ctl stop -m immediate` (connections cut, port closed) and started
 * again on the same port. While it is down, token and admin requests answer 503 within the
 * database timeout, pages answer a 503 page, /readyz fails, /healthz answers, the process and its
 * background work (purge, key refresh, both every second here) survive; once it is back,
 * everything works without a restart, including a refresh token issued before the outage.
 * Last, the server kills Tessera's connections (pg_terminate_backend) while staying up.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import pg from 'pg';
import { testEnv } from '../support/server.ts';
import { authorizationRequest, relyingParty } from '../support/fixtures.ts';
import { UserAgent } from '../support/browserless.ts';
import { startServerProcess, type ServerProcess } from '../support/processes.ts';
import { ownPostgres, postgresBin, type OwnPostgres } from './support/postgres.ts';
import { PASSWORD, raw, signInForTokens, sleep, tokenRequest, userAndClient, waitFor, type Client, type User } from './support/flows.ts';

const DB_TIMEOUT_MS = 2000;
const ADMIN = { client_id: 'test-admin', client_secret: 'test-admin-secret-0123456789' };

let pgServer: OwnPostgres | undefined;
let server: ServerProcess | undefined;
let cleanup = () => {};
let env: Record<string, string>;
let user: User;
let client: Client;
let refreshToken: string;
let adminToken: string;
// A browser left on the sign-in page when the database goes away.
let pending: { agent: UserAgent; url: string; body: string };

const skip = postgresBin() ? false : 'no PostgreSQL binaries under /usr/lib/postgresql';

before(async () => {
  if (skip) return;
  pgServer = await ownPostgres();
  ({ env, cleanup } = await testEnv({
    DATABASE_URL: pgServer.url,
    TESSERA_DB_TIMEOUT_MS: String(DB_TIMEOUT_MS),
    TESSERA_PURGE_INTERVAL_S: '1',
    TESSERA_KEYS_REFRESH_S: '1',
    TESSERA_LOG_LEVEL: 'info',
  }));
  ({ user, client } = await userAndClient(env, ['--grant-types', 'authorization_code,refresh_token,client_credentials']));
  server = await startServerProcess(env);
  const config = await relyingParty(env.ISSUER!, client.client_id, client.client_secret);
  refreshToken = (await signInForTokens(config, env.ISSUER!, user)).tokens.refresh_token!;
  const admin = await tokenRequest(server.url, ADMIN, { grant_type: 'client_credentials', scope: 'admin' });
  assert.equal(admin.status, 200, admin.body);
  adminToken = admin.json!.access_token as string;
  const agent = new UserAgent();
  const page = await agent.follow((await authorizationRequest(config, { scope: 'openid' })).url, env.ISSUER!);
  assert.match(page.body ?? '', /\/login"/, 'the sign-in page');
  pending = { agent, url: page.url, body: page.body! };
});

after(async () => {
  await server?.kill();
  await pgServer?.destroy();
  cleanup();
});

const alive = () => server!.child.exitCode === null && server!.child.signalCode === null;

// Figures for docs/reliability.md, printed at the end.
const figures: Record<string, number> = {};

test('database stopped: 503 with Retry-After everywhere it is needed, quickly; /readyz fails, /healthz answers; the process stays up', { skip }, async () => {
  await pgServer!.stopImmediate();
  const base = server!.url;

  const refresh = await tokenRequest(base, client, { grant_type: 'refresh_token', refresh_token: refreshToken });
  assert.equal(refresh.status, 503, refresh.body);
  assert.equal(refresh.json?.error, 'temporarily_unavailable');
  assert.match(String(refresh.json?.error_description), /database is unavailable/);
  assert.ok(Number(refresh.headers.get('retry-after')) > 0, 'Retry-After in seconds');
  assert.ok(refresh.ms < 10_000, `answered within 10 s rather than hanging (took ${refresh.ms} ms)`);
  figures.refresh_503_ms = refresh.ms;

  const credentials = await tokenRequest(base, client, { grant_type: 'client_credentials' });
  assert.equal(credentials.status, 503, credentials.body);
  assert.equal(credentials.json?.error, 'temporarily_unavailable');
  figures.client_credentials_503_ms = credentials.ms;

  const adminRes = await raw(`${base}/admin/v1/users?username=${user.username}`, { headers: { authorization: `Bearer ${adminToken}` } });
  assert.equal(adminRes.status, 503, adminRes.body);
  assert.match(adminRes.headers.get('content-type') ?? '', /application\/problem\+json/);
  assert.equal(adminRes.json?.status, 503);
  assert.match(String(adminRes.json?.detail), /database is unavailable/);
  assert.ok(Number(adminRes.headers.get('retry-after')) > 0);
  figures.admin_503_ms = adminRes.ms;

  // A browser: the authorization endpoint and an interaction page answer a page, not JSON, not 500.
  const authorize = await raw(`${base}/auth?client_id=${client.client_id}&response_type=code&scope=openid&redirect_uri=${encodeURIComponent('https://app.test/cb')}`, { headers: { accept: 'text/html' } });
  assert.equal(authorize.status, 503, authorize.body);
  assert.match(authorize.headers.get('content-type') ?? '', /text\/html/);
  assert.match(authorize.body, /unavailable/i);
  figures.authorize_503_ms = authorize.ms;
  let t = Date.now();
  const reload = await pending.agent.request(pending.url, { headers: { accept: 'text/html' } });
  assert.equal(reload.status, 503, await reload.text());
  assert.match(reload.headers.get('content-type') ?? '', /text\/html/);
  figures.interaction_503_ms = Date.now() - t;
  t = Date.now();
  const login = await pending.agent.submit(pending.url, pending.body, /\/login"/, { username: user.username, password: PASSWORD }, env.ISSUER!);
  assert.equal(login.res?.status, 503, login.body);
  assert.match(login.body ?? '', /unavailable/i);
  figures.login_503_ms = Date.now() - t;

  const ready = await raw(`${base}/readyz`);
  assert.equal(ready.status, 503);
  assert.equal((await raw(`${base}/healthz`)).status, 200);

  // The purge and key refresh timers fire (every second) against the dead database: no crash.
  await sleep(3_000);
  assert.ok(alive(), `the process is still running\n${server!.output()}`);
  const again = await tokenRequest(base, client, { grant_type: 'refresh_token', refresh_token: refreshToken });
  assert.equal(again.status, 503, 'still a 503, not a 500, after the background work ran');
  assert.doesNotMatch(server!.output(), /"level":"error"/, 'an outage is logged as warnings, not errors');
  assert.match(server!.output(), /database unavailable/);
});

test('database back on the same port: everything works again without a restart', { skip }, async () => {
  assert.ok(alive(), 'needs the running server from above');
  await pgServer!.start();
  const base = server!.url;
  figures.ready_again_ms = await waitFor('/readyz answers 200 again', async () => (await raw(`${base}/readyz`)).status === 200, 30_000);

  // The refresh token issued before the outage was never spent by the failed attempts.
  const config = await relyingParty(env.ISSUER!, client.client_id, client.client_secret);
  const refreshed = await oidc.refreshTokenGrant(config, refreshToken);
  assert.equal(refreshed.claims()!.sub, user.id);
  await assert.rejects(oidc.refreshTokenGrant(config, refreshToken), { error: 'invalid_grant' }, 'and it is spent now');

  const adminRes = await raw(`${base}/admin/v1/users?username=${user.username}`, { headers: { authorization: `Bearer ${adminToken}` } });
  assert.equal(adminRes.status, 200, adminRes.body);

  const { tokens } = await signInForTokens(config, env.ISSUER!, user);
  assert.equal(tokens.claims()!.sub, user.id, 'a new sign-in works');
  assert.ok(alive());
});

test('connections killed by the server (pg_terminate_backend) while it stays up: the next requests simply work', { skip }, async () => {
  const base = server!.url;
  const config = await relyingParty(env.ISSUER!, client.client_id, client.client_secret);
  const { tokens } = await signInForTokens(config, env.ISSUER!, user);
  const killer = new pg.Client({ connectionString: pgServer!.url });
  await killer.connect();
  try {
    const { rows } = await killer.query('select count(*)::int as n from (select pg_terminate_backend(pid) from pg_stat_activity where backend_type = $1 and pid <> pg_backend_pid()) t', ['client backend']);
    figures.connections_terminated = rows[0].n;
    assert.ok(rows[0].n >= 1, 'Tessera had pooled connections to terminate');
  } finally {
    await killer.end();
  }
  // The pool noticed the dead connections (their 'error' events) and opens new ones.
  const refreshed = await tokenRequest(base, client, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token! });
  assert.equal(refreshed.status, 200, refreshed.body);
  const adminRes = await raw(`${base}/admin/v1/users?username=${user.username}`, { headers: { authorization: `Bearer ${adminToken}` } });
  assert.equal(adminRes.status, 200, adminRes.body);
  assert.equal((await raw(`${base}/readyz`)).status, 200);
  assert.ok(alive(), server!.output());
  console.log(`# figures ${JSON.stringify(figures)}`);
});
