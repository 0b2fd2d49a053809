/**
 * `--output env`: `user add` and `client add` print `export NAME='value'` lines, so a shell snippet
 * captures the values with `eval "$(npx tessera … --output env)"` (as the README does). JSON stays the default.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { testEnv } from './support/server.ts';
import { cliJson, runCli, startServerProcess } from './support/processes.ts';
import { unique } from './support/fixtures.ts';

let env: Record<string, string>;
let cleanup = () => {};

before(async () => {
  ({ env, cleanup } = await testEnv());
  // Pays for creating the embedded database once, outside the tests.
  const migrated = await runCli(['migrate'], env, { timeoutMs: 180_000 });
  assert.equal(migrated.code, 0, migrated.stderr);
});
after(() => cleanup());

/** What a shell gets from `eval "$(printed)"`: the named variables' values. */
function evaluated(printed: string, names: string[]): Record<string, string> {
  const script = `eval "$1"; ${names.map((n) => `printf '%s\\0' "\${${n}-<unset>}"`).join('; ')}`;
  const r = spawnSync('bash', ['-c', script, 'bash', printed], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return Object.fromEntries(r.stdout.split('\0').slice(0, names.length).map((v, i) => [names[i]!, v]));
}

test('user add --output env sets USER_ID to the new user id', async () => {
  const r = await runCli(['user', 'add', '--username', unique("o'brien"), '--password', 'correct horse battery', '--output', 'env'], env);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^export USER_ID='[^']+'\n$/);
  const { USER_ID } = evaluated(r.stdout, ['USER_ID']);
  const again = await runCli(['user', 'add', '--username', unique('second'), '--password', 'correct horse battery'], env);
  assert.equal(again.code, 0, again.stderr);
  assert.notEqual(JSON.parse(again.stdout).id, USER_ID, 'JSON is still the default');
  assert.match(USER_ID!, /^[0-9a-f-]{36}$/);
});

test('client add --output env sets CLIENT_ID and CLIENT_SECRET, and they get a token', async () => {
  const r = await runCli(['client', 'add', '--name', 'Job', '--grant-types', 'client_credentials', '--output', 'env'], env);
  assert.equal(r.code, 0, r.stderr);
  const { CLIENT_ID, CLIENT_SECRET } = evaluated(r.stdout, ['CLIENT_ID', 'CLIENT_SECRET']);
  assert.notEqual(CLIENT_SECRET, '<unset>');
  const server = await startServerProcess(env);
  try {
    const res = await fetch(`${env.ISSUER}/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials',
    });
    assert.equal(res.status, 200, await res.clone().text());
  } finally {
    await server.stop();
  }
});

test('a public client prints no CLIENT_SECRET line; an unknown --output is refused', async () => {
  const r = await runCli(['client', 'add', '--name', 'SPA', '--public', '--redirect-uri', 'http://localhost:8080/cb', '--output', 'env'], env);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(Object.values(evaluated(r.stdout, ['CLIENT_SECRET'])), ['<unset>']);
  const bad = await runCli(['client', 'add', '--name', 'X', '--output', 'yaml'], env);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--output is json or env/);
  const listed = await cliJson<{ client_id: string }>(['client', 'add', '--name', 'Default', '--grant-types', 'client_credentials'], env);
  assert.ok(listed.client_id);
});
