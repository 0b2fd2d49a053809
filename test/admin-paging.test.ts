/**
 * The admin API's lists come in pages: `limit`, `cursor`, and a `next` link (admin/paging.ts). A big
 * organization's members no longer arrive as one answer, walking the pages yields every item once,
 * and a changed list between two pages neither repeats nor skips the items that stayed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { unique } from './support/fixtures.ts';
import { adminSuite } from './support/admin.ts';
import { usernameKey } from '../src/model/username.ts';

const suite = adminSuite();

/** Follows `next` from `first` to the last page; returns every page's items, in order. */
async function walk<T>(first: string): Promise<{ pages: T[][]; statuses: number[] }> {
  const pages: T[][] = [];
  const statuses: number[] = [];
  let path: string | null = first;
  while (path) {
    assert.ok(pages.length < 1000, 'the pages end');
    const res = await suite.api('GET', path);
    statuses.push(res.status);
    assert.equal(res.status, 200, JSON.stringify(res.json));
    pages.push(res.json.items as T[]);
    const next: string | null = res.json.next;
    if (next !== null) {
      assert.ok(next.startsWith('/admin/v1/'), `next is a path under the admin API: ${next}`);
      assert.equal(res.headers.get('link'), `<${next}>; rel="next"`);
      path = next.slice('/admin/v1'.length);
    } else path = null;
  }
  return { pages, statuses };
}

/** An organization with `count` members, written straight to the database (no password hashing). */
async function bigOrganization(count: number) {
  const alias = unique('big').toLowerCase();
  const org = (await suite.api('POST', '/organizations', { body: { alias, name: 'Big' } })).json as { id: string };
  const prefix = unique('m');
  const users: { id: string; username: string }[] = await suite.server.db('users')
    .insert(Array.from({ length: count }, (_, i) => `${prefix}-${String(i).padStart(4, '0')}`).map((username) => ({ username, username_key: usernameKey(username) })))
    .returning(['id', 'username']);
  await suite.server.db('memberships').insert(users.map((u) => ({ organization_id: org.id, user_id: u.id, roles: JSON.stringify(['reader']), attributes: '{}' })));
  return { alias, usernames: users.map((u) => u.username).sort() };
}

test('members: 250 come in pages of 100 by default, each once and in username order, and next is null on the last page', async () => {
  const { alias, usernames } = await bigOrganization(250);
  const { pages } = await walk<{ username: string }>(`/organizations/${alias}/members`);
  assert.deepEqual(pages.map((p) => p.length), [100, 100, 50]);
  assert.deepEqual(pages.flat().map((m) => m.username), usernames);

  const small = await walk<{ username: string }>(`/organizations/${alias}/members?limit=7`);
  assert.equal(small.pages.length, Math.ceil(250 / 7));
  assert.deepEqual(small.pages.flat().map((m) => m.username), usernames);
});

test('a list changed between two pages: removed members are not repeated, the rest are neither skipped nor doubled', async () => {
  const { alias, usernames } = await bigOrganization(30);
  const first = await suite.api('GET', `/organizations/${alias}/members?limit=10`);
  const seen = (first.json.items as { username: string; user_id: string }[]).map((m) => m.username);
  // Remove one member already sent and one not sent yet, then read on.
  const all = (await walk<{ username: string; user_id: string }>(`/organizations/${alias}/members?limit=500`)).pages.flat();
  const byName = new Map(all.map((m) => [m.username, m.user_id]));
  assert.equal((await suite.api('DELETE', `/organizations/${alias}/members/${byName.get(usernames[3]!)}`)).status, 204);
  assert.equal((await suite.api('DELETE', `/organizations/${alias}/members/${byName.get(usernames[20]!)}`)).status, 204);
  const rest = (await walk<{ username: string }>(first.json.next.slice('/admin/v1'.length))).pages.flat().map((m) => m.username);
  assert.deepEqual([...seen, ...rest], usernames.filter((u) => u !== usernames[20]));
});

test('organizations, resource servers and users page the same way: every item once, in order', async () => {
  const tag = unique('pg').toLowerCase();
  const aliases = ['a', 'b', 'c', 'd', 'e'].map((x) => `${tag}-${x}`);
  for (const alias of aliases) assert.equal((await suite.api('POST', '/organizations', { body: { alias, name: alias } })).status, 201);
  const orgs = (await walk<{ alias: string }>('/organizations?limit=2')).pages.flat().map((o) => o.alias);
  assert.equal(new Set(orgs).size, orgs.length, 'no organization twice');
  assert.deepEqual(orgs.filter((a) => a.startsWith(tag)), aliases);

  const identifiers = ['1', '2', '3'].map((x) => `https://${tag}.example/api${x}`);
  for (const identifier of identifiers) assert.equal((await suite.api('POST', '/resource-servers', { body: { identifier } })).status, 201);
  const rs = (await walk<{ identifier: string }>('/resource-servers?limit=2')).pages.flat().map((r) => r.identifier);
  assert.equal(new Set(rs).size, rs.length, 'no resource server twice');
  assert.deepEqual(rs.filter((i) => i.includes(tag)), identifiers);

  const users = (await walk<{ username: string }>('/users?limit=50')).pages.flat().map((u) => u.username);
  assert.equal(new Set(users).size, users.length, 'no user twice');
  assert.ok(users.length >= 280, `all users listed (${users.length})`);
});

test("a user's organizations are paged too", async () => {
  const user = (await suite.api('POST', '/users', { body: { username: unique('joiner'), password: 'long enough password' } })).json as { id: string };
  const tag = unique('uo').toLowerCase();
  for (const x of ['a', 'b', 'c']) {
    await suite.api('POST', '/organizations', { body: { alias: `${tag}-${x}`, name: x } });
    assert.equal((await suite.api('PUT', `/organizations/${tag}-${x}/members/${user.id}`, { body: { roles: ['r'] } })).status, 200);
  }
  const { pages } = await walk<{ alias: string }>(`/users/${user.id}/organizations?limit=2`);
  assert.deepEqual(pages.map((p) => p.map((o) => o.alias)), [[`${tag}-a`, `${tag}-b`], [`${tag}-c`]]);
});

test('a cursor this server did not give, or a limit outside 1 to 500, is a 400 problem', async () => {
  const forged = (after: string) => Buffer.from(JSON.stringify({ after })).toString('base64url');
  for (const query of ['cursor=not-a-cursor', `cursor=${forged('\u0000')}`, `cursor=${Buffer.from('[1]').toString('base64url')}`, 'limit=0', 'limit=501', 'limit=ten']) {
    for (const path of ['/organizations', '/users', '/resource-servers']) {
      const res = await suite.api('GET', `${path}?${query}`);
      assert.equal(res.status, 400, `${path}?${query}: ${JSON.stringify(res.json)}`);
      assert.equal(res.headers.get('content-type'), 'application/problem+json');
    }
  }
  // A forged but well-formed cursor is only a position: it reads from there, nothing more.
  const res = await suite.api('GET', `/organizations?cursor=${forged("' or 1=1 --")}&limit=1`);
  assert.equal(res.status, 200);
});
