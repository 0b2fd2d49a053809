/**
 * A CLI command that stops in the middle of a transaction on the embedded database (suspended, or
 * stuck) must not hold the server's database for ever: the backend cuts it off after a while and
 * rolls its transaction back, and the server answers again (src/db/embedded/worker.js).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connectDatabase } from '../src/db/connect.ts';
import { testEnv } from './support/server.ts';
import { cliJson, startServerProcess } from './support/processes.ts';

const embedded = !process.env.TEST_DATABASE_URL;

test('a transaction left open beside the server is rolled back and the server answers again', { skip: !embedded && 'PGlite only', timeout: 120_000 }, async () => {
  const { env, cleanup } = await testEnv();
  const server = await startServerProcess(env);
  const service = await cliJson<{ client_id: string; client_secret: string }>(['client', 'add', '--name', 'Stalled', '--grant-types', 'client_credentials'], env);
  const db = connectDatabase({ dataDir: env.TESSERA_DATA_DIR! }, { joinRunning: true });
  try {
    const trx = await db.transaction();
    await trx.raw(`update clients set client_name = 'changed by the stalled transaction' where client_id = ?`, [service.client_id]);
    // The transaction now goes silent: neither commit nor rollback.
    const res = await fetch(`${server.url}/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${service.client_id}:${service.client_secret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials',
      signal: AbortSignal.timeout(60_000),
    });
    assert.equal(res.status, 200, await res.text());
    // The stalled connection was cut off: its late commit cannot bring the change back.
    trx.executionPromise.catch(() => {});
    await trx.commit().catch(() => {});
    const check = connectDatabase({ dataDir: env.TESSERA_DATA_DIR! }, { joinRunning: true });
    try {
      const row = await check('clients').where({ client_id: service.client_id }).first('client_name');
      assert.equal(row.client_name, 'Stalled', 'its change was rolled back, and the late commit did not bring it back');
    } finally {
      await check.destroy();
    }
  } finally {
    await db.destroy().catch(() => {});
    await server.kill();
    cleanup();
  }
});
