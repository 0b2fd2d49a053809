import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import { createRemoteJWKSet, jwtVerify, decodeJwt } from 'jose';
import { startTestServer, type TestServer } from './support/server.ts';
import { aClient, aResourceServer, aUser, authorizationRequest, relyingParty, unique, REDIRECT_URI } from './support/fixtures.ts';
import { signIn, UserAgent } from './support/browserless.ts';
import { createOrganization, putMembership } from '../src/storage/organizations.ts';
import { putPrivileges } from '../src/storage/privileges.ts';

let server: TestServer;
before(async () => {
  server = await startTestServer();
});
after(async () => server.stop());

const PASSWORD = 'correct horse battery';

async function anOrg(name: string) {
  return createOrganization(server.db, { alias: unique(name.toLowerCase()), name, attributes: { plan: 'pro' } });
}

/** A user with memberships, a client allowed the given scopes, and its relying-party view. */
async function setup(orgs: Array<{ org: Awaited<ReturnType<typeof anOrg>>; roles: string[] }>, scope = 'openid profile offline_access organization organization:* privileges hasura') {
  const user = await aUser(server.db);
  for (const { org, roles } of orgs) await putMembership(server.db, org.id, user.id, { roles, attributes: { department: 'R&D' } });
  const client = await aClient(server.db, { scope });
  const config = await relyingParty(server.issuer, client.client_id, client.client_secret);
  return { user, client, config };
}

async function login(config: oidc.Configuration, username: string, scope: string, extra: Record<string, string> = {}, agent = new UserAgent()) {
  const req = await authorizationRequest(config, { scope, prompt: 'consent', ...extra });
  const landed = await signIn(req.url, server.issuer, username, PASSWORD, agent);
  return { req, landed };
}

test('a member of one organization gets it in the ID token, access token, userinfo and introspection', async () => {
  const acme = await anOrg('Acme');
  const { user, config } = await setup([{ org: acme, roles: ['admin'] }]);
  const { req, landed } = await login(config, user.username, 'openid organization offline_access');
  const tokens = await oidc.authorizationCodeGrant(config, new URL(landed.url), { pkceCodeVerifier: req.verifier, expectedState: req.state });
  const expected = { [acme.alias]: { id: acme.id, name: 'Acme', roles: ['admin'], department: 'R&D' } };
  assert.deepEqual(tokens.claims()!.organization, expected);
  assert.deepEqual((await oidc.fetchUserInfo(config, tokens.access_token, user.id)).organization, expected);
  const info = await oidc.tokenIntrospection(config, tokens.access_token);
  assert.deepEqual(info.organization, expected);
  assert.match(String(info.scope), /\borganization\b/);
});

test('without an organization scope there is no organization claim anywhere', async () => {
  const acme = await anOrg('Acme');
  const { user, config } = await setup([{ org: acme, roles: ['admin'] }]);
  const { req, landed } = await login(config, user.username, 'openid profile');
  const tokens = await oidc.authorizationCodeGrant(config, new URL(landed.url), { pkceCodeVerifier: req.verifier, expectedState: req.state });
  assert.equal('organization' in tokens.claims()!, false);
  assert.equal('organization' in (await oidc.fetchUserInfo(config, tokens.access_token, user.id)), false);
  assert.equal('organization' in (await oidc.tokenIntrospection(config, tokens.access_token)), false);
});

test('a member of two organizations chooses one on the organization page; the choice stays with the grant', async () => {
  const acme = await anOrg('Acme');
  const beta = await anOrg('Beta');
  const { user, config } = await setup([
    { org: acme, roles: ['admin'] },
    { org: beta, roles: ['viewer'] },
  ]);
  const agent = new UserAgent();
  const req = await authorizationRequest(config, { scope: 'openid organization offline_access', prompt: 'consent' });
  let step = await agent.follow(req.url, server.issuer);
  step = await agent.submit(step.url, step.body!, /\/login"/, { username: user.username, password: PASSWORD }, server.issuer);
  assert.match(step.body!, /Choose an organization/);
  assert.match(step.body!, new RegExp(`value="${beta.alias}"`));
  step = await agent.submit(step.url, step.body!, /\/organization"/, { organization: beta.alias }, server.issuer);
  step = await agent.submit(step.url, step.body!, /\/confirm"/, {}, server.issuer);
  const tokens = await oidc.authorizationCodeGrant(config, new URL(step.url), { pkceCodeVerifier: req.verifier, expectedState: req.state });
  assert.deepEqual(Object.keys(tokens.claims()!.organization as object), [beta.alias]);

  // The next refresh keeps Beta without asking again.
  const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token!);
  assert.deepEqual(Object.keys(refreshed.claims()!.organization as object), [beta.alias]);
});

test('prompt=none for a member of several with no organization yet is interaction_required', async () => {
  const { user, config } = await setup([
    { org: await anOrg('Acme'), roles: [] },
    { org: await anOrg('Beta'), roles: [] },
  ]);
  const agent = new UserAgent();
  const first = await authorizationRequest(config, { scope: 'openid' });
  await signIn(first.url, server.issuer, user.username, PASSWORD, agent);
  const silent = await authorizationRequest(config, { scope: 'openid organization', prompt: 'none' });
  const step = await agent.follow(silent.url, server.issuer);
  const back = new URL(step.url);
  assert.equal(back.origin + back.pathname, REDIRECT_URI);
  assert.equal(back.searchParams.get('error'), 'interaction_required');
});

test('organization:<alias> gives that organization; a non-member is refused with access_denied', async () => {
  const acme = await anOrg('Acme');
  const beta = await anOrg('Beta');
  const { user, config } = await setup([{ org: acme, roles: ['admin'] }, { org: beta, roles: ['viewer'] }], `openid organization:${acme.alias} organization:${beta.alias} organization offline_access`);
  const { req, landed } = await login(config, user.username, `openid organization:${acme.alias}`);
  const tokens = await oidc.authorizationCodeGrant(config, new URL(landed.url), { pkceCodeVerifier: req.verifier, expectedState: req.state });
  assert.deepEqual(Object.keys(tokens.claims()!.organization as object), [acme.alias]);
  assert.match(tokens.scope ?? '', new RegExp(`organization:${acme.alias}`), 'the dynamic scope value shows in the granted scope');

  const outsider = await aUser(server.db);
  const other = await authorizationRequest(config, { scope: `openid organization:${acme.alias}` });
  const step = await signIn(other.url, server.issuer, outsider.username, PASSWORD);
  assert.equal(new URL(step.url).searchParams.get('error'), 'access_denied');
});

test('organization:* lists every organization of the user', async () => {
  const acme = await anOrg('Acme');
  const beta = await anOrg('Beta');
  const { user, config } = await setup([{ org: acme, roles: ['admin'] }, { org: beta, roles: ['viewer'] }]);
  const { req, landed } = await login(config, user.username, 'openid organization:*');
  const tokens = await oidc.authorizationCodeGrant(config, new URL(landed.url), { pkceCodeVerifier: req.verifier, expectedState: req.state });
  assert.deepEqual(Object.keys(tokens.claims()!.organization as object).sort(), [acme.alias, beta.alias].sort());
});

test('switching organization by refresh: member only, scope needed, no new login', async () => {
  const acme = await anOrg('Acme');
  const beta = await anOrg('Beta');
  const gamma = await anOrg('Gamma');
  const { user, config } = await setup([{ org: acme, roles: ['admin'] }, { org: beta, roles: ['viewer'] }]);
  const agent = new UserAgent();
  const req = await authorizationRequest(config, { scope: 'openid organization hasura offline_access', prompt: 'consent' });
  let step = await agent.follow(req.url, server.issuer);
  step = await agent.submit(step.url, step.body!, /\/login"/, { username: user.username, password: PASSWORD }, server.issuer);
  step = await agent.submit(step.url, step.body!, /\/organization"/, { organization: acme.alias }, server.issuer);
  step = await agent.submit(step.url, step.body!, /\/confirm"/, {}, server.issuer);
  const tokens = await oidc.authorizationCodeGrant(config, new URL(step.url), { pkceCodeVerifier: req.verifier, expectedState: req.state });
  assert.deepEqual(Object.keys(tokens.claims()!.organization as object), [acme.alias]);

  const switched = await oidc.refreshTokenGrant(config, tokens.refresh_token!, { organization: beta.alias });
  assert.deepEqual(Object.keys(switched.claims()!.organization as object), [beta.alias]);
  const hasura = switched.claims()!['https://hasura.io/jwt/claims'] as Record<string, unknown>;
  assert.deepEqual(hasura, { 'x-hasura-user-id': user.id, 'x-hasura-org-id': beta.id, 'x-hasura-allowed-roles': ['viewer'], 'x-hasura-default-role': 'viewer' });
  const info = await oidc.tokenIntrospection(config, switched.access_token);
  assert.deepEqual(Object.keys(info.organization as object), [beta.alias], 'the access token follows the switch');

  await assert.rejects(oidc.refreshTokenGrant(config, switched.refresh_token!, { organization: gamma.alias }), (err: oidc.ResponseBodyError) => {
    assert.equal(err.error, 'invalid_request');
    assert.match(err.error_description ?? '', /not a member/);
    return true;
  });
  // A refused switch spends nothing: the same refresh token still works and the grant keeps Beta.
  const again = await oidc.refreshTokenGrant(config, switched.refresh_token!);
  assert.deepEqual(Object.keys(again.claims()!.organization as object), [beta.alias]);

  // A grant without the organization scope cannot switch, even to an organization of the user's.
  const plain = await login(config, user.username, 'openid offline_access');
  const plainTokens = await oidc.authorizationCodeGrant(config, new URL(plain.landed.url), { pkceCodeVerifier: plain.req.verifier, expectedState: plain.req.state });
  await assert.rejects(oidc.refreshTokenGrant(config, plainTokens.refresh_token!, { organization: acme.alias }), (err: oidc.ResponseBodyError) => {
    assert.equal(err.error, 'invalid_scope');
    return true;
  });
  const unswitched = await oidc.refreshTokenGrant(config, plainTokens.refresh_token!);
  assert.equal(unswitched.claims()!.organization, undefined, 'refused, it spent nothing and switched nothing');
});

test('two apps of one user keep their own active organization', async () => {
  const acme = await anOrg('Acme');
  const beta = await anOrg('Beta');
  const { user, config: appA } = await setup([{ org: acme, roles: ['admin'] }, { org: beta, roles: ['viewer'] }]);
  const clientB = await aClient(server.db, { scope: 'openid organization offline_access' });
  const appB = await relyingParty(server.issuer, clientB.client_id, clientB.client_secret);
  const agent = new UserAgent();
  const pick = async (config: oidc.Configuration, alias: string) => {
    const req = await authorizationRequest(config, { scope: 'openid organization offline_access', prompt: 'consent' });
    let step = await agent.follow(req.url, server.issuer);
    if (/\/login"/.test(step.body ?? '')) step = await agent.submit(step.url, step.body!, /\/login"/, { username: user.username, password: PASSWORD }, server.issuer);
    step = await agent.submit(step.url, step.body!, /\/organization"/, { organization: alias }, server.issuer);
    step = await agent.submit(step.url, step.body!, /\/confirm"/, {}, server.issuer);
    return oidc.authorizationCodeGrant(config, new URL(step.url), { pkceCodeVerifier: req.verifier, expectedState: req.state });
  };
  const a = await pick(appA, acme.alias);
  const b = await pick(appB, beta.alias);
  assert.deepEqual(Object.keys((await oidc.refreshTokenGrant(appA, a.refresh_token!)).claims()!.organization as object), [acme.alias]);
  assert.deepEqual(Object.keys((await oidc.refreshTokenGrant(appB, b.refresh_token!)).claims()!.organization as object), [beta.alias]);
});

test('privileges appear only under the privileges scope, and a change shows at the next refresh', async () => {
  const { user, config } = await setup([]);
  await putPrivileges(server.db, user.id, { profile: 'editor', scope: 'docs:read docs:write' });
  const { req, landed } = await login(config, user.username, 'openid profile privileges offline_access');
  const tokens = await oidc.authorizationCodeGrant(config, new URL(landed.url), { pkceCodeVerifier: req.verifier, expectedState: req.state });
  assert.equal(tokens.claims()!.user_profile, 'editor');
  assert.equal(tokens.claims()!.user_scope, 'docs:read docs:write');
  assert.equal((await oidc.fetchUserInfo(config, tokens.access_token, user.id)).user_scope, 'docs:read docs:write');

  await putPrivileges(server.db, user.id, { profile: { role: 'owner', teams: ['a'] }, scope: 'docs:admin' });
  const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token!);
  assert.deepEqual(refreshed.claims()!.user_profile, { role: 'owner', teams: ['a'] });
  assert.equal(refreshed.claims()!.user_scope, 'docs:admin');
  assert.equal((await oidc.tokenIntrospection(config, refreshed.access_token)).user_scope, 'docs:admin');

  // A client granted only `profile` never sees them.
  const { req: r2, landed: l2 } = await login(config, user.username, 'openid profile');
  const plain = await oidc.authorizationCodeGrant(config, new URL(l2.url), { pkceCodeVerifier: r2.verifier, expectedState: r2.state });
  for (const view of [plain.claims()!, await oidc.fetchUserInfo(config, plain.access_token, user.id), await oidc.tokenIntrospection(config, plain.access_token)]) {
    assert.equal('user_profile' in view, false);
    assert.equal('user_scope' in view, false);
  }
});

test('a JWT access token for a resource server carries organization and privileges too', async () => {
  const acme = await anOrg('Acme');
  const rs = await aResourceServer(server.db);
  const user = await aUser(server.db);
  await putMembership(server.db, acme.id, user.id, { roles: ['admin'] });
  await putPrivileges(server.db, user.id, { profile: 'editor', scope: 'x' });
  const client = await aClient(server.db, { scope: 'openid organization privileges offline_access', allowed_resources: [rs.identifier], default_resource: rs.identifier });
  const config = await relyingParty(server.issuer, client.client_id, client.client_secret);
  const { req, landed } = await login(config, user.username, 'openid organization privileges read');
  const tokens = await oidc.authorizationCodeGrant(config, new URL(landed.url), { pkceCodeVerifier: req.verifier, expectedState: req.state });
  const { payload } = await jwtVerify(tokens.access_token, createRemoteJWKSet(new URL(config.serverMetadata().jwks_uri!)), { issuer: server.issuer, audience: rs.identifier, typ: 'at+jwt' });
  assert.deepEqual(Object.keys(payload.organization as object), [acme.alias]);
  assert.equal(payload.user_profile, 'editor');
  assert.deepEqual(decodeJwt(tokens.id_token!).organization, payload.organization, 'ID token and access token agree');
});

test('a removed member loses the organization at the next refresh; a disabled user cannot refresh', async () => {
  const acme = await anOrg('Acme');
  const { user, config } = await setup([{ org: acme, roles: ['admin'] }]);
  const { req, landed } = await login(config, user.username, 'openid organization offline_access');
  const tokens = await oidc.authorizationCodeGrant(config, new URL(landed.url), { pkceCodeVerifier: req.verifier, expectedState: req.state });
  assert.deepEqual(Object.keys(tokens.claims()!.organization as object), [acme.alias]);
  await server.db('memberships').where({ user_id: user.id }).delete();
  const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token!);
  assert.deepEqual(refreshed.claims()!.organization, {});
  await server.db('users').where({ id: user.id }).update({ enabled: false });
  await assert.rejects(oidc.refreshTokenGrant(config, refreshed.refresh_token!), { error: 'invalid_grant' });
});

test('a page in the browser cannot switch an app’s organization: a prompt=none code nobody redeems changes nothing', async () => {
  const acme = await anOrg('Acme');
  const beta = await anOrg('Beta');
  const { user, config } = await setup([
    { org: acme, roles: ['admin'] },
    { org: beta, roles: ['viewer'] },
  ]);
  const agent = new UserAgent();
  const req = await authorizationRequest(config, { scope: 'openid organization offline_access', prompt: 'consent' });
  let step = await agent.follow(req.url, server.issuer);
  step = await agent.submit(step.url, step.body!, /\/login"/, { username: user.username, password: PASSWORD }, server.issuer);
  step = await agent.submit(step.url, step.body!, /\/organization"/, { organization: acme.alias }, server.issuer);
  step = await agent.submit(step.url, step.body!, /\/confirm"/, {}, server.issuer);
  const tokens = await oidc.authorizationCodeGrant(config, new URL(step.url), { pkceCodeVerifier: req.verifier, expectedState: req.state });
  assert.deepEqual(Object.keys(tokens.claims()!.organization as object), [acme.alias]);

  // The attack: a cross-site page makes the browser send a silent switch to Beta; the code it
  // yields never reaches the app.
  const silent = await authorizationRequest(config, { scope: `openid organization:${beta.alias}`, prompt: 'none' });
  const landed = new URL((await agent.follow(silent.url, server.issuer)).url);
  assert.ok(landed.searchParams.get('code'), 'the silent request got a code (which nobody redeems)');
  const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token!);
  assert.deepEqual(Object.keys(refreshed.claims()!.organization as object), [acme.alias], 'the app keeps its organization');

  // The app's own switch, redeemed by the app, does switch; and stays for the next refresh.
  const own = await authorizationRequest(config, { scope: `openid organization:${beta.alias} offline_access`, prompt: 'none' });
  const back = new URL((await agent.follow(own.url, server.issuer)).url);
  const switched = await oidc.authorizationCodeGrant(config, back, { pkceCodeVerifier: own.verifier, expectedState: own.state });
  assert.deepEqual(Object.keys(switched.claims()!.organization as object), [beta.alias]);
  const after = await oidc.refreshTokenGrant(config, refreshed.refresh_token!);
  assert.deepEqual(Object.keys(after.claims()!.organization as object), [beta.alias], 'the redeemed code switched the grant');
});
