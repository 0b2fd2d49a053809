/**
 * Issue 13 (low): discovery listed every `organization:<alias>`, deleted and renamed ones included;
 * a GET /auth naming 700 unknown aliases caused thousands of table scans before any client check.
 * Discovery names `organization` and `organization:*` only; aliases are looked up once per request
 * and only for an existing client; more than 50 scope values is invalid_request.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from './support/server.ts';
import { aClient, unique, REDIRECT_URI } from './support/fixtures.ts';
import { adminApi } from './support/admin.ts';

let server: TestServer;
let api: Awaited<ReturnType<typeof adminApi>>['api'];
before(async () => {
  server = await startTestServer();
  ({ api } = await adminApi(server));
});
after(async () => server.stop());

const discovery = async () => (await (await fetch(`${server.issuer}/.well-known/openid-configuration`)).json()) as { scopes_supported: string[] };

test('discovery lists organization and organization:* only, not the aliases of organizations (live, renamed or deleted)', async () => {
  const kept = unique('kept').toLowerCase();
  const renamed = unique('old').toLowerCase();
  const gone = unique('gone').toLowerCase();
  for (const alias of [kept, renamed, gone]) assert.equal((await api('POST', '/organizations', { body: { alias, name: alias } })).status, 201);
  assert.equal((await api('PATCH', `/organizations/${renamed}`, { body: { alias: `${renamed}-new` } })).status, 200);
  assert.equal((await api('DELETE', `/organizations/${gone}`)).status, 204);
  const scopes = (await discovery()).scopes_supported;
  assert.ok(scopes.includes('organization') && scopes.includes('organization:*'), JSON.stringify(scopes));
  assert.deepEqual(scopes.filter((s) => s.startsWith('organization:') && s !== 'organization:*'), []);
});

/** Counts the statements that read the organizations table while `fn` runs. */
async function organizationQueries(fn: () => Promise<unknown>): Promise<number> {
  let n = 0;
  const listener = (q: { sql: string }) => {
    if (/"organizations"/.test(q.sql)) n++;
  };
  server.db.on('query', listener);
  try {
    await fn();
  } finally {
    server.db.off('query', listener);
  }
  return n;
}

const authorize = (clientId: string, scope: string) =>
  fetch(`${server.issuer}/auth?${new URLSearchParams({ client_id: clientId, response_type: 'code', scope, redirect_uri: REDIRECT_URI, code_challenge: 'a'.repeat(43), code_challenge_method: 'S256' })}`, { redirect: 'manual', headers: { accept: 'application/json' } });

test('aliases are looked up once per request, and not at all for an unknown client', async () => {
  const client = await aClient(server.db, { scope: 'openid organization' });
  const forty = Array.from({ length: 40 }, (_, i) => `organization:nobody-${i}`).join(' ');
  assert.equal(await organizationQueries(() => authorize('no-such-client', `openid ${forty}`)), 0, 'unknown client: no organization lookup');
  assert.equal(await organizationQueries(async () => {
    const res = await authorize(client.client_id, `openid ${forty}`);
    await res.arrayBuffer();
  }), 1, 'forty aliases: one statement');
});

test('more than 50 scope values is invalid_request, before any lookup (the 700-alias request)', async () => {
  const client = await aClient(server.db, { scope: 'openid organization' });
  // Short aliases, so that 700 of them fit in a request line.
  const many = Array.from({ length: 700 }, (_, i) => `organization:n${i}`).join(' ');
  let res: Response | undefined;
  assert.equal(await organizationQueries(async () => (res = await authorize(client.client_id, `openid ${many}`))), 0);
  assert.equal(res!.status, 400);
  assert.equal(((await res!.json()) as { error: string }).error, 'invalid_request');
  const fifty = Array.from({ length: 49 }, (_, i) => `organization:nobody-${i}`).join(' ');
  assert.notEqual((await authorize(client.client_id, `openid ${fifty}`)).status, 400, '50 values are fine');
});
