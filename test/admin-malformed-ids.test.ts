/**
 * Issue 13: malformed ids in admin paths (`/organizations/acme/members/not-a-uuid`) answer 404 or
 * 422, never 500. Every route of the OpenAPI document with a path parameter gets each malformed id
 * in each parameter (the others valid), with a valid body where the route takes one.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { aUser, unique } from './support/fixtures.ts';
import { adminSuite } from './support/admin.ts';
import { openApiDocument } from '../src/admin/openapi.ts';

const suite = adminSuite();

// As they travel in a path: percent-encoded where they must be.
const MALFORMED = [
  'not-a-uuid',
  '00000000-0000-0000-0000-00000000000g',
  '{00000000-0000-0000-0000-000000000000}',
  '0',
  '-1',
  '%00',
  'a%00b',
  '%ED%A0%80', // a lone surrogate, UTF-8 encoded
  '%FF', // not UTF-8
  '%', // a broken escape
  '%E2%80%AE', // right-to-left override
  '...', // (`..` itself never reaches the server: URL parsing resolves it, encoded or not)
  '%20',
  'x'.repeat(5000),
  encodeURIComponent("' or 1=1 --"),
];

const BODIES: Record<string, unknown> = {
  'PATCH /users/{id}': { name: 'X' },
  'PUT /users/{id}/privileges': { profile: 'x', scope: '' },
  'PATCH /organizations/{org}': { name: 'X' },
  'PUT /organizations/{org}/members/{user}': { roles: ['r'] },
  'PATCH /clients/{id}': { client_name: 'X' },
};

let valid: Record<string, string>;
async function fixtures() {
  const user = await aUser(suite.server.db);
  const alias = unique('ids').toLowerCase();
  await suite.api('POST', '/organizations', { body: { alias, name: 'Ids' } });
  await suite.api('PUT', `/organizations/${alias}/members/${user.id}`, { body: { roles: ['r'] } });
  const client = (await suite.api('POST', '/clients', { body: { client_name: 'Ids', redirect_uris: ['https://ids.example/cb'] } })).json;
  valid = { id: user.id, org: alias, user: user.id, identifier: encodeURIComponent('https://ids.example.test') };
  // `{id}` is a user under /users and a client under /clients.
  valid.clientId = client.client_id;
}

test('every admin route answers a malformed id with 404 or 422 (or 400 for a broken encoding), never 5xx', async () => {
  await fixtures();
  const paths = openApiDocument(suite.server.issuer).paths as Record<string, Record<string, unknown>>;
  const failures: string[] = [];
  let sent = 0;
  for (const [template, ops] of Object.entries(paths)) {
    const params = [...template.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!);
    if (!params.length) continue;
    for (const method of Object.keys(ops).map((m) => m.toUpperCase())) {
      for (const param of params) {
        for (const bad of MALFORMED) {
          const path = template.replace(/\{(\w+)\}/g, (_, p: string) => (p === param ? bad : p === 'id' && template.startsWith('/clients') ? valid.clientId! : valid[p]!));
          const body = BODIES[`${method} ${template}`];
          const res = await suite.api(method, path, body === undefined ? {} : { body }).catch((err: Error) => ({ status: 0, json: { detail: err.message } }));
          sent++;
          if (![400, 404, 422].includes(res.status)) failures.push(`${method} ${path.slice(0, 80)} -> ${res.status} ${String(JSON.stringify(res.json)).slice(0, 160)}`);
        }
      }
    }
  }
  assert.deepEqual(failures, [], `${failures.length} of ${sent} requests`);
});
