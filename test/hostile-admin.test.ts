/**
 * What admin-fuzz does not send: wrong content types, unicode of every kind (NUL, lone surrogates,
 * right-to-left marks), JSON nested thousands deep, and headers over Node's limit. Never a 5xx,
 * never a hang, and a refused request changes no row.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { aUser, unique } from './support/fixtures.ts';
import { adminApi, adminWriteEndpoints } from './support/admin.ts';
import { startTestServer, type TestServer } from './support/server.ts';
import { SEED, deepJson, fingerprintAll, send } from './support/hostile.ts';

let server: TestServer;
let api: Awaited<ReturnType<typeof adminApi>>['api'];
let token: string;
let userId: string;
let orgAlias: string;
let clientId: string;
const counts: Record<string, number> = {};
before(async () => {
  server = await startTestServer({ TESSERA_PURGE_INTERVAL_S: '86400' });
  const admin = await adminApi(server);
  api = admin.api;
  token = await admin.tokenFor('admin');
  userId = (await aUser(server.db)).id;
  orgAlias = unique('hostile');
  await api('POST', '/organizations', { body: { alias: orgAlias, name: 'Hostile' } });
  clientId = (await api('POST', '/clients', { body: { client_name: 'Hostile', redirect_uris: ['https://hostile.example/cb'] } })).json.client_id;
});
after(async () => {
  await server.stop();
  console.log(`# hostile admin requests: ${JSON.stringify(counts)} (seed ${SEED})`);
});

const endpoints = () => [...adminWriteEndpoints({ userId, orgAlias, clientId }), ['POST', '/token-preview'] as const];

async function hostile(name: string, method: string, path: string, init: { headers?: Record<string, string>; body?: string } = {}) {
  const before = await fingerprintAll(server.db);
  const answer = await send(`${server.issuer}/admin/v1${path}`, { method, headers: { authorization: `Bearer ${token}`, ...init.headers }, body: init.body });
  counts[name] = (counts[name] ?? 0) + 1;
  assert.ok(answer.status < 500, `${name}: ${method} ${path} answered ${answer.status} to ${String(init.body).slice(0, 300)}\n${answer.body.slice(0, 300)}`);
  if (answer.status >= 400) {
    assert.equal(JSON.parse(answer.body).status, answer.status, `${name}: a problem+json body`);
    assert.equal(await fingerprintAll(server.db), before, `${name}: ${method} ${path} refused but changed data`);
  }
  return answer;
}

// Strings with what breaks storage and parsers: NUL (PostgreSQL text refuses it), lone surrogates,
// direction marks, combining characters, astral planes; sometimes long.
const nasty = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 30 }),
  fc.string({ unit: fc.constantFrom('\u0000', '\ud800', '\udfff', '\u202e', '\u0301', '𝔘', '\ufeff', '\uffff', 'a', '"', '\\'), maxLength: 30 }),
  fc.constantFrom('\u0000', 'a\u0000b', '\ud83d', 'x'.repeat(10_000)),
);
const FIELDS = ['username', 'password', 'email', 'name', 'given_name', 'external_id', 'claims', 'profile', 'scope', 'alias', 'attributes', 'roles', 'client_name', 'redirect_uris', 'identifier', 'scopes', 'client_id', 'user_id', 'organization', 'resource'];
const nastyValue = fc.oneof(nasty, fc.array(nasty, { maxLength: 3 }), fc.dictionary(nasty, nasty, { maxKeys: 3 }));
const nastyBody = fc.dictionary(fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...FIELDS) }, { weight: 1, arbitrary: nasty }), nastyValue, { maxKeys: 5 }).map((o) => JSON.stringify(o));

test('unicode of every kind in every field: never a 5xx, refused ones change nothing', async () => {
  for (const [method, path] of endpoints()) {
    await fc.assert(
      fc.asyncProperty(nastyBody, async (body) => void (await hostile('unicode', method, path, { headers: { 'content-type': 'application/json' }, body }))),
      { numRuns: 40, seed: SEED },
    );
  }
});

test('any content type but JSON is refused with 415, whatever the body', async () => {
  const type = fc.constantFrom('', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml', 'application/json-patch+json', 'application/jsonx', 'text/json; charset=\u00e9');
  const body = fc.oneof(nastyBody, fc.string({ unit: 'binary', maxLength: 100 }));
  for (const [method, path] of endpoints()) {
    await fc.assert(
      fc.asyncProperty(type, body, async (contentType, text) => {
        const answer = await hostile('content-type', method, path, { headers: contentType ? { 'content-type': contentType } : {}, body: text });
        assert.equal(answer.status, 415, `${method} ${path} with ${JSON.stringify(contentType)}`);
      }),
      { numRuns: 15, seed: SEED },
    );
  }
});

test('JSON nested thousands deep is refused with 400 before anything is touched', async () => {
  for (const [method, path] of endpoints()) {
    for (const depth of [40, 1000, 10_000, 100_000]) {
      for (const [open, close] of [['{"a":', '}'], ['[', ']']]) {
        for (const body of [`{"profile":${deepJson(depth, open, close)},"claims":{},"username":"deep"}`, deepJson(depth, open, close)]) {
          const answer = await hostile('deep', method, path, { headers: { 'content-type': 'application/json' }, body });
          assert.equal(answer.status, 400, `${method} ${path}, ${depth} deep: ${answer.body.slice(0, 200)}`);
        }
      }
    }
  }
  // At the limit it is still data: 32 levels of profile are stored.
  const ok = await hostile('deep', 'PUT', `/users/${userId}/privileges`, { headers: { 'content-type': 'application/json' }, body: `{"profile":${deepJson(31)},"scope":"a"}` });
  assert.equal(ok.status, 200);
});

test('headers over Node\'s limit get 431; the process survives and the next request works', async () => {
  const url = `${server.issuer}/admin/v1/users?username=x`;
  for (const headers of [
    { 'x-big': 'x'.repeat(100_000) },
    { authorization: `Bearer ${'a'.repeat(64 * 1024)}` },
    Object.fromEntries(Array.from({ length: 2000 }, (_, i) => [`x-h${i}`, 'v'])),
  ]) {
    const before = await fingerprintAll(server.db);
    const answer = await send(url, { headers });
    counts.headers = (counts.headers ?? 0) + 1;
    assert.equal(answer.status, 431);
    assert.equal(await fingerprintAll(server.db), before);
    const next = await send(url, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(next.status, 200, 'the next request is served');
  }
  // Under the limit but absurd: a long, wrong bearer token is a plain 401.
  const long = await send(url, { headers: { authorization: `Bearer ${'é'.repeat(4000)}` } });
  assert.equal(long.status, 401);
});

test('the admin API answers only under /admin/v1 spelled exactly; any other spelling is not it', async () => {
  for (const path of ['/ADMIN/v1/users', '/Admin/v1/users', '/admin/V1/users', '/ADMIN/v1/openapi.json']) {
    const res = await fetch(`${server.issuer}${path}`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(res.status, 404, path);
    assert.doesNotMatch(await res.text(), /"username"/, path);
  }
  // Under the exact prefix, a route spelled in another case still passes authentication first.
  const noToken = await fetch(`${server.issuer}/admin/v1/USERS`);
  assert.equal(noToken.status, 401);
  assert.match(noToken.headers.get('content-type') ?? '', /^application\/problem\+json/);
});
