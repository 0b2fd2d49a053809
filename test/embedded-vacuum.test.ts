/**
 * The embedded database has no autovacuum: without Tessera's own vacuum, every refresh would leave
 * a dead row version that is never reclaimed, and the data folder would only grow.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import { startTestServer, type TestServer } from './support/server.ts';
import { aClient, aUser, authorizationRequest, relyingParty } from './support/fixtures.ts';
import { signIn } from './support/browserless.ts';

const embedded = !process.env.TEST_DATABASE_URL;
let server: TestServer;
before(async () => {
  server = await startTestServer({ TESSERA_PURGE_INTERVAL_S: '1' });
});
after(async () => server.stop());

// Statistics reach pg_stat_user_tables when a backend flushes them (at most once a second unless forced).
async function deadTokenRows(): Promise<number> {
  await server.db.raw('select pg_stat_force_next_flush()');
  await server.db.raw('select 1');
  return Number((await server.db.raw("select n_dead_tup from pg_stat_user_tables where relname = 'oidc_payloads'")).rows[0].n_dead_tup);
}

test('on the embedded database, the dead rows spent refresh tokens leave are reclaimed (and the table analyzed) by the purge job', { skip: !embedded && 'PostgreSQL is left to its autovacuum' }, async () => {
  const user = await aUser(server.db);
  const client = await aClient(server.db);
  const config = await relyingParty(server.issuer, client.client_id, client.client_secret);
  const req = await authorizationRequest(config, { scope: 'openid offline_access', prompt: 'consent' });
  const landed = await signIn(req.url, server.issuer, user.username, 'correct horse battery');
  let tokens = await oidc.authorizationCodeGrant(config, new URL(landed.url), { pkceCodeVerifier: req.verifier, expectedState: req.state });
  // Each refresh updates its token (spent) and so leaves a dead row version; at some point between
  // them a purge may already run, so the count is taken right after a burst.
  let peak = 0;
  for (let i = 0; i < 20; i++) {
    tokens = await oidc.refreshTokenGrant(config, tokens.refresh_token!);
    peak = Math.max(peak, await deadTokenRows());
  }
  assert.ok(peak > 0, 'refreshes leave dead row versions');
  const deadline = Date.now() + 10_000;
  let dead = await deadTokenRows();
  while (dead > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 200));
    dead = await deadTokenRows();
  }
  assert.equal(dead, 0, 'the next purge vacuumed them');
  // And analyzed them, as autovacuum would: the planner's statistics follow the table.
  const analyzed = await server.db.raw("select last_analyze from pg_stat_user_tables where relname = 'oidc_payloads'");
  assert.ok(analyzed.rows[0]?.last_analyze, 'the purge analyzed oidc_payloads');
  await oidc.refreshTokenGrant(config, tokens.refresh_token!);
});
