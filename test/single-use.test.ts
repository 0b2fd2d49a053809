/**
 * A code or a rotated refresh token is single-use even when an app (or a thief) sends the same one
 * several times at once: exactly one request wins, and the rest are refused as a replay, which
 * revokes the grant as oidc-provider does for a replay that comes later. Without this, requests
 * racing on one refresh token each got a new refresh token: one token became several chains.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import { startTestServer, type TestServer } from './support/server.ts';
import { startReceiver, type Receiver } from './support/receiver.ts';
import { aClient, aUser, authorizationRequest, relyingParty, REDIRECT_URI } from './support/fixtures.ts';
import { signIn } from './support/browserless.ts';

// A payload hook that holds every racing request at a barrier until all of them have reached it,
// so each has read the code or refresh token (unspent) before any of them can spend it: the overlap
// is certain, not a matter of timing. Outside a race (the sign-in's own code exchange) it answers at once.
const RACERS = 6;
const BARRIER_CAP_MS = 4_000; // under the hook timeout (5 s), only so a broken run cannot hang; a race fills the barrier at once
let barrier: { expected: number; arrived: number; capped: number; open: () => void; opened: Promise<void> } | undefined;
function armBarrier(expected: number) {
  let open!: () => void;
  const opened = new Promise<void>((r) => (open = r));
  barrier = { expected, arrived: 0, capped: 0, open, opened };
  return barrier;
}
let receiver: Receiver;
let server: TestServer;
before(async () => {
  receiver = await startReceiver((req, res) => {
    req.resume();
    req.on('end', async () => {
      const b = barrier;
      if (b) {
        if (++b.arrived === b.expected) b.open();
        const capped = await Promise.race([b.opened.then(() => false), new Promise<boolean>((r) => setTimeout(r, BARRIER_CAP_MS, true).unref())]);
        if (capped) b.capped++;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  server = await startTestServer();
});
after(async () => {
  await server.stop();
  await receiver.stop();
});

async function signedIn(scope: string, slowHook = false) {
  const user = await aUser(server.db);
  const client = await aClient(server.db, slowHook ? { payload_hook: { url: receiver.url, secret: 'single-use-hook-secret-0123', timeout_ms: 5000 } } : {});
  const config = await relyingParty(server.issuer, client.client_id, client.client_secret);
  const req = await authorizationRequest(config, { scope, prompt: 'consent' });
  const landed = await signIn(req.url, server.issuer, user.username, 'correct horse battery');
  const auth = `Basic ${Buffer.from(`${client.client_id}:${client.client_secret}`).toString('base64')}`;
  return { config, req, landed, auth };
}

/** Sends `params` RACERS times at once; every request is held at the hook until all have arrived. */
async function race(auth: string, params: Record<string, string>) {
  const b = armBarrier(RACERS);
  try {
    const answers = await Promise.all(Array.from({ length: RACERS }, () => tokenRequest(auth, params)));
    assert.deepEqual({ arrived: b.arrived, capped: b.capped }, { arrived: RACERS, capped: 0 }, 'every request reached the hook, with the token unspent, before any was let go');
    return answers;
  } finally {
    barrier = undefined;
  }
}

async function tokenRequest(auth: string, params: Record<string, string>) {
  const res = await fetch(`${server.issuer}/token`, { method: 'POST', headers: { authorization: auth, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(params) });
  return { status: res.status, json: (await res.json()) as Record<string, string> };
}

test(`one refresh token sent ${RACERS} times at once: one answer, the others refused, no chain survives`, async () => {
  const { config, req, landed, auth } = await signedIn('openid offline_access', true);
  const tokens = await oidc.authorizationCodeGrant(config, new URL(landed.url), { pkceCodeVerifier: req.verifier, expectedState: req.state });
  const answers = await race(auth, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token! });

  const won = answers.filter((a) => a.status === 200);
  assert.equal(won.length, 1, `exactly one request gets tokens (statuses: ${answers.map((a) => a.status).join(' ')})`);
  for (const lost of answers.filter((a) => a.status !== 200)) {
    assert.equal(lost.status, 400);
    assert.equal(lost.json.error, 'invalid_grant');
  }
  // Seen as a replay: the grant is revoked, so the winner's new refresh token is dead too.
  await assert.rejects(oidc.refreshTokenGrant(config, won[0]!.json.refresh_token!), { error: 'invalid_grant' });
});

test(`one authorization code sent ${RACERS} times at once: one answer, the others refused`, async () => {
  const { landed, req, auth } = await signedIn('openid offline_access', true);
  const code = new URL(landed.url).searchParams.get('code')!;
  const params = { grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: req.verifier };
  const answers = await race(auth, params);

  const won = answers.filter((a) => a.status === 200);
  assert.equal(won.length, 1, `exactly one request gets tokens (statuses: ${answers.map((a) => a.status).join(' ')})`);
  for (const lost of answers.filter((a) => a.status !== 200)) assert.equal(lost.json.error, 'invalid_grant');
});

test('a refresh token used once, then again: the second use is refused and revokes the grant', async () => {
  const { config, req, landed } = await signedIn('openid offline_access');
  const tokens = await oidc.authorizationCodeGrant(config, new URL(landed.url), { pkceCodeVerifier: req.verifier, expectedState: req.state });
  const next = await oidc.refreshTokenGrant(config, tokens.refresh_token!);
  await assert.rejects(oidc.refreshTokenGrant(config, tokens.refresh_token!), { error: 'invalid_grant' });
  await assert.rejects(oidc.refreshTokenGrant(config, next.refresh_token!), { error: 'invalid_grant' }, 'the replay revoked the grant');
});
