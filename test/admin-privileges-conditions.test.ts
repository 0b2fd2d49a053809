/**
 * Issue 13 (If-Match and the profile budget) and issue 19 (`If-Match: "0"` when privileges exist).
 * `*` never answers 412 while a representation exists, however many writers race; a weak ETag never
 * satisfies If-Match; `"0"` means "nothing stored yet". A privileges profile over
 * TESSERA_MAX_PRIVILEGES_PROFILE_BYTES (16 KiB) is a 422 and is not stored.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { aUser } from './support/fixtures.ts';
import { adminSuite } from './support/admin.ts';

const suite = adminSuite();

const put = (userId: string, body: unknown, ifMatch?: string) => suite.api('PUT', `/users/${userId}/privileges`, { body, headers: ifMatch ? { 'if-match': ifMatch } : {} });
const read = async (userId: string) => (await suite.api('GET', `/users/${userId}/privileges`)).json;

test('If-Match: "0" when privileges exist is 412 and changes nothing', async () => {
  const user = await aUser(suite.server.db);
  assert.equal((await put(user.id, { profile: 'first', scope: 'a' }, '"0"')).status, 200, '"0" creates when nothing is stored');
  const again = await put(user.id, { profile: 'second', scope: 'b' }, '"0"');
  assert.equal(again.status, 412);
  assert.deepEqual({ profile: (await read(user.id)).profile, version: (await read(user.id)).version }, { profile: 'first', version: 1 });
});

test('If-Match: * never answers 412 while the user exists: 50 parallel PUTs all succeed, each write counted', async () => {
  const user = await aUser(suite.server.db);
  assert.equal((await put(user.id, { profile: 0, scope: '' }, '*')).status, 200, '* with nothing stored yet (version 0 is a representation)');
  const answers = await Promise.all(Array.from({ length: 50 }, (_, i) => put(user.id, { profile: i + 1, scope: `w${i + 1}` }, '*')));
  assert.deepEqual(answers.map((a) => a.status).filter((s) => s !== 200), [], 'no spurious 412');
  assert.equal((await read(user.id)).version, 51);
  assert.equal((await suite.api('DELETE', `/users/${user.id}/privileges`, { headers: { 'if-match': '*' } })).status, 204);
  assert.equal((await suite.api('DELETE', `/users/${user.id}/privileges`, { headers: { 'if-match': '*' } })).status, 204, 'nothing stored still has a representation');
});

test('a weak ETag never satisfies If-Match (strong comparison): PUT and DELETE answer 412 and change nothing', async () => {
  const user = await aUser(suite.server.db);
  const created = await put(user.id, { profile: 'kept', scope: 'a' });
  assert.equal(created.headers.get('etag'), '"1"');
  assert.equal((await put(user.id, { profile: 'changed', scope: 'b' }, 'W/"1"')).status, 412);
  assert.equal((await suite.api('DELETE', `/users/${user.id}/privileges`, { headers: { 'if-match': 'W/"1"' } })).status, 412);
  assert.deepEqual({ profile: (await read(user.id)).profile, version: (await read(user.id)).version }, { profile: 'kept', version: 1 });
  assert.equal((await put(user.id, { profile: 'changed', scope: 'b' }, '"1"')).status, 200, 'the strong ETag matches');
});

test('a privileges profile over 16 KiB is refused with 422 (single and bulk) and not stored; exactly 16 KiB is accepted', async () => {
  const user = await aUser(suite.server.db);
  const exactly = 'p'.repeat(16 * 1024 - 2); // a JSON string: its quotes are the other 2 bytes
  assert.equal((await put(user.id, { profile: exactly, scope: '' })).status, 200);
  const over = await put(user.id, { profile: exactly + 'p', scope: '' });
  assert.equal(over.status, 422);
  assert.equal(over.json.errors[0].path, '/profile');
  // The attack of the issue: a 700 KB profile that made a 934 KB ID token.
  const huge = await put(user.id, { profile: { blob: 'x'.repeat(700_000) }, scope: '' });
  assert.equal(huge.status, 422);
  const bulk = await suite.api('PUT', '/privileges', { body: { items: [{ user_id: user.id, profile: 'small' }, { user_id: user.id, profile: exactly + 'p' }] } });
  assert.equal(bulk.status, 422);
  assert.ok(bulk.json.errors.some((e: { path: string }) => e.path === '/items/1/profile'), JSON.stringify(bulk.json.errors));
  const stored = await read(user.id);
  assert.deepEqual({ length: String(stored.profile).length, version: stored.version }, { length: exactly.length, version: 1 }, 'nothing over budget was stored');
});
