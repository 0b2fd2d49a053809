import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { startTestServer, type TestServer } from './support/server.ts';
import { aUser, unique } from './support/fixtures.ts';
import { adminApi, adminWriteEndpoints } from './support/admin.ts';
import { SEED, fingerprintAll } from './support/hostile.ts';

let server: TestServer;
let api: Awaited<ReturnType<typeof adminApi>>['api'];
let userId: string;
let orgAlias: string;
let clientId: string;
before(async () => {
  server = await startTestServer();
  ({ api } = await adminApi(server));
  userId = (await aUser(server.db)).id;
  orgAlias = unique('fuzz');
  await api('POST', '/organizations', { body: { alias: orgAlias, name: 'Fuzz' } });
  clientId = (await api('POST', '/clients', { body: { client_name: 'Fuzz', redirect_uris: ['https://fuzz.example/cb'] } })).json.client_id;
});
after(async () => server.stop());

/** Every table, not only those the admin API is meant to write: a refusal must change none. */
const fingerprint = () => fingerprintAll(server.db);

// Bodies that look like the real thing often enough to pass the first checks: known member names
// with values of any JSON type, plus wholly random JSON and strings that are not JSON at all.
const FIELDS = ['username', 'password', 'email', 'name', 'external_id', 'enabled', 'claims', 'profile', 'scope', 'items', 'alias', 'attributes', 'roles', 'client_name', 'redirect_uris', 'grant_types', 'token_endpoint_auth_method', 'allowed_resources', 'default_resource', 'payload_hook', 'identifier', 'scopes', 'access_token_format', 'access_token_ttl', '__proto__'];
const value = fc.oneof(fc.jsonValue({ maxDepth: 3 }), fc.string({ unit: 'grapheme' }), fc.constantFrom('', 'https://x.example', 'a b', '00000000-0000-4000-8000-000000000000'));
const bodyArb = fc.oneof(
  { weight: 3, arbitrary: fc.dictionary(fc.constantFrom(...FIELDS), value, { maxKeys: 6 }).map((o) => JSON.stringify(o)) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 200 }) },
);

const endpoints = () => adminWriteEndpoints({ userId, orgAlias, clientId });

test('thousands of random bodies to every write endpoint: never a 5xx, and a refused one changes nothing', async () => {
  let sent = 0;
  for (const [method, path] of endpoints()) {
    await fc.assert(
      fc.asyncProperty(bodyArb, async (body) => {
        const before = await fingerprint();
        const res = await api(method, path, { body, headers: { 'content-type': 'application/json' } });
        sent++;
        assert.ok(res.status < 500, `${method} ${path} answered ${res.status} to ${body.slice(0, 200)}`);
        if (res.status >= 400) {
          assert.equal(res.json?.status, res.status, 'a problem+json body');
          assert.equal(await fingerprint(), before, `${method} ${path} refused ${body.slice(0, 200)} but changed data`);
        }
      }),
      { numRuns: 250, seed: SEED },
    );
  }
  assert.ok(sent >= 2500);
});
