import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import { adminSuite } from './support/admin.ts';
import { aResourceServer, relyingParty, unique, REDIRECT_URI } from './support/fixtures.ts';

/** SPEC 8, Validation: a client oidc-provider could not load, or that could never get a token, is refused with 422 naming the field. */
const suite = adminSuite();
const web = (extra: Record<string, unknown> = {}) => ({ client_name: 'App', redirect_uris: [REDIRECT_URI], ...extra });
const fieldsOf = (r: { json: { errors?: Array<{ path: string }> } }) => (r.json.errors ?? []).map((e) => e.path);

test('scope values Tessera does not answer, or of a resource server the client is not allowed, are refused', async () => {
  const rs = await aResourceServer(suite.server.db);
  for (const scope of ['openid read write', 'openid whatever', 'openid tessera:none']) {
    const r = await suite.api('POST', '/clients', { body: web({ scope }) });
    assert.equal(r.status, 422, scope);
    assert.deepEqual(fieldsOf(r), ['/scope'], scope);
  }
  const unknownResource = await suite.api('POST', '/clients', { body: web({ allowed_resources: ['https://nobody.example.test'] }) });
  assert.equal(unknownResource.status, 422);
  assert.deepEqual(fieldsOf(unknownResource), ['/allowed_resources/0']);
  const ok = await suite.api('POST', '/clients', { body: web({ scope: 'openid profile offline_access organization organization:* privileges hasura read', allowed_resources: [rs.identifier] }) });
  assert.equal(ok.status, 201, JSON.stringify(ok.json));
});

test('redirect URIs: https, http on this machine, private-use schemes for native apps; nothing that runs or reads in place, no fragments', async () => {
  for (const [uri, extra] of [
    ['javascript:alert(1)', {}],
    ['data:text/html,hi', {}],
    ['file:///etc/passwd', {}],
    ['https://app.example.test/cb#frag', {}],
    ['http://app.example.test/cb', {}],
    ['com.example.app:/cb', {}],
    ['myapp:/cb', { token_endpoint_auth_method: 'none' }],
    ['http://localhost/cb', { application_type: 'native' }],
  ] as const) {
    const r = await suite.api('POST', '/clients', { body: web({ redirect_uris: [uri], ...extra }) });
    assert.equal(r.status, 422, uri);
    assert.deepEqual(fieldsOf(r), ['/redirect_uris/0'], uri);
  }
  const logout = await suite.api('POST', '/clients', { body: web({ post_logout_redirect_uris: ['javascript:alert(1)'] }) });
  assert.deepEqual(fieldsOf(logout), ['/post_logout_redirect_uris/0']);
  for (const [uri, extra, type] of [
    ['http://localhost:5173/cb', {}, 'web'],
    ['http://127.0.0.1/cb', {}, 'web'],
    ['http://[::1]/cb', { token_endpoint_auth_method: 'none' }, 'native'],
    ['com.example.app:/cb', { application_type: 'native' }, 'native'],
    ['https://app.example.test/native', { application_type: 'native', token_endpoint_auth_method: 'none' }, 'native'],
  ] as const) {
    const r = await suite.api('POST', '/clients', { body: web({ redirect_uris: [uri], ...extra }) });
    assert.equal(r.status, 201, `${uri}: ${JSON.stringify(r.json)}`);
    assert.equal(r.json.application_type, type, uri);
  }
});

test('signing algorithms are the ones Tessera has keys for; origins are origins', async () => {
  assert.deepEqual(fieldsOf(await suite.api('POST', '/clients', { body: web({ id_token_signed_response_alg: 'PS256' }) })), ['/id_token_signed_response_alg']);
  assert.deepEqual(fieldsOf(await suite.api('POST', '/clients', { body: web({ id_token_signed_response_alg: 'none' }) })), ['/id_token_signed_response_alg']);
  assert.deepEqual(fieldsOf(await suite.api('POST', '/clients', { body: web({ allowed_origins: ['https://spa.example.test/'] }) })), ['/allowed_origins/0']);
  assert.deepEqual(fieldsOf(await suite.api('POST', '/resource-servers', { body: { identifier: `https://${unique('api')}.test`, signing_alg: 'HS256' } })), ['/signing_alg']);
  const created = await suite.api('POST', '/clients', { body: web({ id_token_signed_response_alg: 'RS256', userinfo_signed_response_alg: 'ES256' }) });
  assert.equal(created.status, 201);
  const cleared = await suite.api('PATCH', `/clients/${created.json.client_id}`, { body: { userinfo_signed_response_alg: null } });
  assert.equal(cleared.json.userinfo_signed_response_alg, null);
  assert.equal(cleared.json.id_token_signed_response_alg, 'RS256');
});

test('a PATCH that would break the client is refused and changes nothing', async () => {
  const created = await suite.api('POST', '/clients', { body: web({ scope: 'openid profile' }) });
  for (const body of [{ scope: 'openid read' }, { redirect_uris: ['http://app.example.test/cb'] }, { allowed_resources: ['https://nobody.example.test'] }]) {
    const r = await suite.api('PATCH', `/clients/${created.json.client_id}`, { body });
    assert.equal(r.status, 422, JSON.stringify(body));
  }
  const after = await suite.api('GET', `/clients/${created.json.client_id}`);
  assert.equal(after.json.scope, 'openid profile');
  assert.deepEqual(after.json.redirect_uris, [REDIRECT_URI]);
});

test('a resource server a client still lists cannot be deleted; once no client lists it, it can', async () => {
  const rs = await aResourceServer(suite.server.db);
  const created = await suite.api('POST', '/clients', { body: web({ scope: 'openid read', allowed_resources: [rs.identifier] }) });
  const refused = await suite.api('DELETE', `/resource-servers/${encodeURIComponent(rs.identifier)}`);
  assert.equal(refused.status, 409);
  assert.match(refused.json.detail, new RegExp(created.json.client_id));
  assert.equal((await suite.api('PATCH', `/clients/${created.json.client_id}`, { body: { scope: 'openid', allowed_resources: [] } })).status, 200);
  assert.equal((await suite.api('DELETE', `/resource-servers/${encodeURIComponent(rs.identifier)}`)).status, 204);
});

test('a client listing only a resource server scope gets tokens for that scope only, and never an admin token', async () => {
  const rs = await aResourceServer(suite.server.db);
  const created = await suite.api('POST', '/clients', { body: { client_name: 'API caller', grant_types: ['client_credentials'], scope: 'read', allowed_resources: [rs.identifier] } });
  assert.equal(created.status, 201);
  const config = await relyingParty(suite.server.issuer, created.json.client_id, created.json.client_secret);
  const token = await oidc.clientCredentialsGrant(config, { scope: 'read write', resource: rs.identifier });
  assert.equal(token.scope, 'read');
  for (const scope of ['admin', 'admin:privileges', 'openid']) {
    await assert.rejects(oidc.clientCredentialsGrant(config, { scope }), (e: { error?: string }) => e.error === 'invalid_scope', scope);
  }
});
