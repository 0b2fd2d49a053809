/**
 * The embedded database runs in a thread of the server's process (src/db/embedded/). If that
 * thread ends (PGlite failed), the server used to answer 503 to everything needing the database
 * until someone restarted it: now the next connection starts a new thread on the same folder, whose
 * PostgreSQL recovers what was committed, and the log says what happened.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer } from './support/server.ts';
import { embeddedServerOf } from '../src/db/connect.ts';
import { createClient } from '../src/storage/clients.ts';

const embedded = !process.env.TEST_DATABASE_URL;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('a server whose embedded database thread died serves again, with what was committed before', { skip: !embedded && 'PGlite only', timeout: 120_000 }, async () => {
  const server = await startTestServer();
  try {
    const before = await createClient(server.db, { client_name: 'Committed before', grant_types: ['client_credentials'] });
    const thread = await embeddedServerOf(server.db);
    assert.ok(thread, 'the server runs an embedded database');
    await thread.kill();

    // Within a bounded time the database answers again (GET /readyz runs a statement).
    const deadline = Date.now() + 60_000;
    let ready = 0;
    while (Date.now() < deadline) {
      const res = await fetch(`${server.url}/readyz`, { signal: AbortSignal.timeout(5000) }).catch(() => undefined);
      ready = res?.status ?? 0;
      await res?.arrayBuffer();
      if (ready === 200) break;
      await sleep(200);
    }
    assert.equal(ready, 200, 'the database answers again');

    // A write and a token through the new thread, for a client stored before the thread died.
    const after = await createClient(server.db, { client_name: 'Stored after', grant_types: ['client_credentials'] });
    for (const client of [before, after]) {
      const res = await fetch(`${server.url}/token`, {
        method: 'POST',
        headers: { authorization: `Basic ${Buffer.from(`${client.client_id}:${client.client_secret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
        body: 'grant_type=client_credentials',
      });
      assert.equal(res.status, 200, `${client.client_name}: ${await res.text()}`);
    }
    assert.ok(
      server.logs.some((line) => line.includes('the embedded database stopped')),
      'the log says the database thread stopped',
    );
  } finally {
    await server.stop();
  }
});
