/**
 * TESSERA_DB_PREPARED_STATEMENTS=0 is for a pooler that hands a connection a different server
 * session between statements (PgBouncer in transaction mode before 1.21): a statement prepared on
 * one session does not exist on the next. The pooler is played here by dropping every prepared
 * statement of every pooled connection (DEALLOCATE ALL) between two refreshes: with the setting, the
 * refresh works; with prepared statements on (the default), the same drop breaks the refresh, which
 * is why the setting exists. One pooled connection, so the refresh after the drop runs on a
 * connection that had prepared them. PostgreSQL only: the embedded database has no pooler.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import { startTestServer, type TestServer } from './support/server.ts';
import { aClient, aUser, authorizationRequest, relyingParty } from './support/fixtures.ts';
import { signIn } from './support/browserless.ts';

const skip = process.env.TEST_DATABASE_URL ? false : 'PostgreSQL only (the embedded database has no pooler)';

/** What a transaction-mode pooler does to the server's sessions: their prepared statements are gone. */
async function dropPreparedStatementsEverywhere(server: TestServer) {
  const client = server.db.client as { acquireConnection(): Promise<{ query(sql: string): Promise<unknown> }>; releaseConnection(c: unknown): Promise<void>; pool: { numFree(): number } };
  const held = [];
  // Holding each acquired connection makes the pool hand out the next one, until none is free.
  while (client.pool.numFree() > 0) held.push(await client.acquireConnection());
  assert.ok(held.length > 0, 'the pool has connections');
  for (const c of held) await c.query('DEALLOCATE ALL');
  for (const c of held) await client.releaseConnection(c);
}

async function refreshAcrossTheDrop(server: TestServer) {
  const user = await aUser(server.db);
  const client = await aClient(server.db);
  const config = await relyingParty(server.issuer, client.client_id, client.client_secret);
  const req = await authorizationRequest(config, { scope: 'openid offline_access', prompt: 'consent' });
  const landed = await signIn(req.url, server.issuer, user.username, 'correct horse battery');
  const first = await oidc.authorizationCodeGrant(config, new URL(landed.url), { pkceCodeVerifier: req.verifier, expectedState: req.state });
  // Every hot statement has now run (and, by default, been prepared) on the pool's connections.
  const second = await oidc.refreshTokenGrant(config, first.refresh_token!);
  await dropPreparedStatementsEverywhere(server);
  try {
    const third = await oidc.refreshTokenGrant(config, second.refresh_token!);
    return { ok: true as const, sub: third.claims()?.sub, userId: user.id };
  } catch (err) {
    return { ok: false as const, error: (err as { error?: string }).error ?? String(err) };
  }
}

test('with TESSERA_DB_PREPARED_STATEMENTS=0 a refresh works on sessions that lost their prepared statements', { skip }, async () => {
  const server = await startTestServer({ TESSERA_DB_PREPARED_STATEMENTS: '0', TESSERA_DB_POOL_MAX: '1' });
  try {
    const outcome = await refreshAcrossTheDrop(server);
    assert.ok(outcome.ok, `refresh refused: ${!outcome.ok && outcome.error}`);
    assert.equal(outcome.sub, outcome.userId);
  } finally {
    await server.stop();
  }
});

test('with prepared statements on (the default) the same drop breaks a refresh: the setting is what saves it', { skip }, async () => {
  const server = await startTestServer({ TESSERA_DB_POOL_MAX: '1' });
  try {
    const outcome = await refreshAcrossTheDrop(server);
    assert.equal(outcome.ok, false, 'a session without the named statements cannot run them');
  } finally {
    await server.stop();
  }
});
