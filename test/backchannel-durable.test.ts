/**
 * Back-channel logout is durable (issue 14): `tessera user password`, run while the server is up (on
 * the embedded database, beside it through the server's own database; on PostgreSQL, on the same
 * database), records the logout in its transaction, and the server's delivery worker sends the
 * logout token, retrying while the RP fails: the RP answers 500 twice, then 200. A logout recorded by
 * an instance that stopped before sending it is sent by the next one.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as oidc from 'openid-client';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startTestServer, testEnv } from './support/server.ts';
import { adminApi } from './support/admin.ts';
import { throwawayDatabase } from './support/database.ts';
import { signInTo } from './support/signals.ts';
import { aUser, authorizationRequest, relyingParty, REDIRECT_URI, unique } from './support/fixtures.ts';
import { signIn } from './support/browserless.ts';
import { cliJson, startServerProcess } from './support/processes.ts';

const PASSWORD = 'correct horse battery';
const BACKCHANNEL_EVENT = 'http://schemas.openid.net/event/backchannel-logout';

/** An RP's back-channel endpoint that fails its first `failures` requests with 500; `third` resolves with the first it accepts. */
async function flakyRp(failures: number) {
  const attempts: string[] = [];
  let accept!: (token: string) => void;
  const accepted = new Promise<string>((resolve) => (accept = resolve));
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const token = new URLSearchParams(body).get('logout_token') ?? '';
      attempts.push(token);
      if (attempts.length <= failures) return void res.writeHead(500).end();
      res.writeHead(200).end();
      accept(token);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/logout`,
    attempts,
    accepted,
    async stop() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

/** `promise`, or a failure naming `what` after `ms` (the timer never holds the test open). */
async function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

test('a CLI password change with the server running reaches the RP by back channel, after two failed attempts', async () => {
  const rp = await flakyRp(2);
  // Fast retries and polls: the CLI cannot nudge the server's worker, which finds the row at its next poll.
  const { env, cleanup } = await testEnv({ TESSERA_SSF_POLL_MS: '50', TESSERA_SSF_RETRY_BASE_MS: '20' });
  let server: Awaited<ReturnType<typeof startServerProcess>> | undefined;
  try {
    const username = unique('bc-cli');
    await cliJson(['user', 'add', '--username', username, '--password', PASSWORD], env);
    const app = await cliJson<{ client_id: string; client_secret: string }>(['client', 'add', '--name', 'Logout app', '--redirect-uri', REDIRECT_URI, '--scope', 'openid', '--backchannel-logout-uri', rp.url], env);
    server = await startServerProcess(env);

    const config = await relyingParty(env.ISSUER!, app.client_id, app.client_secret);
    const req = await authorizationRequest(config, { scope: 'openid' });
    const landed = await signIn(req.url, env.ISSUER!, username, PASSWORD);
    const tokens = await oidc.authorizationCodeGrant(config, new URL(landed.url), { pkceCodeVerifier: req.verifier, expectedState: req.state });
    const idToken = tokens.claims()!;
    assert.equal(typeof idToken.sid, 'string');

    // Beside the running server.
    const reset = await cliJson<{ revoked: number }>(['user', 'password', '--user', username, '--password-stdin'], env, { input: 'a brand new password\n' });
    assert.ok(reset.revoked > 0);

    const token = await within(30_000, 'the logout token', rp.accepted);
    const { payload, protectedHeader } = await jwtVerify(token, createRemoteJWKSet(new URL(`${env.ISSUER}/jwks`)), { issuer: env.ISSUER!, audience: app.client_id, typ: 'logout+jwt' });
    assert.equal(protectedHeader.alg, 'ES256');
    assert.equal(payload.sub, idToken.sub);
    assert.equal(payload.sid, idToken.sid, 'the logout token names the session of the ID token');
    assert.deepEqual(payload.events, { [BACKCHANNEL_EVENT]: {} });
    assert.equal(typeof payload.jti, 'string');
    assert.equal(typeof payload.iat, 'number');
    assert.ok(typeof payload.exp === 'number' && payload.exp > payload.iat!, 'exp after iat');
    assert.equal(payload.nonce, undefined);
    assert.equal(rp.attempts.length, 3, 'two failed attempts, then the accepted one');
    // Each attempt is the same logout (same jti), signed afresh.
    const jtis = rp.attempts.map((t) => JSON.parse(Buffer.from(t.split('.')[1]!, 'base64url').toString()).jti);
    assert.deepEqual(new Set(jtis), new Set([payload.jti]));
  } finally {
    await server?.kill();
    await rp.stop();
    cleanup();
  }
});

test('a logout recorded by an instance that stopped before sending it is sent after the restart', async () => {
  const rp = await flakyRp(0);
  const database = process.env.TEST_DATABASE_URL ? await throwawayDatabase(process.env.TEST_DATABASE_URL) : undefined;
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'tessera-bc-restart-'));
  const shared: Record<string, string> = database ? { DATABASE_URL: database.url } : { TESSERA_DATA_DIR: dataDir };
  try {
    // This instance records logouts but does not send them (as if it stopped right after the commit).
    const first = await startTestServer({ ...shared, TESSERA_SSF_DELIVERY: '0' });
    let clientId: string;
    let sid: unknown;
    let userId: string;
    try {
      const { api } = await adminApi(first);
      const created = await api('POST', '/clients', { body: { client_name: 'Restart RP', redirect_uris: [REDIRECT_URI], scope: 'openid', first_party: true, backchannel_logout_uri: rp.url } });
      assert.equal(created.status, 201);
      clientId = created.json.client_id;
      const user = await aUser(first.db, PASSWORD);
      userId = user.id;
      sid = (await signInTo(first.issuer, created.json, user.username, PASSWORD, 'openid')).claims()!.sid;
      assert.equal(typeof sid, 'string');
      assert.equal((await api('POST', `/users/${user.id}/logout`)).status, 200);
      const rows = await first.db('backchannel_outbox').where({ client_id: clientId }).whereNull('delivered_at');
      assert.equal(rows.length, 1, 'the logout waits in the outbox');
    } finally {
      await first.stop();
    }
    assert.equal(rp.attempts.length, 0);

    const second = await startTestServer({ ...shared, TESSERA_SSF_POLL_MS: '50' });
    try {
      const token = await within(30_000, 'the logout token after the restart', rp.accepted);
      const { payload } = await jwtVerify(token, createRemoteJWKSet(new URL(`${second.issuer}/jwks`)), { issuer: second.issuer, audience: clientId, typ: 'logout+jwt' });
      assert.equal(payload.sub, userId);
      assert.equal(payload.sid, sid);
    } finally {
      await second.stop();
    }
  } finally {
    await rp.stop();
    rmSync(dataDir, { recursive: true, force: true });
    await database?.drop();
  }
});
