/**
 * `tessera start` with a broken setting: it exits 1 with one line on stderr that says what is wrong
 * and what to do, never a stack trace. And the start log an operator relies on: "listening" at every
 * level but silent, with the active payload hook.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { freePort, testEnv } from './support/server.ts';
import { runCli, startServerProcess, type CliResult, type ServerProcess } from './support/processes.ts';

const STACK_FRAME = /^\s+at\s/m;
const cleanups: Array<() => unknown> = [];
after(async () => {
  for (const c of cleanups) await c();
});

async function env(extra: Record<string, string> = {}) {
  const e = await testEnv(extra);
  cleanups.push(e.cleanup);
  return e.env;
}

/** Exit 1, and stderr is exactly one line, without a stack frame or an error class name. */
function oneLineFailure(r: CliResult, pattern: RegExp) {
  assert.equal(r.code, 1, `exit code 1; stderr: ${r.stderr}`);
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `one line on stderr, got:\n${r.stderr}`);
  assert.match(lines[0]!, pattern);
  assert.doesNotMatch(r.stderr, STACK_FRAME);
  assert.doesNotMatch(r.stderr, /\b[A-Z]\w*Error\b/, 'no error class names');
}

test('DATABASE_URL pointing at a port where nothing listens: one line naming the host and port, exit 1', async () => {
  const port = await freePort();
  const r = await runCli(['start'], await env({ DATABASE_URL: `postgres://tessera:hunter2secret@127.0.0.1:${port}/tessera` }));
  oneLineFailure(r, new RegExp(`cannot reach PostgreSQL at 127\\.0\\.0\\.1:${port}/tessera \\(DATABASE_URL\\)`));
  assert.ok(!r.stderr.includes('hunter2secret'), 'the password in the URL is not repeated');
});

test('a database that does not exist: one line naming it and how to create it', { skip: !process.env.TEST_DATABASE_URL && 'needs TEST_DATABASE_URL (a PostgreSQL server)' }, async () => {
  const url = new URL(process.env.TEST_DATABASE_URL!);
  url.pathname = '/tessera_no_such_database';
  const r = await runCli(['start'], await env({ DATABASE_URL: url.href }));
  oneLineFailure(r, /the database tessera_no_such_database does not exist .*createdb tessera_no_such_database/);
});

test('a port already in use: one line naming the address and PORT, exit 1', async () => {
  const taken = net.createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise((resolve) => taken.close(resolve)));
  const port = (taken.address() as net.AddressInfo).port;
  const r = await runCli(['start'], await env({ PORT: String(port), HOST: '127.0.0.1' }));
  oneLineFailure(r, new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port}: the port is already in use.*PORT`));
});

test('a payload hook module that does not exist stops the start, before the first token', async () => {
  const r = await runCli(['start'], await env({ TESSERA_PAYLOAD_HOOK: 'hooks/does-not-exist.ts' }));
  oneLineFailure(r, /TESSERA_PAYLOAD_HOOK=hooks\/does-not-exist\.ts: no such file .*hooks\/does-not-exist\.ts/);
});

test('an invalid setting is still refused plainly (exit 1, no stack)', async () => {
  const r = await runCli(['start'], await env({ DATABASE_URL: 'mysql://localhost/x' }));
  oneLineFailure(r, /DATABASE_URL must be a postgres:\/\/ or postgresql:\/\/ URL/);
});

async function started(extra: Record<string, string>): Promise<ServerProcess> {
  const server = await startServerProcess(await env(extra));
  cleanups.push(() => server.kill());
  return server;
}

/** The JSON log lines a server wrote so far. */
const logLines = (server: ServerProcess) =>
  server
    .output()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);

test('a webhook host that does not resolve is a warning; the server starts, and the start log names the hook', async () => {
  const server = await started({ TESSERA_LOG_LEVEL: 'warn', TESSERA_PAYLOAD_HOOK_URL: 'https://tessera-hook.invalid/claims?k=v', TESSERA_PAYLOAD_HOOK_SECRET: 'a-secret-of-enough-length' });
  const lines = logLines(server);
  const warning = lines.find((l) => l.level === 'warn' && /tessera-hook\.invalid does not resolve/.test(String(l.msg)));
  assert.ok(warning, `a warning about the hook host:\n${server.output()}`);
  const listening = lines.find((l) => l.msg === 'listening');
  assert.ok(listening, `"listening" is written at TESSERA_LOG_LEVEL=warn:\n${server.output()}`);
  assert.equal(listening.payload_hook, 'webhook https://tessera-hook.invalid/claims');
  assert.ok(!server.output().includes('a-secret-of-enough-length'));
  await server.stop();
});

test('"listening" names the active hook at TESSERA_LOG_LEVEL=error, and is not written when silent', async () => {
  const loud = await started({ TESSERA_LOG_LEVEL: 'error', TESSERA_PAYLOAD_HOOK: 'hooks/example-payload.ts' });
  const listening = logLines(loud).find((l) => l.msg === 'listening');
  assert.ok(listening, `"listening" at TESSERA_LOG_LEVEL=error:\n${loud.output()}`);
  assert.equal(listening.payload_hook, 'module hooks/example-payload.ts');
  assert.equal(listening.level, 'info');
  await loud.stop();

  const quiet = await started({ TESSERA_LOG_LEVEL: 'silent' });
  await quiet.stop();
  assert.equal(logLines(quiet).length, 0, `nothing logged when silent:\n${quiet.output()}`);
});

test('without a hook, the start log says so', async () => {
  const server = await started({ TESSERA_LOG_LEVEL: 'info' });
  assert.equal(logLines(server).find((l) => l.msg === 'listening')?.payload_hook, 'none');
  await server.stop();
});
