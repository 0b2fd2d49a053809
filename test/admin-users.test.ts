import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import * as oidc from 'openid-client';
import { aClient, authorizationRequest, relyingParty, unique } from './support/fixtures.ts';
import { signIn } from './support/browserless.ts';
import { adminSuite } from './support/admin.ts';
import { createOrganization, putMembership } from '../src/storage/organizations.ts';

const suite = adminSuite();

const PASSWORD = 'correct horse battery';

async function signedIn(username: string) {
  const client = await aClient(suite.server.db);
  const config = await relyingParty(suite.server.issuer, client.client_id, client.client_secret);
  const req = await authorizationRequest(config, { scope: 'openid offline_access', prompt: 'consent' });
  const landed = await signIn(req.url, suite.server.issuer, username, PASSWORD);
  const tokens = await oidc.authorizationCodeGrant(config, new URL(landed.url), { pkceCodeVerifier: req.verifier, expectedState: req.state });
  return { config, tokens, agent: landed.agent };
}

/** What a user signed in before can still do: refresh, introspect and use its access token, sign in silently. */
async function stillSignedIn(a: Awaited<ReturnType<typeof signedIn>>) {
  const refresh = await oidc.refreshTokenGrant(a.config, a.tokens.refresh_token!).then(() => 'tokens', (err: oidc.ResponseBodyError) => err.error);
  const introspected = (await oidc.tokenIntrospection(a.config, a.tokens.access_token)).active === true;
  const userinfo = (await fetch(`${suite.server.issuer}/me`, { headers: { authorization: `Bearer ${a.tokens.access_token}` } })).status === 200;
  const silent = await authorizationRequest(a.config, { scope: 'openid', prompt: 'none' });
  const landed = await a.agent.follow(silent.url, suite.server.issuer);
  const session = new URL(landed.url).searchParams.has('code');
  return { refresh, introspected, userinfo, session };
}

const SIGNED_OUT = { refresh: 'invalid_grant', introspected: false, userinfo: false, session: false };

test('create, look up, change and delete a user; the password never comes back', async () => {
  const username = unique('ada');
  const created = await suite.api('POST', '/users', { body: { username, password: PASSWORD, email: 'Ada@Example.com', name: 'Ada', external_id: unique('hr') } });
  assert.equal(created.status, 201);
  assert.equal(created.headers.get('location'), `/admin/v1/users/${created.json.id}`);
  assert.equal('password' in created.json || 'password_hash' in created.json, false);
  assert.equal((await suite.api('POST', '/users', { body: { username: username.toUpperCase(), password: PASSWORD } })).status, 409, 'usernames are unique whatever the case');

  for (const q of [`username=${username}`, 'email=ada@example.com', `external_id=${created.json.external_id}`]) {
    const found = await suite.api('GET', `/users?${q}`);
    assert.deepEqual(found.json.items.map((u: { id: string }) => u.id), [created.json.id], q);
  }
  const patched = await suite.api('PATCH', `/users/${created.json.id}`, { body: { name: 'Ada Lovelace', email: null } });
  assert.equal(patched.json.name, 'Ada Lovelace');
  assert.equal(patched.json.email, null);
  assert.equal((await suite.api('PATCH', `/users/${created.json.id}`, { body: { name: 5 } })).status, 422);

  const signed = await signedIn(username);
  assert.equal(signed.tokens.claims()!.sub, created.json.id);

  assert.equal((await suite.api('DELETE', `/users/${created.json.id}`)).status, 204);
  assert.deepEqual(await stillSignedIn(signed), SIGNED_OUT, "a deleted user's refresh is invalid_grant, their tokens and session are gone");
  assert.equal((await suite.api('GET', `/users/${created.json.id}`)).status, 404);
  assert.equal((await suite.api('GET', `/users/${randomUUID()}`)).status, 404);
});

test('invalid bodies get 422 with the offending fields, and create nothing', async () => {
  const username = unique('bad');
  const res = await suite.api('POST', '/users', { body: { username, password: 'short', email: 'not-an-email', admin: true } });
  assert.equal(res.status, 422);
  const paths = res.json.errors.map((e: { path: string }) => e.path);
  assert.ok(paths.includes('/password') && paths.includes('/email'), JSON.stringify(paths));
  assert.deepEqual((await suite.api('GET', `/users?username=${username}`)).json.items, []);
});

test('an admin:privileges token cannot manage users', async () => {
  const res = await suite.api('POST', '/users', { token: await suite.tokenFor('admin:privileges'), body: { username: unique('x'), password: PASSWORD } });
  assert.equal(res.status, 403);
});

test("logout revokes the user's session, grants and tokens at once", async () => {
  const username = unique('eve');
  const user = (await suite.api('POST', '/users', { body: { username, password: PASSWORD } })).json;
  const a = await signedIn(username);
  const out = await suite.api('POST', `/users/${user.id}/logout`);
  assert.equal(out.status, 200);
  assert.ok(out.json.revoked > 0);
  assert.deepEqual(await stillSignedIn(a), SIGNED_OUT);
});

// Disabled, a user gets nothing anyway (findAccount refuses them); what disabling must also do is
// end what they held, so enabling them again does not bring old sessions and tokens back.
test('disabling a user ends their sessions and tokens, which stay ended when they are enabled again', async () => {
  const username = unique('mallory');
  const user = (await suite.api('POST', '/users', { body: { username, password: PASSWORD } })).json;
  const b = await signedIn(username);
  assert.equal((await suite.api('PATCH', `/users/${user.id}`, { body: { enabled: false } })).status, 200);
  assert.deepEqual(await stillSignedIn(b), SIGNED_OUT, 'while disabled');
  assert.equal((await suite.api('PATCH', `/users/${user.id}`, { body: { enabled: true } })).status, 200);
  assert.deepEqual(await stillSignedIn(b), SIGNED_OUT, 'enabled again');
  // The user may sign in anew.
  assert.equal((await signedIn(username)).tokens.claims()!.sub, user.id);
});

test("a user's organizations with roles", async () => {
  const user = (await suite.api('POST', '/users', { body: { username: unique('org'), password: PASSWORD } })).json;
  const org = await createOrganization(suite.server.db, { alias: unique('acme'), name: 'Acme' });
  await putMembership(suite.server.db, org.id, user.id, { roles: ['admin'] });
  const res = await suite.api('GET', `/users/${user.id}/organizations`);
  assert.deepEqual(res.json.items, [{ id: org.id, alias: org.alias, name: 'Acme', roles: ['admin'], attributes: {} }]);
});

test('a new password signs the user out everywhere: refresh tokens, access tokens and sessions', async () => {
  const username = unique('pat');
  const user = (await suite.api('POST', '/users', { body: { username, password: PASSWORD } })).json;
  const a = await signedIn(username);
  assert.equal((await suite.api('PATCH', `/users/${user.id}`, { body: { name: 'Pat' } })).status, 200);
  // (Introspection, not a refresh: a refresh would rotate the token this test refreshes with below.)
  assert.equal((await oidc.tokenIntrospection(a.config, a.tokens.access_token)).active, true, 'another change signs nobody out');
  assert.equal((await suite.api('PATCH', `/users/${user.id}`, { body: { password: 'a brand new password' } })).status, 200);
  assert.deepEqual(await stillSignedIn(a), SIGNED_OUT, 'refresh is invalid_grant, prompt=none is login_required');
});

test('usernames with invisible characters are refused; other spellings of a taken name are the same name', async () => {
  for (const hidden of ['victim\u200b', '\u200bvictim', 'vic\u202etim', 'vic\u2066tim', 'vic\u00adtim', 'vic\ufefftim', 'vic tim', 'vic\u3000tim']) {
    const res = await suite.api('POST', '/users', { body: { username: hidden, password: PASSWORD } });
    assert.equal(res.status, 422, `${JSON.stringify(hidden)}: ${res.status}`);
  }
  const username = unique('victim');
  const user = (await suite.api('POST', '/users', { body: { username, password: PASSWORD } })).json;
  assert.equal((await suite.api('PATCH', `/users/${user.id}`, { body: { username: `${username}\u200d` } })).status, 422);
  const fullWidth = [...username].map((c) => (/[a-z]/.test(c) ? String.fromCharCode(c.charCodeAt(0) + 0xfee0) : c)).join('');
  assert.equal((await suite.api('POST', '/users', { body: { username: fullWidth.toUpperCase(), password: PASSWORD } })).status, 409, 'taken, in full-width capitals');
  assert.deepEqual((await suite.api('GET', `/users?username=${encodeURIComponent(fullWidth)}`)).json.items.map((u: { id: string }) => u.id), [user.id]);
});
