import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import * as oidc from 'openid-client';
import { aClient, aUser, authorizationRequest, relyingParty } from './support/fixtures.ts';
import { signIn } from './support/browserless.ts';
import { adminSuite } from './support/admin.ts';

const suite = adminSuite();

test('no token is 401, an unknown token 401, a token without an admin scope 403; admin:privileges is enough here', async () => {
  const user = await aUser(suite.server.db);
  const none = await suite.api('GET', `/users/${user.id}/privileges`, { token: null });
  assert.equal(none.status, 401);
  assert.match(none.headers.get('content-type') ?? '', /^application\/problem\+json/);
  assert.match(none.headers.get('www-authenticate') ?? '', /^Bearer/);
  assert.equal((await suite.api('GET', `/users/${user.id}/privileges`, { token: 'not-a-token' })).status, 401);
  const plain = await suite.api('GET', `/users/${user.id}/privileges`, { token: await suite.tokenFor('openid') });
  assert.equal(plain.status, 403);
  assert.equal(plain.json.status, 403);
  const narrow = await suite.api('PUT', `/users/${user.id}/privileges`, { token: await suite.tokenFor('admin:privileges'), body: { profile: 'editor', scope: 'a' } });
  assert.equal(narrow.status, 200);
});

test('PUT, GET, ETag and If-Match: a stale write is refused with 412 and changes nothing', async () => {
  const user = await aUser(suite.server.db);
  const empty = await suite.api('GET', `/users/${user.id}/privileges`);
  assert.deepEqual({ ...empty.json, updated_at: undefined }, { profile: null, scope: '', version: 0, updated_at: undefined });
  assert.equal(empty.headers.get('etag'), '"0"');

  const first = await suite.api('PUT', `/users/${user.id}/privileges`, { body: { profile: { role: 'editor' }, scope: 'docs:read' }, headers: { 'if-match': '"0"' } });
  assert.equal(first.status, 200);
  assert.equal(first.json.version, 1);
  assert.equal(first.headers.get('etag'), '"1"');
  assert.ok(Date.parse(first.json.updated_at));

  const second = await suite.api('PUT', `/users/${user.id}/privileges`, { body: { profile: 'owner', scope: 'docs:admin' }, headers: { 'if-match': '"1"' } });
  assert.equal(second.json.version, 2);
  const stale = await suite.api('PUT', `/users/${user.id}/privileges`, { body: { profile: 'nobody', scope: '' }, headers: { 'if-match': '"1"' } });
  assert.equal(stale.status, 412);
  const now = await suite.api('GET', `/users/${user.id}/privileges`);
  assert.deepEqual([now.json.profile, now.json.scope, now.json.version], ['owner', 'docs:admin', 2]);

  assert.equal((await suite.api('DELETE', `/users/${user.id}/privileges`, { headers: { 'if-match': '"1"' } })).status, 412);
  assert.equal((await suite.api('DELETE', `/users/${user.id}/privileges`, { headers: { 'if-match': '"2"' } })).status, 204);
  assert.equal((await suite.api('GET', `/users/${user.id}/privileges`)).json.version, 0);
});

test('invalid input gets a clear 4xx and leaves the stored privileges untouched', async () => {
  const user = await aUser(suite.server.db);
  await suite.api('PUT', `/users/${user.id}/privileges`, { body: { profile: 'editor', scope: 'a b' } });
  const cases: Array<[string, Parameters<typeof suite.api>[2], number]> = [
    ['scope not a string', { body: { scope: 5 } }, 422],
    ['unknown member', { body: { scope: 'a', role: 'x' } }, 422],
    ['double space in scope', { body: { scope: 'a  b' } }, 422],
    ['not JSON', { body: '{"scope": ', headers: { 'content-type': 'application/json' } }, 400],
    ['wrong content type', { body: 'scope=a', headers: { 'content-type': 'application/x-www-form-urlencoded' } }, 415],
    ['over 1 MiB', { body: { profile: 'x'.repeat(1024 * 1024 + 10), scope: '' } }, 413],
    ['an array', { body: [1, 2] }, 422],
    ['a bad If-Match', { body: { scope: 'z' }, headers: { 'if-match': 'yesterday' } }, 400],
  ];
  for (const [name, options, status] of cases) {
    const res = await suite.api('PUT', `/users/${user.id}/privileges`, options);
    assert.equal(res.status, status, name);
    assert.equal(res.json.status, status, name);
    if (status === 422) assert.ok(Array.isArray(res.json.errors) && res.json.errors[0].path, `${name}: errors with paths`);
  }
  const after = await suite.api('GET', `/users/${user.id}/privileges`);
  assert.deepEqual([after.json.profile, after.json.scope, after.json.version], ['editor', 'a b', 1]);
  assert.equal((await suite.api('PUT', `/users/${randomUUID()}/privileges`, { body: { scope: 'a' } })).status, 404);
  assert.equal((await suite.api('GET', `/users/not-a-uuid/privileges`)).status, 404);
});

test('50 concurrent writes with the same If-Match: exactly one wins, nothing is lost', async () => {
  const user = await aUser(suite.server.db);
  await suite.api('PUT', `/users/${user.id}/privileges`, { body: { profile: 0, scope: '' } });
  const results = await Promise.all(
    Array.from({ length: 50 }, (_, i) => suite.api('PUT', `/users/${user.id}/privileges`, { body: { profile: i + 1, scope: `w${i + 1}` }, headers: { 'if-match': '"1"' } })),
  );
  const winners = results.filter((r) => r.status === 200);
  assert.equal(winners.length, 1);
  assert.equal(results.filter((r) => r.status === 412).length, 49);
  const stored = await suite.api('GET', `/users/${user.id}/privileges`);
  assert.deepEqual([stored.json.profile, stored.json.version], [winners[0]!.json.profile, 2]);
});

test('a privileges PUT through the API shows in the next refreshed token', async () => {
  const user = await aUser(suite.server.db);
  const client = await aClient(suite.server.db, { scope: 'openid privileges offline_access' });
  const config = await relyingParty(suite.server.issuer, client.client_id, client.client_secret);
  const req = await authorizationRequest(config, { scope: 'openid privileges offline_access', prompt: 'consent' });
  const landed = await signIn(req.url, suite.server.issuer, user.username, 'correct horse battery');
  const tokens = await oidc.authorizationCodeGrant(config, new URL(landed.url), { pkceCodeVerifier: req.verifier, expectedState: req.state });
  assert.equal(tokens.claims()!.user_scope, '');
  await suite.api('PUT', `/users/${user.id}/privileges`, { body: { profile: 'editor', scope: 'docs:write' } });
  const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token!);
  assert.equal(refreshed.claims()!.user_profile, 'editor');
  assert.equal(refreshed.claims()!.user_scope, 'docs:write');
  assert.ok(suite.server.logs.some((l) => l.includes('"action":"privileges.put"') && l.includes('"actor":"test-admin"')), 'the write is audited with its actor');
});

test('two systems bulk-PUT the same users at once in opposite orders: both are written, every time, answered in their own order', async () => {
  const users = await Promise.all(Array.from({ length: 12 }, () => aUser(suite.server.db)));
  const items = (tag: string) => users.map((u) => ({ user_id: u.id, profile: { from: tag }, scope: tag }));
  for (let round = 0; round < 6; round++) {
    const [forward, backward] = await Promise.all([
      suite.api('PUT', '/privileges', { body: { items: items('hr') } }),
      suite.api('PUT', '/privileges', { body: { items: items('crm').reverse() } }),
    ]);
    assert.deepEqual([forward.status, backward.status], [200, 200], `round ${round + 1}: ${JSON.stringify(forward.status === 200 ? backward.json : forward.json)}`);
    assert.deepEqual(forward.json.items.map((i: { user_id: string }) => i.user_id), users.map((u) => u.id));
    assert.deepEqual(backward.json.items.map((i: { user_id: string }) => i.user_id), users.map((u) => u.id).reverse());
  }
  // Each user's privileges are one write's or the other's, with the version counting all twelve writes.
  for (const u of users) {
    const stored = (await suite.api('GET', `/users/${u.id}/privileges`)).json;
    assert.equal(stored.version, 12);
    assert.ok(['hr', 'crm'].includes(stored.scope) && stored.profile.from === stored.scope, JSON.stringify(stored));
  }
});

test('bulk PUT: many users by id, username or external_id at once; one bad item changes nobody', async () => {
  const a = await aUser(suite.server.db);
  const b = await aUser(suite.server.db, 'correct horse battery', { external_id: `hr-${a.id}` });
  const ok = await suite.api('PUT', '/privileges', {
    body: { items: [{ user_id: a.id, profile: 'editor', scope: 'x' }, { username: b.username.toUpperCase(), profile: { r: 1 }, scope: 'y' }] },
  });
  assert.equal(ok.status, 200);
  assert.deepEqual(ok.json.items.map((i: { version: number }) => i.version), [1, 1]);
  const byExternal = await suite.api('PUT', '/privileges', { body: { items: [{ external_id: `hr-${a.id}`, profile: 'owner', scope: 'z' }] } });
  assert.deepEqual(byExternal.json.items, [{ user_id: b.id, version: 2 }]);

  const bad = await suite.api('PUT', '/privileges', {
    body: { items: [{ user_id: a.id, profile: 'changed', scope: 'changed' }, { username: 'nobody-here-at-all', scope: 'q' }] },
  });
  assert.equal(bad.status, 422);
  assert.deepEqual(bad.json.errors, [{ path: '/items/1/username', message: 'no such user' }]);
  assert.equal((await suite.api('GET', `/users/${a.id}/privileges`)).json.profile, 'editor', 'all or nothing');

  assert.equal((await suite.api('PUT', '/privileges', { body: { items: [{ user_id: a.id, username: a.username, scope: '' }] } })).status, 422, 'one identifier per item');
  assert.equal((await suite.api('PUT', '/privileges', { body: { items: [{ user_id: a.id }, { user_id: a.id }] } })).status, 422, 'a user twice');
  const many = Array.from({ length: 1001 }, () => ({ user_id: a.id, scope: '' }));
  assert.equal((await suite.api('PUT', '/privileges', { body: { items: many } })).status, 422, 'at most 1000');
});
