import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import { startTestServer, type TestServer } from './support/server.ts';
import { aClient, aUser, authorizationRequest, relyingParty, unique } from './support/fixtures.ts';
import { signIn } from './support/browserless.ts';
import { adminApi } from './support/admin.ts';

let server: TestServer;
let api: Awaited<ReturnType<typeof adminApi>>['api'];
before(async () => {
  server = await startTestServer();
  ({ api } = await adminApi(server));
});
after(async () => server.stop());

test('organizations by id or alias; duplicates 409; bad aliases 422', async () => {
  const alias = unique('acme');
  const created = await api('POST', '/organizations', { body: { alias, name: 'Acme', attributes: { plan: 'pro' } } });
  assert.equal(created.status, 201);
  assert.deepEqual((await api('GET', `/organizations/${alias}`)).json, created.json);
  assert.deepEqual((await api('GET', `/organizations/${created.json.id}`)).json, created.json);
  assert.equal((await api('POST', '/organizations', { body: { alias, name: 'Again' } })).status, 409);
  assert.equal((await api('POST', '/organizations', { body: { alias: 'Not Valid!', name: 'X' } })).status, 422);
  assert.ok((await api('GET', '/organizations')).json.items.some((o: { id: string }) => o.id === created.json.id));
  assert.equal((await api('PATCH', `/organizations/${alias}`, { body: { name: 'Acme Corp' } })).json.name, 'Acme Corp');
  assert.equal((await api('DELETE', `/organizations/${alias}`)).status, 204);
  assert.equal((await api('GET', `/organizations/${alias}`)).status, 404);
});

test('a membership written through the API shows in the next token, and its removal too', async () => {
  const alias = unique('beta');
  const org = (await api('POST', '/organizations', { body: { alias, name: 'Beta' } })).json;
  const user = await aUser(server.db);
  assert.equal((await api('PUT', `/organizations/${alias}/members/${user.id}`, { body: { roles: ['editor'], attributes: { desk: 7 } } })).status, 200);
  assert.equal((await api('PUT', `/organizations/${alias}/members/00000000-0000-4000-8000-000000000000`, { body: { roles: [] } })).status, 404);
  assert.equal((await api('PUT', `/organizations/${alias}/members/${user.id}`, { body: { roles: 'editor' } })).status, 422);
  assert.deepEqual((await api('GET', `/organizations/${alias}/members`)).json.items, [{ user_id: user.id, username: user.username, roles: ['editor'], attributes: { desk: 7 } }]);

  const client = await aClient(server.db, { scope: `openid organization offline_access` });
  const config = await relyingParty(server.issuer, client.client_id, client.client_secret);
  const req = await authorizationRequest(config, { scope: `openid organization:${alias} offline_access`, prompt: 'consent' });
  const landed = await signIn(req.url, server.issuer, user.username, 'correct horse battery');
  const tokens = await oidc.authorizationCodeGrant(config, new URL(landed.url), { pkceCodeVerifier: req.verifier, expectedState: req.state });
  assert.deepEqual(tokens.claims()!.organization, { [alias]: { desk: 7, id: org.id, name: 'Beta', roles: ['editor'] } }, 'an organization created through the API is usable at once');

  await api('PUT', `/organizations/${alias}/members/${user.id}`, { body: { roles: ['owner'] } });
  assert.deepEqual(((await oidc.refreshTokenGrant(config, tokens.refresh_token!)).claims()!.organization as Record<string, { roles: string[] }>)[alias]!.roles, ['owner']);
  assert.equal((await api('DELETE', `/organizations/${alias}/members/${user.id}`)).status, 204);
  assert.equal((await api('DELETE', `/organizations/${alias}/members/${user.id}`)).status, 404);
});
