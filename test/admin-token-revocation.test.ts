/**
 * Issue 13 item 4: an admin token does not outlive its client's right to it. Each attack holds a
 * working `admin` token, then changes its client through the API (new secret, scope reduced to
 * `openid`, client deleted) and tries the token again, reading (GET) and writing (POST).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import { relyingParty, unique } from './support/fixtures.ts';
import { adminSuite } from './support/admin.ts';

const suite = adminSuite();

/** A new client with scope `admin` and a token of it that works for GET and POST. */
async function adminClientWithToken() {
  const created = await suite.api('POST', '/clients', { body: { client_name: 'Operator script', grant_types: ['client_credentials'], scope: 'admin' } });
  assert.equal(created.status, 201);
  const rp = await relyingParty(suite.server.issuer, created.json.client_id, created.json.client_secret);
  const token = (await oidc.clientCredentialsGrant(rp, { scope: 'admin' })).access_token;
  assert.equal((await useToken(token)).read, 200, 'the token works before the change');
  return { clientId: created.json.client_id as string, token };
}

async function useToken(token: string) {
  const read = await suite.api('GET', '/organizations', { token });
  const write = await suite.api('POST', '/organizations', { token, body: { alias: unique('org').toLowerCase(), name: 'Made by a stale token' } });
  return { read: read.status, write: write.status };
}

test("rotating a client's secret revokes the admin tokens it got with the old one", async () => {
  const { clientId, token } = await adminClientWithToken();
  assert.equal((await suite.api('POST', `/clients/${clientId}/secret`)).status, 200);
  assert.deepEqual(await useToken(token), { read: 401, write: 401 });
});

test("reducing a client's scope to openid takes the admin API away from its tokens", async () => {
  const { clientId, token } = await adminClientWithToken();
  assert.equal((await suite.api('PATCH', `/clients/${clientId}`, { body: { scope: 'openid' } })).status, 200);
  assert.deepEqual(await useToken(token), { read: 403, write: 403 });
});

test("deleting a client revokes its admin tokens", async () => {
  const { clientId, token } = await adminClientWithToken();
  assert.equal((await suite.api('DELETE', `/clients/${clientId}`)).status, 204);
  assert.deepEqual(await useToken(token), { read: 401, write: 401 });
});
