/**
 * Graceful shutdown: SIGTERM to `tessera start` while a token request is held in flight by a slow
 * payload-hook webhook on loopback. The listener closes at once (new connections refused), an idle
 * keep-alive connection is closed, the in-flight request completes with 200, the pool is closed
 * and the process exits 0. With a hook that never answers, the grace period bounds the wait.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { freePort, testEnv } from '../support/server.ts';
import { cliJson, startServerProcess, type ServerProcess } from '../support/processes.ts';
import { sharedDatabase } from './support/postgres.ts';
import { tokenRequest, waitFor, within, type Client } from './support/flows.ts';

const HOOK_SECRET = 'graceful-shutdown-hook-secret';

let database: { url: string; drop(): Promise<void> };
const started: ServerProcess[] = [];
const cleanups: Array<() => void> = [];

/** A webhook receiver that tells when it is called and answers only when released. */
async function slowHook() {
  let called!: () => void;
  const wasCalled = new Promise<void>((r) => (called = r));
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  const receiver = http.createServer((req, res) => {
    req.resume();
    called();
    void released.then(() => res.writeHead(200, { 'content-type': 'application/json' }).end('{"shift":"night"}'));
  });
  const port = await freePort();
  await new Promise<void>((r) => receiver.listen(port, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${port}/payload`, wasCalled, release, close: () => (release(), receiver.closeAllConnections(), receiver.close()) };
}

async function serverWith(hookUrl: string, extra: Record<string, string>) {
  const { env, cleanup } = await testEnv({
    DATABASE_URL: database.url,
    TESSERA_LOG_LEVEL: 'info',
    TESSERA_PAYLOAD_HOOK_URL: hookUrl,
    TESSERA_PAYLOAD_HOOK_SECRET: HOOK_SECRET,
    TESSERA_PAYLOAD_HOOK_TIMEOUT_MS: '10000',
    ...extra,
  });
  cleanups.push(cleanup);
  const client = await cliJson<Client>(['client', 'add', '--name', 'Shutdown job', '--grant-types', 'client_credentials'], env);
  const server = await startServerProcess(env);
  started.push(server);
  return { env, client, server, port: Number(env.PORT) };
}

/** Resolves true once a new TCP connection to the port is refused. */
const refused = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => (socket.destroy(), resolve(false)));
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED'));
  });

/** A kept-alive connection that made one request and now sits idle; `closed` resolves when the server closes it. */
async function idleKeepAlive(port: number) {
  const socket = net.connect(port, '127.0.0.1');
  await new Promise<void>((r) => socket.once('connect', () => r()));
  const closed = new Promise<void>((r) => socket.once('close', () => r()));
  socket.on('error', () => {});
  const answered = new Promise<string>((r) => socket.once('data', (d) => r(d.toString('utf8'))));
  socket.write('GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: keep-alive\r\n\r\n');
  assert.match(await answered, /^HTTP\/1\.1 200/);
  return { closed };
}

const lines = (output: string) => output.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { msg: string; level: string });

before(async () => {
  database = await sharedDatabase();
});

after(async () => {
  await Promise.all(started.map((s) => s.kill()));
  for (const c of cleanups) c();
  await database?.drop();
});

test('SIGTERM: no new connections, idle keep-alive closed, the in-flight token request completes with 200, pool closed, exit 0', async () => {
  const hook = await slowHook();
  try {
    const { client, server, port } = await serverWith(hook.url, { TESSERA_SHUTDOWN_GRACE_S: '20' });
    const idle = await idleKeepAlive(port);
    const inFlight = tokenRequest(server.url, client, { grant_type: 'client_credentials' }, 30_000);
    await within(hook.wasCalled, 10_000, 'the hook is called');

    const sigterm = Date.now();
    server.child.kill('SIGTERM');
    await waitFor('new connections refused', () => refused(port), 5_000, 50);
    await within(idle.closed, 5_000, 'the idle keep-alive connection is closed');
    assert.equal(server.child.exitCode, null, 'still running while a request is in flight');

    hook.release();
    const answer = await inFlight;
    assert.equal(answer.status, 200, answer.body);
    assert.ok(answer.json?.access_token, 'the token was issued');

    const exit = await server.waitExit(10_000);
    assert.deepEqual(exit, { code: 0, signal: null }, `exits 0 on its own\n${server.output()}`);
    const msgs = lines(server.output()).map((l) => l.msg);
    const order = ['shutting down', 'http server closed', 'database pool closed', 'stopped'].map((m) => msgs.indexOf(m));
    assert.ok(order.every((i, n) => i >= 0 && (n === 0 || i > order[n - 1]!)), `shutdown logged in order: ${msgs.join(' | ')}`);
    assert.ok(!msgs.includes('grace period over: remaining connections closed'), 'nothing forced');
    console.log(`# figures ${JSON.stringify({ sigterm_to_exit_ms: Date.now() - sigterm })}`);
  } finally {
    hook.close();
  }
});

test('a request that outlasts the grace period is cut, and the process still exits 0 soon after', async () => {
  const hook = await slowHook();
  try {
    const { client, server } = await serverWith(hook.url, { TESSERA_SHUTDOWN_GRACE_S: '1' });
    const inFlight = tokenRequest(server.url, client, { grant_type: 'client_credentials' }, 30_000).then(
      (r) => r.status,
      () => 'connection closed',
    );
    await within(hook.wasCalled, 10_000, 'the hook is called');
    const sigterm = Date.now();
    server.child.kill('SIGTERM');
    // The hook would answer only at its 10 s timeout; the grace period (1 s) ends the wait first.
    const exit = await server.waitExit(8_000);
    const took = Date.now() - sigterm;
    assert.deepEqual(exit, { code: 0, signal: null }, `exits 0 within 8 s of SIGTERM\n${server.output()}`);
    assert.equal(await inFlight, 'connection closed');
    assert.ok(lines(server.output()).some((l) => l.msg === 'grace period over: remaining connections closed' && l.level === 'warn'), server.output());
    console.log(`# figures ${JSON.stringify({ grace_s: 1, sigterm_to_exit_ms: took })}`);
  } finally {
    hook.close();
  }
});
