/**
 * The embedded database belongs to one server process (README): the CLI works beside a running
 * server through that server's database, while traffic flows; a second server on the same folder is
 * refused with one clear line; and a lock left by a killed process does not keep the folder locked.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { testEnv } from './support/server.ts';
import { cliJson, runCli, startServerProcess } from './support/processes.ts';

const embedded = !process.env.TEST_DATABASE_URL;

async function clientCredentials(url: string, client: { client_id: string; client_secret: string }): Promise<number> {
  const res = await fetch(`${url}/token`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`${client.client_id}:${client.client_secret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: 'grant_type=client_credentials',
  });
  await res.arrayBuffer();
  return res.status;
}

test('the CLI works beside a running server (its writes and rotated keys are live); a second server is refused; after a crash the folder is taken over', { skip: !embedded && 'PGlite only' }, async () => {
  const { env, cleanup } = await testEnv({ TESSERA_KEYS_REFRESH_S: '1' });
  const server = await startServerProcess(env);
  try {
    // What the CLI writes, the running server serves at once: the same database, not a copy.
    const service = await cliJson<{ client_id: string; client_secret: string }>(['client', 'add', '--name', 'Beside', '--grant-types', 'client_credentials'], env);
    assert.equal(await clientCredentials(server.url, service), 200);

    // Several CLI commands at once, each a transaction of its own, while the server answers tokens:
    // the one embedded backend takes them in turns, and nothing fails or mixes.
    let traffic = true;
    const statuses: number[] = [];
    const load = (async () => {
      while (traffic) statuses.push(await clientCredentials(server.url, service));
    })();
    const added = await Promise.all(
      ['one', 'two', 'three'].map((name) => cliJson<{ id: string; username: string }>(['user', 'add', '--username', `beside-${name}`, '--password', 'long enough password'], env)),
    );
    traffic = false;
    await load;
    assert.deepEqual(added.map((u) => u.username).sort(), ['beside-one', 'beside-three', 'beside-two']);
    assert.ok(statuses.length > 0 && statuses.every((s) => s === 200), `token answers during the CLI commands: ${[...new Set(statuses)].join(', ')}`);
    assert.equal(new Set(added.map((u) => u.id)).size, 3);
    // Each is there for the next command too (a user that was never stored is "no user").
    await cliJson(['privileges', 'set', '--user', 'beside-two', '--scope', 'docs:read'], env);

    // Keys rotated beside the server are the running server's keys at its next refresh (no restart).
    const rotated = (await cliJson<{ added: string[] }>(['keys', 'rotate'], env)).added;
    let published: string[] = [];
    for (let i = 0; i < 100 && !rotated.every((kid) => published.includes(kid)); i++) {
      await new Promise((r) => setTimeout(r, 200));
      published = ((await (await fetch(`${server.url}/jwks`)).json()) as { keys: Array<{ kid: string }> }).keys.map((k) => k.kid);
    }
    assert.deepEqual(rotated.filter((kid) => !published.includes(kid)), [], 'the running server publishes the rotated keys');

    const other = await runCli(['start'], { ...env, PORT: String(Number(env.PORT) + 1) }, { timeoutMs: 60_000 });
    assert.equal(other.code, 1, 'a second server on the same folder stops at once');
    assert.match(other.stderr, new RegExp(`in use by process ${server.child.pid}; stop it first, or use DATABASE_URL`));
    assert.equal(other.stderr.trim().split('\n').length, 1, 'one line');

    // A crash leaves the lock file behind; its process is gone, so the next process takes over.
    server.child.kill('SIGKILL');
    await server.waitExit(10_000);
    const after = await runCli(['user', 'add', '--username', 'after-crash', '--password', 'long enough password'], env);
    assert.equal(after.code, 0, after.stderr);
  } finally {
    await server.kill();
    cleanup();
  }
});
