/**
 * TESSERA_WORKERS: several processes behind one port (node:cluster). Every state is in the
 * database, so this needs PostgreSQL; on the embedded database the start is refused with a clear
 * message instead. The real `tessera start` runs in a child process here.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { execFileSync } from 'node:child_process';
import pg from 'pg';
import { testEnv } from './support/server.ts';
import { throwawayDatabase } from './support/database.ts';
import { runCli, startServerProcess } from './support/processes.ts';

const onPostgres = Boolean(process.env.TEST_DATABASE_URL);

/** A token request on a connection of its own, so the cluster can hand each one to any worker. */
function clientCredentials(issuer: string, id: string, secret: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const url = new URL('/token', issuer);
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      { method: 'POST', agent: false, headers: { authorization: `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' }, timeout: 10_000 },
      (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (d: string) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(text) }));
      },
    );
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('no answer within 10 s')));
    req.end('grant_type=client_credentials&scope=admin');
  });
}

test('two workers serve token requests on one port, first-start work is done once, a dead worker is replaced, and SIGTERM stops them all with exit 0', { skip: !onPostgres && 'needs TEST_DATABASE_URL' }, async () => {
  // A database of its own: the first start's work (migrations, keys, the generated admin client)
  // happens here, so it can be counted.
  const database = await throwawayDatabase(process.env.TEST_DATABASE_URL!);
  const { env, cleanup } = await testEnv({ TESSERA_WORKERS: '2', TESSERA_LOG_LEVEL: 'info', DATABASE_URL: database.url });
  delete env.TESSERA_ADMIN_CLIENT_ID;
  delete env.TESSERA_ADMIN_CLIENT_SECRET;
  const server = await startServerProcess(env);
  const listening = () => (server.output().match(/"msg":"listening"/g) ?? []).length;
  try {
    // /readyz answers as soon as one worker listens; wait (bounded) for the second.
    for (const deadline = Date.now() + 30_000; listening() < 2; await new Promise((r) => setTimeout(r, 100))) {
      assert.ok(Date.now() < deadline, `the second worker did not listen within 30 s\n${server.output()}`);
    }
    const printed = [...server.output().matchAll(/TESSERA_ADMIN_CLIENT_(ID|SECRET)=(\S+)/g)];
    assert.deepEqual(printed.map((m) => m[1]), ['ID', 'SECRET'], `the generated admin client is printed once\n${server.output()}`);
    const [adminId, adminSecret] = printed.map((m) => m[2]!);
    const answers = [];
    for (let i = 0; i < 24; i++) answers.push(await clientCredentials(server.issuer, adminId!, adminSecret!));
    for (const a of answers) {
      assert.equal(a.status, 200);
      assert.equal(typeof a.body.access_token, 'string');
    }
    // Each worker logs its own requests with its id: both must have served some.
    const lines = server
      .output()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const servedBy = new Set(lines.filter((l) => l.msg === 'request' && l.path === '/token').map((l) => l.worker));
    assert.deepEqual([...servedBy].sort(), [1, 2], `token requests served by workers ${[...servedBy].join(', ')}`);
    assert.equal(lines.filter((l) => l.msg === 'migrations applied').length, 1, 'migrations run once');
    assert.equal(lines.filter((l) => l.msg === 'admin client generated').length, 1, 'the admin client is generated once');
    // One key of each algorithm and one set of cookie keys, however many processes started.
    const stored = new pg.Client({ connectionString: database.url });
    await stored.connect();
    try {
      assert.deepEqual((await stored.query('select alg from signing_keys order by alg')).rows.map((r) => r.alg), ['ES256', 'RS256']);
      assert.equal((await stored.query("select count(*)::int as n from provider_secrets where name = 'cookie_keys'")).rows[0].n, 1);
    } finally {
      await stored.end();
    }

    assert.equal(lines.filter((l) => l.msg === 'worker died, replacing it').length, 0);

    // A worker that dies is logged and replaced.
    const workerPids = execFileSync('ps', ['-o', 'pid=', '--ppid', String(server.child.pid)], { encoding: 'utf8' }).trim().split(/\s+/).map(Number);
    assert.equal(workerPids.length, 2, 'two worker processes');
    process.kill(workerPids[0]!, 'SIGKILL');
    const deadline = Date.now() + 30_000;
    while (!/"msg":"worker died, replacing it"/.test(server.output()) || listening() < 3) {
      assert.ok(Date.now() < deadline, `no replacement worker within 30 s\n${server.output()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    // A connection the killed worker had already taken is lost with it; new ones are all answered.
    for (let i = 0; i < 8; i++) assert.equal((await clientCredentials(server.issuer, adminId!, adminSecret!)).status, 200);

    const { code, signal } = await server.stop();
    assert.equal(signal, null);
    assert.equal(code, 0);
  } finally {
    await server.kill();
    cleanup();
    await database.drop();
  }
});

test('on the embedded database more than one worker is refused with a clear message', { skip: onPostgres && 'runs on PGlite' }, async () => {
  const { env, cleanup } = await testEnv({ TESSERA_WORKERS: '2' });
  try {
    const r = await runCli(['start'], env, { timeoutMs: 30_000 });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /TESSERA_WORKERS=2 needs DATABASE_URL/);
  } finally {
    cleanup();
  }
});

test('TESSERA_WORKERS must be a whole number of 1 or more', async () => {
  const { env, cleanup } = await testEnv({ TESSERA_WORKERS: '0' });
  try {
    const r = await runCli(['start'], env, { timeoutMs: 30_000 });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /TESSERA_WORKERS/);
  } finally {
    cleanup();
  }
});
