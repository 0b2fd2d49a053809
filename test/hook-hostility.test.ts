/**
 * Webhooks that fight back: one that drips a byte a second forever, one that streams without end,
 * one that redirects to another host, one whose claims nest 1,000 deep. Each is cut off within its
 * timeout and limits, the failure policy applies, and /metrics counts the cause.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as oidc from 'openid-client';
import { startTestServer, type TestServer } from './support/server.ts';
import { aClient, aResourceServer, aUser, authorizationRequest, relyingParty } from './support/fixtures.ts';
import { signIn } from './support/browserless.ts';

const SECRET = 'webhook-secret-0123456789abcdef';
const PASSWORD = 'correct horse battery';
const TIMEOUT_MS = 700;

type Mode = 'ok' | 'drip' | 'flood' | 'redirect' | 'deep';
let mode: Mode = 'ok';
/** What the hostile receiver did: bytes it managed to send, and when Tessera hung up on it. */
const seen = { floodBytes: 0, closedAfterMs: [] as number[] };
let elsewhereHits = 0;
let receiver: http.Server;
let elsewhere: http.Server;
let hookUrl: string;
let elsewhereUrl: string;
let server: TestServer;

const DEEP = `{"deep":${'{"a":'.repeat(1000)}1${'}'.repeat(1000)},"tier":"deep"}`;

function hostile(req: http.IncomingMessage, res: http.ServerResponse) {
  req.resume();
  req.on('end', () => {
    const started = Date.now();
    res.on('close', () => seen.closedAfterMs.push(Date.now() - started));
    if (mode === 'ok') return res.writeHead(200, { 'content-type': 'application/json' }).end('{"tier":"gold"}');
    if (mode === 'redirect') return res.writeHead(307, { location: elsewhereUrl }).end();
    if (mode === 'deep') return res.writeHead(200, { 'content-type': 'application/json' }).end(DEEP);
    res.writeHead(200, { 'content-type': 'application/json' });
    if (mode === 'drip') {
      res.write('{"tier":"');
      const timer = setInterval(() => res.write('x'), 1000);
      res.on('close', () => clearInterval(timer));
      return;
    }
    // flood: 1 MiB chunks as fast as the connection takes them, until Tessera hangs up.
    const chunk = Buffer.alloc(1024 * 1024, 'x');
    res.write('{"tier":"');
    const pump = () => {
      while (!res.destroyed) {
        seen.floodBytes += chunk.length;
        if (!res.write(chunk)) return void res.once('drain', pump);
      }
    };
    pump();
  });
}

before(async () => {
  receiver = http.createServer(hostile);
  elsewhere = http.createServer((req, res) => {
    elsewhereHits++;
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"stolen":true}');
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  await new Promise<void>((r) => elsewhere.listen(0, '127.0.0.1', r));
  hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/payload`;
  // Another host name than the hook's (localhost, not 127.0.0.1), as a redirect to a third party would be.
  elsewhereUrl = `http://localhost:${(elsewhere.address() as AddressInfo).port}/steal`;
  server = await startTestServer();
});
after(async () => {
  await server.stop();
  for (const s of [receiver, elsewhere]) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

const HOSTILE: Array<[Exclude<Mode, 'ok'>, string]> = [
  ['drip', 'timeout'],
  ['flood', 'body_too_large'],
  ['redirect', 'redirect'],
  ['deep', 'claims_too_deep'],
];

/** Runs `fn` and says how long it took. */
async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await fn();
  return { value, ms: performance.now() - started };
}

test('closed policy: every hostile hook fails the refresh within its timeout, and the refresh token still works after', async (t) => {
  const client = await aClient(server.db, { scope: 'openid offline_access', payload_hook: { url: hookUrl, secret: SECRET, timeout_ms: TIMEOUT_MS } as never });
  const config = await relyingParty(server.issuer, client.client_id, client.client_secret);
  const user = await aUser(server.db, PASSWORD);
  mode = 'ok';
  const req = await authorizationRequest(config, { scope: 'openid offline_access', prompt: 'consent' });
  const landed = await signIn(req.url, server.issuer, user.username, PASSWORD);
  const tokens = await oidc.authorizationCodeGrant(config, new URL(landed.url), { pkceCodeVerifier: req.verifier, expectedState: req.state });

  for (const [hostileMode, cause] of HOSTILE) {
    mode = hostileMode;
    seen.closedAfterMs.length = 0;
    const { value: error, ms } = await timed(() => oidc.refreshTokenGrant(config, tokens.refresh_token!).then(() => undefined, (err: oidc.ResponseBodyError) => err));
    assert.ok(error, `${hostileMode}: the refresh fails`);
    assert.equal(error.error, 'temporarily_unavailable', hostileMode);
    assert.match(error.error_description ?? '', new RegExp(`\\(${cause}\\)`), hostileMode);
    assert.ok(ms < TIMEOUT_MS + 1500, `${hostileMode}: answered in ${Math.round(ms)} ms, within the ${TIMEOUT_MS} ms timeout and a margin`);
    t.diagnostic(`closed ${hostileMode}: ${cause} in ${Math.round(ms)} ms`);
  }
  assert.equal(elsewhereHits, 0, 'the redirect target was never called');
  mode = 'ok';
  const retried = await oidc.refreshTokenGrant(config, tokens.refresh_token!);
  assert.equal(retried.claims()!.tier, 'gold', 'the unspent refresh token works once the hook behaves');
});

test('open policy: every hostile hook still gets a token, without payload claims', async (t) => {
  const rs = await aResourceServer(server.db);
  const client = await aClient(server.db, { grant_types: ['client_credentials'], redirect_uris: [], allowed_resources: [rs.identifier], payload_hook: { url: hookUrl, secret: SECRET, timeout_ms: TIMEOUT_MS, failure: 'open' } as never });
  const config = await relyingParty(server.issuer, client.client_id, client.client_secret);
  for (const [hostileMode] of HOSTILE) {
    mode = hostileMode;
    const { value: tokens, ms } = await timed(() => oidc.clientCredentialsGrant(config, { scope: 'read', resource: rs.identifier }));
    const claims = JSON.parse(Buffer.from(tokens.access_token.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
    assert.equal(claims.client_id, client.client_id, hostileMode);
    for (const name of ['tier', 'deep', 'stolen']) assert.equal(name in claims, false, `${hostileMode}: no ${name} claim`);
    assert.ok(ms < TIMEOUT_MS + 1500, `${hostileMode}: answered in ${Math.round(ms)} ms`);
    t.diagnostic(`open ${hostileMode}: token in ${Math.round(ms)} ms`);
  }
  assert.equal(elsewhereHits, 0, 'the redirect target was never called');
  mode = 'ok';
});

// The receiver's count includes what the kernel buffers on loopback (a few MiB): read until the
// 10 s timeout, a stream like this one would push gigabytes.
const PUSHED_BEFORE_CUT_MAX = 8 * 1024 * 1024;

test('an endless body is cut once it passes 64 KiB: body_too_large, the connection dropped, the rest never read', async () => {
  const rs = await aResourceServer(server.db);
  // The longest timeout allowed: if only the clock stopped it, the receiver would stream gigabytes.
  const client = await aClient(server.db, { grant_types: ['client_credentials'], redirect_uris: [], allowed_resources: [rs.identifier], payload_hook: { url: hookUrl, secret: SECRET, timeout_ms: 10_000 } as never });
  const config = await relyingParty(server.issuer, client.client_id, client.client_secret);
  mode = 'flood';
  try {
    for (let i = 0; i < 3; i++) {
      seen.floodBytes = 0;
      seen.closedAfterMs.length = 0;
      await assert.rejects(oidc.clientCredentialsGrant(config, { scope: 'read', resource: rs.identifier }), (err: oidc.ResponseBodyError) => {
        assert.equal(err.error, 'temporarily_unavailable');
        assert.match(err.error_description ?? '', /\(body_too_large\)/, 'cut for its size, not by the timeout');
        return true;
      });
      // The receiver sees the hang-up once its writes fail; wait for it, bounded.
      for (const deadline = Date.now() + 5_000; seen.closedAfterMs.length === 0; await new Promise((r) => setTimeout(r, 20))) {
        assert.ok(Date.now() < deadline, 'Tessera did not hang up on the stream');
      }
      assert.ok(seen.floodBytes < PUSHED_BEFORE_CUT_MAX, `the receiver pushed ${seen.floodBytes} bytes before being cut off`);
    }
  } finally {
    mode = 'ok';
  }
});

test('/metrics counts each hostile failure by cause', async () => {
  const count = async (cause: string) => {
    const text = await (await fetch(`${server.issuer}/metrics`)).text();
    return Number(new RegExp(`tessera_payload_hook_failures_total\\{cause="${cause}",source="webhook"\\} (\\d+)`).exec(text)?.[1] ?? 0);
  };
  const rs = await aResourceServer(server.db);
  const client = await aClient(server.db, { grant_types: ['client_credentials'], redirect_uris: [], allowed_resources: [rs.identifier], payload_hook: { url: hookUrl, secret: SECRET, timeout_ms: TIMEOUT_MS, failure: 'open' } as never });
  const config = await relyingParty(server.issuer, client.client_id, client.client_secret);
  try {
    for (const [hostileMode, cause] of HOSTILE) {
      const before = await count(cause);
      mode = hostileMode;
      await oidc.clientCredentialsGrant(config, { scope: 'read', resource: rs.identifier });
      mode = 'ok';
      assert.equal(await count(cause), before + 1, `${hostileMode}: one more ${cause}`);
    }
  } finally {
    mode = 'ok';
  }
});
