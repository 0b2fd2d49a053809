/**
 * The embedded database folder holds the signing keys and client secrets: another local user must not
 * read it, whatever the umask Tessera is started with. Embedded only (PostgreSQL keeps its own files).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { testEnv } from './support/server.ts';
import { startServerProcess } from './support/processes.ts';

/** Every folder and file under `dir` with its mode. */
function modes(dir: string): Map<string, number> {
  const found = new Map<string, number>([['.', statSync(dir).mode & 0o777]]);
  const visit = (at: string) => {
    for (const entry of readdirSync(at, { withFileTypes: true })) {
      const full = path.join(at, entry.name);
      found.set(path.relative(dir, full), statSync(full).mode & 0o777);
      if (entry.isDirectory()) visit(full);
    }
  };
  visit(dir);
  return found;
}

const open = (found: Map<string, number>) => [...found].filter(([, mode]) => (mode & 0o077) !== 0).map(([p, m]) => `${p} ${m.toString(8)}`);

async function embeddedEnv() {
  const { env, cleanup } = await testEnv({ TESSERA_LOG_LEVEL: 'info' });
  delete env.DATABASE_URL;
  // Not created here: Tessera creates it, under the umask it was started with.
  const dataDir = path.join(os.tmpdir(), `tessera-private-${process.pid}-${Date.now()}`);
  env.TESSERA_DATA_DIR = dataDir;
  return { env, dataDir, cleanup: () => (cleanup(), rmSync(dataDir, { recursive: true, force: true })) };
}

async function adminWrites(issuer: string, env: Record<string, string>, count: number) {
  const basic = Buffer.from(`${env.TESSERA_ADMIN_CLIENT_ID}:${env.TESSERA_ADMIN_CLIENT_SECRET}`).toString('base64');
  const token = (await (await fetch(`${issuer}/token`, { method: 'POST', headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=client_credentials&scope=admin' })).json()) as { access_token: string };
  for (let i = 0; i < count; i++) {
    const res = await fetch(`${issuer}/admin/v1/users`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token.access_token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ username: `private-${Date.now()}-${i}`, claims: { notes: 'x'.repeat(20_000 + i) } }),
    });
    assert.equal(res.status, 201, await res.text());
  }
}

test('with umask 022, the data folder is 0700 and its files 0600 after a start, after writes, and for files created later', async () => {
  const { env, dataDir, cleanup } = await embeddedEnv();
  const previous = process.umask(0o022); // the child inherits it, as from a login shell
  try {
    const server = await startServerProcess(env);
    try {
      const afterStart = modes(dataDir);
      assert.ok(afterStart.size > 100, `the database is there (${afterStart.size} entries)`);
      assert.deepEqual(open(afterStart), [], 'nothing readable by others after the start');
      await adminWrites(server.url, env, 300);
      const afterWrites = modes(dataDir);
      const created = [...afterWrites.keys()].filter((p) => !afterStart.has(p));
      assert.deepEqual(open(afterWrites), [], 'nothing readable by others after writes');
      assert.ok(created.length > 0, 'the writes created files (WAL segments) after the start, and they are private too');
    } finally {
      await server.stop();
    }
    assert.deepEqual(open(modes(dataDir)), [], 'nor after the stop');
  } finally {
    process.umask(previous);
    cleanup();
  }
});

test('a folder left readable by an older version is tightened at start, with a warning in the log', async () => {
  const { env, dataDir, cleanup } = await embeddedEnv();
  const previous = process.umask(0o022);
  try {
    const first = await startServerProcess(env);
    await first.stop();
    chmodSync(dataDir, 0o755);
    for (const [p] of modes(dataDir)) if (p !== '.' && statSync(path.join(dataDir, p)).isFile()) chmodSync(path.join(dataDir, p), 0o644);
    mkdirSync(path.join(dataDir, 'left-over'), { mode: 0o755 });
    writeFileSync(path.join(dataDir, 'left-over', 'notes'), 'x', { mode: 0o666 });
    assert.ok(open(modes(dataDir)).length > 100);

    const second = await startServerProcess(env);
    await second.stop();
    assert.deepEqual(open(modes(dataDir)), []);
    const warning = second
      .output()
      .split('\n')
      .find((l) => l.includes('made private'));
    assert.ok(warning, second.output());
    assert.equal(JSON.parse(warning).level, 'warn');
  } finally {
    process.umask(previous);
    cleanup();
  }
});
