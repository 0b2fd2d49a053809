/**
 * The bootstrap admin client as the README describes it: generated on the very first start and its
 * secret printed once; refused in production; from TESSERA_ADMIN_CLIENT_ID/SECRET, brought up to
 * date at every start. Each case starts `tessera start` on a database of its own.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { testEnv } from './support/server.ts';
import { throwawayDatabase } from './support/database.ts';
import { runCli, startServerProcess } from './support/processes.ts';

/** A fresh embedded folder, or a fresh PostgreSQL database on CI's server; no admin client settings. */
async function freshEnv(extra: Record<string, string> = {}) {
  const database = process.env.TEST_DATABASE_URL ? await throwawayDatabase(process.env.TEST_DATABASE_URL) : undefined;
  const { env, cleanup } = await testEnv({ TESSERA_LOG_LEVEL: 'info', ...(database ? { DATABASE_URL: database.url } : {}), ...extra });
  delete env.TESSERA_ADMIN_CLIENT_ID;
  delete env.TESSERA_ADMIN_CLIENT_SECRET;
  return { env: { ...env, ...extra }, cleanup: async () => (cleanup(), await database?.drop()) };
}

async function adminToken(issuer: string, id: string, secret: string) {
  const res = await fetch(`${issuer}/token`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: 'grant_type=client_credentials&scope=admin',
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const printedCredentials = (output: string) => [...output.matchAll(/TESSERA_ADMIN_CLIENT_(ID|SECRET)=(\S+)/g)].map((m) => [m[1], m[2]!] as const);

test('the first start generates an admin client and prints its secret once; the next start prints nothing', async () => {
  const { env, cleanup } = await freshEnv();
  try {
    const first = await startServerProcess(env);
    const printed = printedCredentials(first.stdout());
    assert.deepEqual(printed.map(([k]) => k), ['ID', 'SECRET'], `on stdout, with the other first-start lines:\n${first.output()}`);
    const [[, id], [, secret]] = printed as [[string, string], [string, string]];
    assert.equal((await adminToken(env.ISSUER!, id, secret)).status, 200, 'the printed secret works');
    assert.ok(!first.output().split('\n').some((l) => l.startsWith('{') && l.includes(secret)), 'the secret is not in a log line');
    await first.stop();

    const second = await startServerProcess(env);
    assert.deepEqual(printedCredentials(second.output()), [], 'printed once only');
    assert.equal((await adminToken(env.ISSUER!, id, secret)).status, 200, 'and it still works');
    await second.stop();
  } finally {
    await cleanup();
  }
});

test('production refuses to generate and print an admin secret: the start stops with one clear line', async () => {
  const { env, cleanup } = await freshEnv({ NODE_ENV: 'production' });
  try {
    const r = await runCli(['start'], env, { timeoutMs: 60_000 });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /NODE_ENV=production will not generate and print an admin secret/);
    assert.doesNotMatch(r.stderr + r.stdout, /TESSERA_ADMIN_CLIENT_SECRET=/);
  } finally {
    await cleanup();
  }
});

test('TESSERA_ADMIN_CLIENT_ID/SECRET are applied at every start: a changed secret replaces the old one', async () => {
  const { env, cleanup } = await freshEnv();
  const id = 'ops-admin';
  try {
    const first = await startServerProcess({ ...env, TESSERA_ADMIN_CLIENT_ID: id, TESSERA_ADMIN_CLIENT_SECRET: 'first-secret-0123456789' });
    assert.deepEqual(printedCredentials(first.output()), [], 'a given secret is never printed');
    assert.equal((await adminToken(env.ISSUER!, id, 'first-secret-0123456789')).status, 200);
    await first.stop();

    const second = await startServerProcess({ ...env, TESSERA_ADMIN_CLIENT_ID: id, TESSERA_ADMIN_CLIENT_SECRET: 'second-secret-0123456789' });
    assert.equal((await adminToken(env.ISSUER!, id, 'second-secret-0123456789')).status, 200);
    assert.equal((await adminToken(env.ISSUER!, id, 'first-secret-0123456789')).status, 401, 'the old secret is refused');
    await second.stop();
  } finally {
    await cleanup();
  }
});
