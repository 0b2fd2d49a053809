import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { relyingParty, unique } from './support/fixtures.ts';
import { adminSuite } from './support/admin.ts';

const suite = adminSuite();

test('a client registered through the API works at once; its secret is shown once and rotates', async () => {
  const identifier = `https://${unique('api')}.example.test`;
  assert.equal((await suite.api('POST', '/resource-servers', { body: { identifier, scopes: ['read'] } })).status, 201);
  assert.equal((await suite.api('POST', '/resource-servers', { body: { identifier, scopes: [] } })).status, 409);
  const created = await suite.api('POST', '/clients', {
    body: { client_name: 'Billing', grant_types: ['client_credentials'], scope: 'openid', allowed_resources: [identifier], default_resource: identifier, payload_hook: { url: 'http://127.0.0.1:9/x', secret: 'hook-secret-0123456789', failure: 'open' } },
  });
  assert.equal(created.status, 201);
  assert.ok(created.json.client_secret.length >= 32);
  assert.equal(created.json.payload_hook.secret, undefined, 'a hook secret is never shown');
  const read = await suite.api('GET', `/clients/${created.json.client_id}`);
  assert.equal('client_secret' in read.json, false, 'the secret is shown only at creation');

  const rp = await relyingParty(suite.server.issuer, created.json.client_id, created.json.client_secret);
  const tokens = await oidc.clientCredentialsGrant(rp, { scope: 'read' });
  await jwtVerify(tokens.access_token, createRemoteJWKSet(new URL(rp.serverMetadata().jwks_uri!)), { audience: identifier, issuer: suite.server.issuer });

  const rotated = await suite.api('POST', `/clients/${created.json.client_id}/secret`);
  assert.notEqual(rotated.json.client_secret, created.json.client_secret);
  await assert.rejects(oidc.clientCredentialsGrant(rp, { scope: 'read' }), (err: { status?: number; error?: string; response?: Response }) => {
    assert.equal(err.response?.status ?? err.status, 401, 'the old secret is refused');
    return true;
  });
  const fresh = await relyingParty(suite.server.issuer, created.json.client_id, rotated.json.client_secret);
  assert.ok((await oidc.clientCredentialsGrant(fresh, { scope: 'read' })).access_token);
  assert.ok(!suite.server.logs.some((l) => l.includes(rotated.json.client_secret) || l.includes('hook-secret-0123456789')), 'no secret in the log');
});

test('PATCH keeps the cross-field rules; bad clients get 422 and change nothing', async () => {
  const created = (await suite.api('POST', '/clients', { body: { client_name: 'Web', redirect_uris: ['https://app.example/cb'] } })).json;
  const broken = await suite.api('PATCH', `/clients/${created.client_id}`, { body: { redirect_uris: [] } });
  assert.equal(broken.status, 422);
  assert.equal(broken.json.errors[0].path, '/redirect_uris');
  assert.deepEqual((await suite.api('GET', `/clients/${created.client_id}`)).json.redirect_uris, ['https://app.example/cb']);
  const renamed = await suite.api('PATCH', `/clients/${created.client_id}`, { body: { client_name: 'Web app' } });
  assert.equal(renamed.json.client_name, 'Web app', JSON.stringify(renamed.json));
  assert.equal((await suite.api('POST', '/clients', { body: { client_name: 'X', grant_types: ['client_credentials'], token_endpoint_auth_method: 'none' } })).status, 422);
  assert.equal((await suite.api('POST', '/clients', { body: { client_name: 'X', redirect_uris: ['not a url'] } })).status, 422);
});

test('an admin:privileges token cannot create a client; a client cannot delete itself', async () => {
  assert.equal((await suite.api('POST', '/clients', { token: await suite.tokenFor('admin:privileges'), body: { client_name: 'X', redirect_uris: ['https://a.example/cb'] } })).status, 403);
  assert.equal((await suite.api('DELETE', '/clients/test-admin')).status, 409);
  assert.equal((await suite.api('DELETE', `/clients/${unique('nope')}`)).status, 404);
});

test('resource servers are listed, read by their encoded identifier and deleted', async () => {
  const identifier = `https://${unique('rs')}.example.test/v1`;
  await suite.api('POST', '/resource-servers', { body: { identifier, scopes: ['a'], access_token_format: 'opaque' } });
  assert.ok((await suite.all<{ identifier: string }>('/resource-servers')).some((r: { identifier: string }) => r.identifier === identifier));
  assert.equal((await suite.api('GET', `/resource-servers/${encodeURIComponent(identifier)}`)).json.access_token_format, 'opaque');
  assert.equal((await suite.api('DELETE', `/resource-servers/${encodeURIComponent(identifier)}`)).status, 204);
  assert.equal((await suite.api('GET', `/resource-servers/${encodeURIComponent(identifier)}`)).status, 404);
});
