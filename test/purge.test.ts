/**
 * TESSERA_PURGE_INTERVAL_S: every interval, expired sessions, codes and tokens are deleted (they are
 * ignored from the moment they expire; the purge keeps the table from growing), and live ones stay.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { startTestServer, type TestServer } from './support/server.ts';

let server: TestServer;
before(async () => {
  server = await startTestServer({ TESSERA_PURGE_INTERVAL_S: '1' });
});
after(async () => server.stop());

const row = (model: string, expiresAt: Date) => ({ model, id: randomUUID(), payload: JSON.stringify({ kind: model, jti: 'x' }), expires_at: expiresAt });

test('expired rows of every model are deleted within a purge interval; live ones are kept', async () => {
  const past = new Date(Date.now() - 60_000);
  const future = new Date(Date.now() + 3_600_000);
  const expired = ['Session', 'AuthorizationCode', 'RefreshToken', 'AccessToken', 'Interaction'].map((m) => row(m, past));
  const live = ['Session', 'RefreshToken'].map((m) => row(m, future));
  await server.db('oidc_payloads').insert([...expired, ...live]);
  const present = async (rows: Array<{ model: string; id: string }>) =>
    (await server.db('oidc_payloads').whereIn('id', rows.map((r) => r.id)).count<Array<{ count: number }>>('* as count'))[0]!.count;
  assert.equal(await present(expired), expired.length);

  // Bounded: a few intervals at most.
  for (const deadline = Date.now() + 10_000; (await present(expired)) > 0; await new Promise((r) => setTimeout(r, 200))) {
    assert.ok(Date.now() < deadline, 'expired rows still there after 10 s with a 1 s purge interval');
  }
  assert.equal(await present(live), live.length, 'live rows are kept');
});
