/**
 * Issue 13 item 7: a PostgreSQL that freezes (SIGSTOP to the postmaster and every backend: its
 * sockets stay open, nothing answers). Tessera runs in a child process with
 * TESSERA_DB_STATEMENT_TIMEOUT_MS and TESSERA_DB_TIMEOUT_MS set; while the server is frozen, token,
 * admin and sign-in page requests keep arriving. None answers 500, none waits out the freeze: each
 * answers 503 with Retry-After (or succeeds, when it needed no database). After SIGCONT, service
 * resumes without a restart.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { testEnv } from '../support/server.ts';
import { REDIRECT_URI } from '../support/fixtures.ts';
import { startServerProcess, type ServerProcess } from '../support/processes.ts';
import { ownPostgres, postgresBin, type OwnPostgres } from './support/postgres.ts';
import { raw, sleep, tokenRequest, userAndClient, waitFor, type Client } from './support/flows.ts';

const STATEMENT_TIMEOUT_MS = 2000;
const DB_TIMEOUT_MS = 2000;
const FREEZE_MS = 12_000;
// A request may meet a pool wait, then a statement deadline (statement_timeout + pg's margin): far
// less than the freeze. A request still open at this bound is one that waited for the thaw.
const ABORT_AFTER_MS = 9_000;
const ADMIN = { client_id: 'test-admin', client_secret: 'test-admin-secret-0123456789' };

let pgServer: OwnPostgres | undefined;
let server: ServerProcess | undefined;
let cleanup = () => {};
let env: Record<string, string>;
let client: Client;
let adminToken: string;

const skip = postgresBin() ? false : 'no PostgreSQL binaries under /usr/lib/postgresql';

before(async () => {
  if (skip) return;
  pgServer = await ownPostgres();
  ({ env, cleanup } = await testEnv({
    DATABASE_URL: pgServer.url,
    TESSERA_DB_TIMEOUT_MS: String(DB_TIMEOUT_MS),
    TESSERA_DB_STATEMENT_TIMEOUT_MS: String(STATEMENT_TIMEOUT_MS),
    TESSERA_LOG_LEVEL: 'info',
  }));
  ({ client } = await userAndClient(env, ['--grant-types', 'authorization_code,refresh_token,client_credentials']));
  server = await startServerProcess(env);
  const admin = await tokenRequest(server.url, ADMIN, { grant_type: 'client_credentials', scope: 'admin' });
  assert.equal(admin.status, 200, admin.body);
  adminToken = admin.json!.access_token as string;
});

after(async () => {
  pgServer?.thaw();
  await server?.kill();
  await pgServer?.destroy();
  cleanup();
});

type Outcome = { kind: string; status: number | 'hung'; retryAfter: string | null; ms: number; body: string };

/** The three kinds of request, each bounded by ABORT_AFTER_MS (an abort is recorded as 'hung'). */
function requests(base: string): Array<[string, () => Promise<Awaited<ReturnType<typeof raw>>>]> {
  const authorize = `${base}/auth?client_id=${client.client_id}&response_type=code&scope=openid&redirect_uri=${encodeURIComponent(REDIRECT_URI)}&code_challenge=${'a'.repeat(43)}&code_challenge_method=S256`;
  return [
    ['token', () => tokenRequest(base, client, { grant_type: 'client_credentials' }, ABORT_AFTER_MS)],
    ['admin', () => raw(`${base}/admin/v1/organizations`, { headers: { authorization: `Bearer ${adminToken}` } }, ABORT_AFTER_MS)],
    ['sign-in page', () => raw(authorize, { headers: { accept: 'text/html' } }, ABORT_AFTER_MS)],
  ];
}

async function outcome(kind: string, send: () => Promise<Awaited<ReturnType<typeof raw>>>): Promise<Outcome> {
  const started = Date.now();
  try {
    const res = await send();
    return { kind, status: res.status, retryAfter: res.headers.get('retry-after'), ms: res.ms, body: res.body.slice(0, 200) };
  } catch (err) {
    return { kind, status: 'hung', retryAfter: null, ms: Date.now() - started, body: (err as Error).message };
  }
}

test('PostgreSQL frozen by SIGSTOP: every request answers 503 + Retry-After (or succeeds) before the freeze ends; none answers 500', { skip }, async () => {
  const base = server!.url;
  for (const [kind, send] of requests(base)) {
    const res = await send();
    assert.ok(res.status < 400, `${kind} works before the freeze: ${res.status} ${res.body.slice(0, 200)}`);
  }

  pgServer!.freeze();
  const frozenAt = Date.now();
  const pending: Array<Promise<Outcome>> = [];
  try {
    // A round of all three kinds every second, while the server stays frozen.
    while (Date.now() - frozenAt < FREEZE_MS - ABORT_AFTER_MS + 2_000) {
      for (const [kind, send] of requests(base)) pending.push(outcome(kind, send));
      await sleep(1_000);
    }
    const outcomes = await Promise.all(pending);
    const thawedAt = Date.now() - frozenAt;
    // Every request has its answer before the server is thawed: none waited for the freeze to end.
    assert.ok(thawedAt < FREEZE_MS + 1_000, `all answers came while frozen (${thawedAt} ms)`);
    const bad = outcomes.filter((o) => o.status === 'hung' || o.status === 500 || (o.status === 503 && !(Number(o.retryAfter) > 0)) || (typeof o.status === 'number' && o.status >= 400 && o.status !== 503));
    assert.deepEqual(bad, [], 'no request hung, answered 500, or answered 503 without Retry-After');
    assert.ok(outcomes.some((o) => o.status === 503), 'the freeze was felt (some answers were 503)');
    // The log lines about it name the request they belong to (the x-request-id the client saw).
    const unavailable = server!.output().split('\n').filter((l) => l.includes('"database unavailable"'));
    assert.ok(unavailable.length > 0, 'the outage is logged');
    for (const line of unavailable) assert.match(line, /"request_id":"[^"]+"/, `a request_id on ${line}`);
    const byKind: Record<string, Record<string, number>> = {};
    for (const o of outcomes) (byKind[o.kind] ??= {})[String(o.status)] = (byKind[o.kind]![String(o.status)] ?? 0) + 1;
    console.log(`# figures ${JSON.stringify({ requests: outcomes.length, by_kind: byKind, slowest_ms: Math.max(...outcomes.map((o) => o.ms)), statement_timeout_ms: STATEMENT_TIMEOUT_MS, db_timeout_ms: DB_TIMEOUT_MS })}`);
  } finally {
    const left = FREEZE_MS - (Date.now() - frozenAt);
    if (left > 0) await sleep(left);
    pgServer!.thaw();
  }
});

test('after SIGCONT, service resumes without a restart', { skip }, async () => {
  const base = server!.url;
  await waitFor('/readyz answers 200 again', async () => (await raw(`${base}/readyz`)).status === 200, 30_000);
  for (const [kind, send] of requests(base)) {
    await waitFor(`${kind} works again`, async () => (await send()).status < 400, 30_000);
  }
  assert.doesNotMatch(server!.output(), /"level":"error"/, 'a frozen database is logged as warnings, not errors');
  assert.equal(server!.child.exitCode, null, 'the process is still running');
});
