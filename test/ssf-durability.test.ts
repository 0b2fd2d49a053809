import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startTestServer, type TestServer } from './support/server.ts';
import { adminApi } from './support/admin.ts';
import { aUser } from './support/fixtures.ts';
import { throwawayDatabase } from './support/database.ts';
import { CLAIMS_CHANGE, PUSH, receiverClient, signInTo, ssf, ssfToken, startSetReceiver, verifySet } from './support/signals.ts';

// The outbox is durable and shared (issue 14): an event written before a restart is delivered after
// it, and instances sharing a database deliver each event once.

const PASSWORD = 'correct horse battery';
let receiver: Awaited<ReturnType<typeof startSetReceiver>>;
before(async () => {
  receiver = await startSetReceiver();
});
after(async () => receiver?.stop());

/** A subscribed client, on `server`, with a user who holds a grant with it. */
async function subscribed(server: TestServer, receiverPath: string) {
  const { api } = await adminApi(server);
  const created = await api('POST', '/clients', { body: receiverClient('Durable app') });
  assert.equal(created.status, 201);
  const client = created.json as { client_id: string; client_secret: string };
  const token = await ssfToken(server.issuer, client);
  const stream = await ssf(server.issuer, token, 'POST', '/ssf/stream', { delivery: { method: PUSH, endpoint_url: `${receiver.base}${receiverPath}` }, events_requested: [CLAIMS_CHANGE] });
  assert.equal(stream.status, 201);
  const user = await aUser(server.db, PASSWORD);
  await signInTo(server.issuer, client, user.username, PASSWORD, 'openid privileges');
  return { api, client, user };
}

test('an event written before a restart is delivered after it', async () => {
  const database = process.env.TEST_DATABASE_URL ? await throwawayDatabase(process.env.TEST_DATABASE_URL) : undefined;
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'tessera-ssf-restart-'));
  const shared: Record<string, string> = database ? { DATABASE_URL: database.url } : { TESSERA_DATA_DIR: dataDir };
  try {
    // This instance records events but does not deliver them (as if it stopped right after the commit).
    const first = await startTestServer({ ...shared, TESSERA_SSF_DELIVERY: '0' });
    let clientId: string;
    let userId: string;
    try {
      const { api, client, user } = await subscribed(first, '/restart');
      clientId = client.client_id;
      userId = user.id;
      assert.equal((await api('PUT', `/users/${user.id}/privileges`, { body: { profile: 'survives', scope: 'a b' } })).status, 200);
      const waiting = await first.db('ssf_outbox').whereNull('delivered_at').count<{ n: number }[]>('* as n');
      assert.equal(Number(waiting[0]!.n), 1, 'the event is in the outbox, undelivered');
    } finally {
      await first.stop();
    }
    assert.equal(receiver.received.filter((d) => d.path === '/restart').length, 0);

    const second = await startTestServer({ ...shared, TESSERA_SSF_POLL_MS: '50' });
    try {
      const d = await receiver.next('/restart');
      const set = await verifySet(second.issuer, d.token, clientId);
      assert.equal(set.sub_id.sub, userId);
      assert.deepEqual(set.events[CLAIMS_CHANGE]!.claims, { user_profile: 'survives', user_scope: 'a b' });
    } finally {
      await second.stop();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
    await database?.drop();
  }
});

test('two instances on one database deliver each event once', { skip: process.env.TEST_DATABASE_URL ? false : 'needs PostgreSQL (an embedded database serves one process)' }, async () => {
  const database = await throwawayDatabase(process.env.TEST_DATABASE_URL!);
  const env = { DATABASE_URL: database.url, TESSERA_SSF_POLL_MS: '20' };
  const a = await startTestServer(env);
  // One issuer, as instances behind one name have: b signs as a does (the keys are shared).
  const b = await startTestServer({ ...env, ISSUER: a.issuer });
  try {
    const { api, client, user } = await subscribed(a, '/twice');
    const N = 30;
    const writes = Array.from({ length: N }, (_, n) => api('PUT', `/users/${user.id}/privileges`, { body: { profile: n, scope: '' } }));
    for (const res of await Promise.all(writes)) assert.equal(res.status, 200);
    const jtis = new Set<string>();
    for (let n = 0; n < N; n++) {
      const set = await verifySet(a.issuer, (await receiver.next('/twice')).token, client.client_id);
      jtis.add(set.jti!);
    }
    assert.equal(jtis.size, N, 'every SET has its own jti');
    const rows = await a.db('ssf_outbox').select('attempts', 'delivered_at');
    assert.equal(rows.length, N);
    for (const r of rows) {
      assert.ok(r.delivered_at, 'delivered');
      assert.equal(r.attempts, 1, 'claimed by one instance, once');
    }
    assert.equal(receiver.received.filter((d) => d.path === '/twice').length, N, 'no SET was pushed twice');
    const delivered = async (server: TestServer) => Number(/tessera_ssf_events_delivered_total\{event="token-claims-change"\} (\d+)/.exec(await (await fetch(`${server.url}/metrics`)).text())?.[1] ?? 0);
    assert.equal((await delivered(a)) + (await delivered(b)), N, 'the two instances delivered N between them');
  } finally {
    await a.stop();
    await b.stop();
    await database.drop();
  }
});
