import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import { aClient, aUser, authorizationRequest, relyingParty, unique } from './support/fixtures.ts';
import { signIn } from './support/browserless.ts';
import { adminSuite } from './support/admin.ts';

const suite = adminSuite();

test('organizations by id or alias; duplicates 409; bad aliases 422', async () => {
  const alias = unique('acme');
  const created = await suite.api('POST', '/organizations', { body: { alias, name: 'Acme', attributes: { plan: 'pro' } } });
  assert.equal(created.status, 201);
  assert.deepEqual((await suite.api('GET', `/organizations/${alias}`)).json, created.json);
  assert.deepEqual((await suite.api('GET', `/organizations/${created.json.id}`)).json, created.json);
  assert.equal((await suite.api('POST', '/organizations', { body: { alias, name: 'Again' } })).status, 409);
  assert.equal((await suite.api('POST', '/organizations', { body: { alias: 'Not Valid!', name: 'X' } })).status, 422);
  assert.ok((await suite.all<{ id: string }>('/organizations')).some((o: { id: string }) => o.id === created.json.id));
  assert.equal((await suite.api('PATCH', `/organizations/${alias}`, { body: { name: 'Acme Corp' } })).json.name, 'Acme Corp');
  assert.equal((await suite.api('DELETE', `/organizations/${alias}`)).status, 204);
  assert.equal((await suite.api('GET', `/organizations/${alias}`)).status, 404);
});

test('a membership written through the API shows in the next token, and its removal too', async () => {
  const alias = unique('beta');
  const org = (await suite.api('POST', '/organizations', { body: { alias, name: 'Beta' } })).json;
  const user = await aUser(suite.server.db);
  assert.equal((await suite.api('PUT', `/organizations/${alias}/members/${user.id}`, { body: { roles: ['editor'], attributes: { desk: 7 } } })).status, 200);
  assert.equal((await suite.api('PUT', `/organizations/${alias}/members/00000000-0000-4000-8000-000000000000`, { body: { roles: [] } })).status, 404);
  assert.equal((await suite.api('PUT', `/organizations/${alias}/members/${user.id}`, { body: { roles: 'editor' } })).status, 422);
  assert.deepEqual((await suite.api('GET', `/organizations/${alias}/members`)).json.items, [{ user_id: user.id, username: user.username, roles: ['editor'], attributes: { desk: 7 } }]);

  const client = await aClient(suite.server.db, { scope: `openid organization offline_access` });
  const config = await relyingParty(suite.server.issuer, client.client_id, client.client_secret);
  const req = await authorizationRequest(config, { scope: `openid organization:${alias} offline_access`, prompt: 'consent' });
  const landed = await signIn(req.url, suite.server.issuer, user.username, 'correct horse battery');
  const tokens = await oidc.authorizationCodeGrant(config, new URL(landed.url), { pkceCodeVerifier: req.verifier, expectedState: req.state });
  assert.deepEqual(tokens.claims()!.organization, { [alias]: { desk: 7, id: org.id, name: 'Beta', roles: ['editor'] } }, 'an organization created through the API is usable at once');

  await suite.api('PUT', `/organizations/${alias}/members/${user.id}`, { body: { roles: ['owner'] } });
  const beforeRemoval = await oidc.refreshTokenGrant(config, tokens.refresh_token!);
  assert.deepEqual((beforeRemoval.claims()!.organization as Record<string, { roles: string[] }>)[alias]!.roles, ['owner']);
  assert.equal((await suite.api('DELETE', `/organizations/${alias}/members/${user.id}`)).status, 204);
  assert.equal((await suite.api('DELETE', `/organizations/${alias}/members/${user.id}`)).status, 404);
  const afterRemoval = await oidc.refreshTokenGrant(config, beforeRemoval.refresh_token!);
  assert.equal((afterRemoval.claims()!.organization as Record<string, unknown> | undefined)?.[alias], undefined, 'the removed membership is gone from the next token');
});
