import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Validator } from '@seriousme/openapi-schema-validator';
import { startTestServer, type TestServer } from './support/server.ts';
import { recordOnly } from '../src/signals/index.ts';
import { adminRouter } from '../src/admin/router.ts';
import { createPasswords } from '../src/auth/passwords.ts';
import { DEFAULT_PASSWORD_HASHING } from '../src/auth/password.ts';
import { operations } from '../src/admin/openapi.ts';
import { adminApi } from './support/admin.ts';
import { addConfirmedTotp } from '../src/signin/storage.ts';
import { newTotpSecret } from '../src/signin/totp.ts';
import { unique } from './support/fixtures.ts';

let server: TestServer;
before(async () => {
  server = await startTestServer();
});
after(async () => server.stop());

const fetchDocument = async () => {
  const res = await fetch(`${server.issuer}/admin/v1/openapi.json`);
  assert.equal(res.status, 200);
  return (await res.json()) as { openapi: string; paths: Record<string, Record<string, { requestBody?: unknown }>> };
};

test('the OpenAPI document is valid OpenAPI 3.1 according to a real validator', async () => {
  const doc = await fetchDocument();
  assert.equal(doc.openapi, '3.1.0');
  const result = await new Validator().validate(doc as never);
  assert.equal(result.valid, true, JSON.stringify(result.errors, null, 1)?.slice(0, 2000));
});

test('every route of the admin API is in the document, and nothing else', async () => {
  const doc = await fetchDocument();
  const documented = new Set(Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`)));
  // The router as the server builds it; its layers name every method and path it answers.
  const provider = { issuer: server.issuer } as unknown as Parameters<typeof adminRouter>[0]['provider'];
  const router = adminRouter({ provider, db: server.db, passwords: createPasswords({ ...DEFAULT_PASSWORD_HASHING, concurrency: 2, maxWaiting: 64 }), hooks: { run: async () => ({ status: 'ok', claims: undefined, source: 'module', cached: false }) }, globalHook: undefined, hookAddressPolicy: server.settings.hookAddressPolicy, maxProfileBytes: server.settings.maxProfileBytes, signOut: { account: async () => ({ revoked: 0, sessions: [] }) }, signals: recordOnly });
  const served = new Set(
    router.stack
      .map((l) => ({ methods: l.methods, path: String(l.path) }))
      .filter((l) => l.methods.length && !l.path.includes('{*rest}') && !l.path.endsWith('/openapi.json'))
      .flatMap((l) => l.methods.filter((m) => m !== 'HEAD').map((m) => `${m} ${l.path.replace('/admin/v1', '').replace(/:(\w+)/g, '{$1}')}`)),
  );
  assert.deepEqual([...served].filter((r) => !documented.has(r)), [], 'served but not documented');
  assert.deepEqual([...documented].filter((r) => !served.has(r)), [], 'documented but not served');
});

test('a tour of every operation: each request the server accepts and each answer it gives match the document', async () => {
  // Every call below goes through api(), which checks the exchange against the served document
  // (test/support/openapi-contract.ts); the same check runs in every admin test.
  const { api, checked } = await adminApi(server);
  const ok = async (method: string, path: string, body?: unknown, headers?: Record<string, string>) => {
    const r = await api(method, path, { body, headers });
    assert.ok(r.status < 300, `${method} ${path} → ${r.status} ${JSON.stringify(r.json)}`);
    return r.json;
  };
  const user = await ok('POST', '/users', { username: unique('tour'), password: 'correct horse battery', email: 'tour@example.com', email_verified: true, name: 'Tour', claims: { locale: 'en' } });
  await ok('GET', `/users?username=${user.username}`);
  await ok('GET', `/users/${user.id}`);
  await ok('PATCH', `/users/${user.id}`, { given_name: 'T' });
  const org = await ok('POST', '/organizations', { alias: unique('tour'), name: 'Tour', attributes: { tier: 1 } });
  await ok('GET', '/organizations');
  await ok('GET', `/organizations/${org.alias}`);
  await ok('PATCH', `/organizations/${org.alias}`, { name: 'Tour Inc' });
  await ok('PUT', `/organizations/${org.alias}/members/${user.id}`, { roles: ['admin'], attributes: { floor: 2 } });
  await ok('GET', `/organizations/${org.alias}/members`);
  await ok('GET', `/users/${user.id}/organizations`);
  await ok('GET', `/users/${user.id}/privileges`);
  await ok('PUT', `/users/${user.id}/privileges`, { profile: { plan: 'gold' }, scope: 'reports:read' }, { 'if-match': '"0"' });
  await ok('PUT', '/privileges', { items: [{ user_id: user.id, profile: { plan: 'silver' }, scope: 'reports:read' }] });
  const identifier = `https://${unique('tour')}.example.test`;
  await ok('POST', '/resource-servers', { identifier, scopes: ['read'], access_token_format: 'opaque' });
  await ok('GET', '/resource-servers');
  await ok('GET', `/resource-servers/${encodeURIComponent(identifier)}`);
  const client = await ok('POST', '/clients', { client_name: 'Tour app', redirect_uris: ['https://app.test/cb'], scope: 'openid profile', allowed_resources: [identifier], payload_hook: { url: 'https://hooks.example.test/payload', secret: 'a-secret-of-16-chars-or-more' } });
  await ok('GET', `/clients/${client.client_id}`);
  await ok('PATCH', `/clients/${client.client_id}`, { client_name: 'Tour app 2' });
  await ok('POST', `/clients/${client.client_id}/secret`);
  await ok('POST', '/token-preview', { client_id: client.client_id, user_id: user.id, scope: 'openid profile' });
  await addConfirmedTotp(server.db, user.id, newTotpSecret(), 'Authenticator app', 1);
  const factors = await ok('GET', `/users/${user.id}/factors`);
  await ok('DELETE', `/users/${user.id}/factors/${factors.items[0].id}`);
  await ok('DELETE', `/users/${user.id}/factors`);
  await ok('POST', `/users/${user.id}/password-reset`);
  // This server has no SMTP: the documented 409.
  assert.equal((await api('POST', `/users/${user.id}/verify-email`)).status, 409);
  await ok('POST', `/users/${user.id}/logout`);
  await ok('DELETE', `/users/${user.id}/privileges`);
  await ok('DELETE', `/organizations/${org.alias}/members/${user.id}`);
  await ok('DELETE', `/organizations/${org.alias}`);
  await ok('DELETE', `/clients/${client.client_id}`);
  await ok('DELETE', `/resource-servers/${encodeURIComponent(identifier)}`);
  await ok('DELETE', `/users/${user.id}`);

  const documented = operations.map((op) => `${op.method}${op.path}`).length;
  assert.equal(checked.size, documented, `operations checked: ${[...checked.keys()].join(', ')}`);
});

test('an answer the document does not describe fails the check: a field it does not name', async () => {
  // The contract itself can fail: a user answer with a password hash in it is refused.
  const { loadContract } = await import('./support/openapi-contract.ts');
  const contract = await loadContract(server.issuer);
  const { api } = await adminApi(server);
  const created = await api('POST', '/users', { body: { username: unique('leak') } });
  assert.equal(created.status, 201);
  assert.throws(
    () => contract.check({ method: 'GET', path: `/users/${created.json.id}`, status: 200, contentType: 'application/json', json: { ...created.json, password_hash: '$scrypt$…' } }),
    /does not match/,
  );
  assert.throws(() => contract.check({ method: 'DELETE', path: `/users/${created.json.id}`, status: 500, contentType: 'application/problem+json', json: { status: 500, title: 'x' } }), /not documented/);
});
