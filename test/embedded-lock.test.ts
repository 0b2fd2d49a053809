/**
 * The embedded database belongs to one process (README): a second process on the same data folder
 * is refused with one clear line instead of corrupting it, and a lock left by a killed process does
 * not keep the folder locked forever.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { testEnv } from './support/server.ts';
import { runCli, startServerProcess } from './support/processes.ts';

const embedded = !process.env.TEST_DATABASE_URL;

test('a second process on the embedded data folder is refused; after a crash the folder is taken over', { skip: !embedded && 'PGlite only' }, async () => {
  const { env, cleanup } = await testEnv();
  const server = await startServerProcess(env);
  try {
    const cli = await runCli(['user', 'add', '--username', 'second-process', '--password', 'long enough password'], env);
    assert.equal(cli.code, 1);
    assert.match(cli.stderr, new RegExp(`in use by process ${server.child.pid}; stop it first, or use DATABASE_URL`));
    assert.equal(cli.stderr.trim().split('\n').length, 1, 'one line');

    const other = await runCli(['start'], { ...env, PORT: String(Number(env.PORT) + 1) }, { timeoutMs: 60_000 });
    assert.equal(other.code, 1, 'a second server on the same folder stops at once');
    assert.match(other.stderr, /in use by process/);

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
