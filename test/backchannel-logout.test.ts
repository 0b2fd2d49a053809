import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import { createRemoteJWKSet, decodeJwt, jwtVerify, type JWTPayload } from 'jose';
import { adminSuite } from './support/admin.ts';
import { aUser, authorizationRequest, relyingParty, REDIRECT_URI } from './support/fixtures.ts';
import { signIn, UserAgent } from './support/browserless.ts';
import { startReceiver, type Receiver } from './support/receiver.ts';

// OpenID Connect Back-Channel Logout 1.0 (issue 14): every way a user's session ends reaches each
// client of that session that registered a backchannel_logout_uri, as a logout token signed with
// Tessera's keys whose `sid` is the one its ID token carried.

const PASSWORD = 'correct horse battery';
const BACKCHANNEL_EVENT = 'http://schemas.openid.net/event/backchannel-logout';
const suite = adminSuite();

/** Logout tokens received, per path; `next(path)` waits for the next one on that path. */
type Arrival = { path: string; token: string };
let receiver: Receiver;
let base: string;
const arrived: Arrival[] = [];
const waiting: Array<{ path: string; resolve: (a: Arrival) => void }> = [];
const seen = new Map<string, number>();

before(async () => {
  receiver = await startReceiver((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const token = new URLSearchParams(body).get('logout_token') ?? '';
      const a = { path: req.url ?? '', token };
      res.writeHead(200).end();
      const i = waiting.findIndex((w) => w.path === a.path);
      if (i >= 0) waiting.splice(i, 1)[0]!.resolve(a);
      else arrived.push(a);
    });
  });
  base = new URL(receiver.url).origin;
});
after(async () => receiver?.stop());

function next(path: string): Promise<Arrival> {
  seen.set(path, (seen.get(path) ?? 0) + 1);
  const i = arrived.findIndex((a) => a.path === path);
  if (i >= 0) return Promise.resolve(arrived.splice(i, 1)[0]!);
  return new Promise((resolve) => waiting.push({ path, resolve }));
}

async function verify(token: string, clientId: string): Promise<JWTPayload> {
  const jwks = createRemoteJWKSet(new URL(`${suite.server.issuer}/jwks`));
  const { payload, protectedHeader } = await jwtVerify(token, jwks, { issuer: suite.server.issuer, audience: clientId, typ: 'logout+jwt' });
  assert.equal(protectedHeader.alg, 'ES256');
  return payload;
}

/** A client registered through the admin API with a back-channel logout URI on the test receiver. */
async function aLogoutClient(path: string) {
  const res = await suite.api('POST', '/clients', {
    body: { client_name: 'Logout app', redirect_uris: [REDIRECT_URI], post_logout_redirect_uris: ['https://app.test/bye'], scope: 'openid profile', first_party: true, backchannel_logout_uri: `${base}${path}` },
  });
  assert.equal(res.status, 201, JSON.stringify(res.json));
  assert.equal(res.json.backchannel_logout_uri, `${base}${path}`);
  assert.equal(res.json.backchannel_logout_session_required, true);
  return res.json as { client_id: string; client_secret: string };
}

/** Signs the user in to the client in `agent`'s browser; answers the ID token's claims and the raw ID token. */
async function signedIn(client: { client_id: string; client_secret: string }, username: string, agent = new UserAgent()) {
  const rp = await relyingParty(suite.server.issuer, client.client_id, client.client_secret);
  const { url, verifier, state } = await authorizationRequest(rp, { scope: 'openid' });
  const landed = await signIn(url, suite.server.issuer, username, PASSWORD, agent);
  const tokens = await oidc.authorizationCodeGrant(rp, new URL(landed.url), { pkceCodeVerifier: verifier, expectedState: state });
  const claims = tokens.claims()!;
  assert.equal(typeof claims.sid, 'string', 'the ID token carries sid');
  return { claims, idToken: tokens.id_token!, agent };
}

test('discovery advertises back-channel logout with sessions', async () => {
  const doc = await (await fetch(`${suite.server.issuer}/.well-known/openid-configuration`)).json();
  assert.equal(doc.backchannel_logout_supported, true);
  assert.equal(doc.backchannel_logout_session_supported, true);
});

test('admin logout sends each client of the session a logout token whose sid matches its ID token; a client without a session hears nothing', async () => {
  const a = await aLogoutClient('/a');
  const b = await aLogoutClient('/b');
  const other = await aLogoutClient('/not-signed-in');
  const user = await aUser(suite.server.db, PASSWORD);
  const agent = new UserAgent();
  const inA = await signedIn(a, user.username, agent);
  const inB = await signedIn(b, user.username, agent);
  assert.notEqual(inA.claims.sid, inB.claims.sid, 'each client has its own sid');

  const res = await suite.api('POST', `/users/${user.id}/logout`);
  assert.equal(res.status, 200);
  for (const [path, client, claims] of [['/a', a, inA.claims], ['/b', b, inB.claims]] as const) {
    const got = await verify((await next(path)).token, client.client_id);
    assert.equal(got.sub, user.id);
    assert.equal(got.sid, claims.sid, 'the logout token names the session of the ID token');
    assert.deepEqual(got.events, { [BACKCHANNEL_EVENT]: {} });
    assert.equal(typeof got.jti, 'string');
    assert.equal(got.nonce, undefined, 'a logout token never carries a nonce');
    await sentOnce(client.client_id, path, got);
  }
  assert.ok(other.client_id);
  // Checked at the end of the file too: nothing ever reached the client the user never signed in to.
  assert.equal(arrived.filter((x) => x.path === '/not-signed-in').length, 0);
});

test('RP-initiated logout at /session/end sends the logout token', async () => {
  const client = await aLogoutClient('/rp');
  const user = await aUser(suite.server.db, PASSWORD);
  const { claims, idToken, agent } = await signedIn(client, user.username);
  const page = await agent.follow(`${suite.server.issuer}/session/end?id_token_hint=${idToken}&post_logout_redirect_uri=${encodeURIComponent('https://app.test/bye')}`, suite.server.issuer);
  assert.match(page.body!, /Sign out/);
  const done = await agent.submit(page.url, page.body!, /id="op.logoutForm"/, { logout: 'yes' }, suite.server.issuer);
  assert.ok(done.url.startsWith('https://app.test/bye'), done.url);
  const got = await verify((await next('/rp')).token, client.client_id);
  assert.equal(got.sub, user.id);
  assert.equal(got.sid, claims.sid);
  await sentOnce(client.client_id, '/rp', got);
});

/**
 * One path: the token that arrived is the one recorded in the outbox, and no
 * other reached the RP (oidc-provider's own one-attempt send at /session/end would have come first).
 */
async function sentOnce(clientId: string, path: string, got: JWTPayload) {
  const rows = await suite.server.db('backchannel_outbox').where({ client_id: clientId }).select('jti');
  assert.equal(rows.length, 1, 'one logout recorded');
  assert.equal(rows[0]!.jti, got.jti, 'the token received is the recorded one');
  assert.equal(arrived.filter((a) => a.path === path).length, 0, 'no second token reached the RP');
}

test('disabling, a new password and deletion each sign the user out by back channel', async () => {
  const client = await aLogoutClient('/user-changes');
  for (const change of ['disable', 'password', 'delete'] as const) {
    const user = await aUser(suite.server.db, PASSWORD);
    const { claims } = await signedIn(client, user.username);
    const res =
      change === 'disable' ? await suite.api('PATCH', `/users/${user.id}`, { body: { enabled: false } })
      : change === 'password' ? await suite.api('PATCH', `/users/${user.id}`, { body: { password: 'another fine password' } })
      : await suite.api('DELETE', `/users/${user.id}`);
    assert.ok(res.status === 200 || res.status === 204, `${change}: ${res.status}`);
    const got = await verify((await next('/user-changes')).token, client.client_id);
    assert.equal(got.sub, user.id, change);
    assert.equal(got.sid, claims.sid, change);
  }
});

test('a back-channel logout URI must be an http(s) URL to an allowed address; a refused one changes nothing', async () => {
  const client = await aLogoutClient('/kept');
  for (const uri of ['ftp://127.0.0.1/logout', 'https://rp.example/logout#frag', 'http://10.1.2.3/logout', 'not a url']) {
    const res = await suite.api('PATCH', `/clients/${client.client_id}`, { body: { backchannel_logout_uri: uri } });
    assert.equal(res.status, 422, `${uri}: ${res.status}`);
    assert.ok(res.json.errors.some((e: { path: string }) => e.path === '/backchannel_logout_uri'), JSON.stringify(res.json.errors));
  }
  const kept = await suite.api('GET', `/clients/${client.client_id}`);
  assert.equal(kept.json.backchannel_logout_uri, `${base}/kept`);
  const removed = await suite.api('PATCH', `/clients/${client.client_id}`, { body: { backchannel_logout_uri: null, backchannel_logout_session_required: false } });
  assert.equal(removed.status, 200);
  assert.equal(removed.json.backchannel_logout_uri, null);
  assert.equal(removed.json.backchannel_logout_session_required, false);
});

test('a client without a back-channel logout URI gets no sid and nothing is sent', async () => {
  const created = await suite.api('POST', '/clients', { body: { client_name: 'Plain app', redirect_uris: [REDIRECT_URI], scope: 'openid', first_party: true } });
  const user = await aUser(suite.server.db, PASSWORD);
  const rp = await relyingParty(suite.server.issuer, created.json.client_id, created.json.client_secret);
  const { url, verifier, state } = await authorizationRequest(rp, { scope: 'openid' });
  const landed = await signIn(url, suite.server.issuer, user.username, PASSWORD);
  const tokens = await oidc.authorizationCodeGrant(rp, new URL(landed.url), { pkceCodeVerifier: verifier, expectedState: state });
  assert.equal(decodeJwt(tokens.id_token!).sid, undefined);
  assert.equal((await suite.api('POST', `/users/${user.id}/logout`)).status, 200);
});

test('nothing was ever sent to a client the user had no session with', () => {
  assert.equal(arrived.filter((x) => x.path === '/not-signed-in').length, 0);
  assert.equal(waiting.length, 0);
});
