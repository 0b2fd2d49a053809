/**
 * The bound on waiting for the database: a "PostgreSQL" that accepts TCP connections but never
 * answers (a host gone silent, a full backlog). A query fails within the configured timeout, as
 * "database unavailable" (what the HTTP edge turns into 503), instead of hanging.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { connectDatabase } from '../../src/db/connect.ts';
import { loadSettings } from '../../src/config.ts';
import { isDatabaseUnavailable } from '../../src/db/unavailable.ts';

test('a database that accepts connections and never answers: queries fail within TESSERA_DB_TIMEOUT_MS, as unavailable', async () => {
  const sockets = new Set<net.Socket>();
  const silent = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
  });
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  const { port } = silent.address() as net.AddressInfo;
  // Through the settings, as `tessera start` does: the variable the test names is the one it sets.
  const settings = loadSettings({ DATABASE_URL: `postgres://postgres@127.0.0.1:${port}/nowhere`, TESSERA_DB_TIMEOUT_MS: '1000' });
  assert.equal(settings.dbTimeoutMs, 1000);
  const db = connectDatabase(settings.database, { timeoutMs: settings.dbTimeoutMs, statementTimeoutMs: settings.dbStatementTimeoutMs });
  try {
    const started = Date.now();
    const err = await db.raw('select 1').then(
      () => assert.fail('a silent server cannot answer'),
      (e: unknown) => e,
    );
    const took = Date.now() - started;
    assert.ok(isDatabaseUnavailable(err), `classified as unavailable: ${(err as Error).message}`);
    assert.ok(took < 5_000, `failed within 5 s rather than hanging (took ${took} ms with a 1000 ms timeout)`);
    console.log(`# figures ${JSON.stringify({ timeout_ms: 1000, failed_after_ms: took, error: (err as Error).message })}`);
  } finally {
    await db.destroy();
    for (const s of sockets) s.destroy();
    silent.close();
  }
});
