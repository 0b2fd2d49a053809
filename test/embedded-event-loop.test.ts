/**
 * The embedded database runs beside the server's event loop, not on it (docs/architecture.md): while
 * the database is busy with a long statement, requests that need no database are still answered, and
 * a request that needs it waits for the database, not for the event loop. With PGlite on the event
 * loop (before), every request waited until the statement ended.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connectDatabase } from '../src/db/connect.ts';
import { testEnv } from './support/server.ts';
import { startServerProcess } from './support/processes.ts';

const embedded = !process.env.TEST_DATABASE_URL;

test('while the embedded database runs a long statement, the server still answers discovery and JWKS', { skip: !embedded && 'PGlite only' }, async () => {
  const { env, cleanup } = await testEnv();
  const server = await startServerProcess(env);
  // The CLI's way in: the running server's own database, through its socket.
  const db = connectDatabase({ dataDir: env.TESSERA_DATA_DIR! }, { joinRunning: true });
  try {
    await db.raw('select 1'); // connected, so the race below is between the statement and the requests
    const order: string[] = [];
    const busy = db.raw('select pg_sleep(4)').then(() => order.push('statement'));
    await new Promise((r) => setTimeout(r, 300)); // the statement has reached the database
    const answered = await Promise.all(
      ['/.well-known/openid-configuration', '/jwks', '/healthz'].map(async (p) => {
        const res = await fetch(server.url + p);
        await res.arrayBuffer();
        order.push(p);
        return res.status;
      }),
    );
    await busy;
    assert.deepEqual(answered, [200, 200, 200]);
    assert.equal(order.at(-1), 'statement', `answered before the statement ended: ${order.join(', ')}`);
  } finally {
    await db.destroy();
    await server.kill();
    cleanup();
  }
});
