/**
 * The embedded database has no autovacuum (PGlite runs PostgreSQL in single-user mode). Without the
 * server's own, every refresh would leave a dead row version that is never reclaimed, and a token
 * lookup would keep the plan chosen while the table was empty, scanning it whole as it grows.
 * The purge job runs every 10 minutes here (the default): what these tests see is not its work.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import { startTestServer, type TestServer } from './support/server.ts';
import { aClient, aUser, authorizationRequest, relyingParty } from './support/fixtures.ts';
import { signIn } from './support/browserless.ts';
import { EMBEDDED_AUTOVACUUM_S } from '../src/db/embedded-vacuum.ts';

const embedded = !process.env.TEST_DATABASE_URL;
const skip = !embedded && 'PostgreSQL is left to its autovacuum';
let server: TestServer;
before(async () => {
  server = await startTestServer();
});
after(async () => server.stop());

type Stats = { n_dead_tup: number; last_vacuum: Date | null; last_analyze: Date | null; reltuples: number };

// Statistics reach pg_stat_user_tables when a backend flushes them (at most once a second unless forced).
async function tokenTable(): Promise<Stats> {
  await server.db.raw('select pg_stat_force_next_flush()');
  await server.db.raw('select 1');
  const { rows } = await server.db.raw(
    `select s.n_dead_tup, s.last_vacuum, s.last_analyze, c.reltuples from pg_stat_user_tables s join pg_class c on c.oid = s.relid where s.relname = 'oidc_payloads'`,
  );
  return { ...rows[0], n_dead_tup: Number(rows[0].n_dead_tup), reltuples: Number(rows[0].reltuples) };
}

/** Polls until `ok`, for a little longer than two rounds of the server's autovacuum. */
async function eventually(ok: (s: Stats) => boolean): Promise<Stats> {
  const deadline = Date.now() + (2 * EMBEDDED_AUTOVACUUM_S + 5) * 1000;
  let stats = await tokenTable();
  while (!ok(stats) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 250));
    stats = await tokenTable();
  }
  return stats;
}

async function refreshTokens() {
  const user = await aUser(server.db);
  const client = await aClient(server.db);
  const config = await relyingParty(server.issuer, client.client_id, client.client_secret);
  const req = await authorizationRequest(config, { scope: 'openid offline_access', prompt: 'consent' });
  const landed = await signIn(req.url, server.issuer, user.username, 'correct horse battery');
  const tokens = await oidc.authorizationCodeGrant(config, new URL(landed.url), { pkceCodeVerifier: req.verifier, expectedState: req.state });
  return { config, tokens };
}

test('on the embedded database, the dead rows of removed tokens are reclaimed, without waiting for the purge', { skip }, async () => {
  const { config, tokens } = await refreshTokens();
  // 5,000 tokens of other accounts, then removed (as the purge removes expired ones, or a sign-out
  // everywhere): each leaves a dead row version whose space only a vacuum makes reusable.
  await server.db.raw(
    `insert into oidc_payloads (model, id, payload, expires_at)
     select 'AccessToken', 'gone-' || g, jsonb_build_object('accountId', 'someone-' || g), now() + interval '1 hour' from generate_series(1, 5000) g`,
  );
  await server.db.raw(`delete from oidc_payloads where id like 'gone-%'`);
  assert.ok((await tokenTable()).n_dead_tup >= 5000, 'the removed rows are dead row versions');
  const after = await eventually((s) => s.n_dead_tup < 50);
  assert.ok(after.n_dead_tup < 50, `vacuumed: ${after.n_dead_tup} dead row versions left`);
  assert.ok(after.last_vacuum, 'oidc_payloads was vacuumed');
  await oidc.refreshTokenGrant(config, tokens.refresh_token!);
});

test('on the embedded database, a table that grew is analyzed, so a lookup prepared while it was empty is planned again for its size', { skip }, async () => {
  const { config, tokens } = await refreshTokens();
  // A lookup prepared and run while the table is nearly empty, as the server's own named statements
  // are at start: after a few runs PostgreSQL keeps a generic plan, chosen from the table's size then.
  type Conn = { query(sql: string): Promise<{ rows: Array<Record<string, string>> }> };
  const pool = server.db.client as { acquireConnection(): Promise<Conn>; releaseConnection(c: Conn): Promise<void> };
  const conn = await pool.acquireConnection();
  try {
    await conn.query(`prepare grown_lookup(text, text) as select payload from oidc_payloads where model = $1 and id = $2`);
    for (let i = 0; i < 8; i++) await conn.query(`execute grown_lookup('RefreshToken', 'none-${i}')`);
    // 20,000 refresh tokens of other accounts, as a busy deployment collects them.
    await server.db.raw(
      `insert into oidc_payloads (model, id, payload, grant_id, expires_at)
       select 'RefreshToken', 'grown-' || g, jsonb_build_object('accountId', 'someone-' || g, 'grantId', 'grant-' || g), 'grant-' || g, now() + interval '1 day'
       from generate_series(1, 20000) g`,
    );
    const after = await eventually((s) => s.reltuples >= 20000);
    assert.ok(after.reltuples >= 20000, `the statistics know the table's size (reltuples ${after.reltuples})`);
    // The analyze made the prepared lookup be planned again: it now uses the primary key.
    const plan = (await conn.query(`explain execute grown_lookup('RefreshToken', 'grown-7')`)).rows.map((r) => r['QUERY PLAN']).join('\n');
    assert.match(plan, /Index Scan/, plan);
  } finally {
    await conn.query('deallocate grown_lookup').catch(() => {});
    await pool.releaseConnection(conn);
  }
  const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token!);
  assert.ok(refreshed.access_token);
});
