/**
 * A refresh (or code exchange) reads the token and its claim sources in one statement. What it
 * returns must be what the separate reads return: the adapter's find for the token, and the claim
 * sources statement for the user, grant, memberships and privileges.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { AdapterPayload } from 'oidc-provider';
import * as oidc from 'openid-client';
import { decodeJwt } from 'jose';
import { startTestServer, type TestServer } from './support/server.ts';
import { aClient, aResourceServer, aUser, authorizationRequest, relyingParty, unique } from './support/fixtures.ts';
import { signIn } from './support/browserless.ts';
import { createAdapterClass } from '../src/storage/oidc-adapter.ts';
import { readClaimSources, readSpendableWithClaimSources } from '../src/storage/claim-sources.ts';
import { createOrganization, putMembership } from '../src/storage/organizations.ts';
import { putPrivileges } from '../src/storage/privileges.ts';
import { saveGrantContext } from '../src/storage/grant-context.ts';

let server: TestServer;
let Adapter: ReturnType<typeof createAdapterClass>;
let userId: string;
let orgId: string;
before(async () => {
  server = await startTestServer();
  Adapter = createAdapterClass(server.db);
  const user = await aUser(server.db);
  userId = user.id;
  const a = await createOrganization(server.db, { alias: unique('acme'), name: 'Acme' });
  const b = await createOrganization(server.db, { alias: unique('globex'), name: 'Globex' });
  orgId = a.id;
  await putMembership(server.db, a.id, userId, { roles: ['admin'], attributes: { floor: 3 } });
  await putMembership(server.db, b.id, userId, { roles: ['viewer'] });
  await putPrivileges(server.db, userId, { profile: { plan: 'gold' }, scope: 'reports:read' });
});
after(async () => server.stop());

/** A grant and a refresh token under it, stored through the adapter as oidc-provider stores them. */
async function aToken(scope: string, over: { accountId?: string; expiresIn?: number } = {}) {
  const grantId = randomUUID();
  const id = randomUUID();
  const accountId = over.accountId ?? userId;
  await new Adapter('Grant').upsert(grantId, { jti: grantId, kind: 'Grant', accountId, clientId: 'app', openid: { scope } } as AdapterPayload, 3600);
  await saveGrantContext(server.db, grantId, { organization_id: orgId, requested_scope: scope });
  await new Adapter('RefreshToken').upsert(id, { jti: id, kind: 'RefreshToken', accountId, grantId, clientId: 'app', scope } as AdapterPayload, over.expiresIn ?? 3600);
  return { id, grantId, accountId };
}

/** The separate reads the one statement stands for. */
async function separately(id: string, grantId: string, accountId: string, parts: { memberships: boolean; privileges: boolean }) {
  return {
    payload: await new Adapter('RefreshToken').find(id),
    sources: await readClaimSources(server.db, { userId: accountId, grantId, ...parts, user: true, grantPayload: true }),
  };
}

test('with organization and privileges scopes: the token, user, grant, memberships and privileges, as the separate reads give them', async () => {
  for (const scope of ['openid organization privileges offline_access', 'openid organization:* privileges offline_access', 'openid hasura privileges']) {
    const t = await aToken(scope);
    const one = await readSpendableWithClaimSources(server.db, 'RefreshToken', t.id);
    assert.deepEqual(one.read, { memberships: true, privileges: true }, scope);
    assert.deepEqual({ payload: one.payload, sources: one.sources }, await separately(t.id, t.grantId, t.accountId, { memberships: true, privileges: true }), scope);
    assert.equal(one.sources?.memberships.length, 2);
    assert.equal(one.sources?.privileges?.scope, 'reports:read');
    assert.equal(one.sources?.user?.id, userId);
    assert.equal(one.sources?.grantPayload?.accountId, userId);
    assert.equal(one.sources?.grant?.organization_id, orgId);
  }
});

test('a scope that mentions neither organizations nor privileges reads neither', async () => {
  const t = await aToken('openid profile offline_access');
  const one = await readSpendableWithClaimSources(server.db, 'RefreshToken', t.id);
  assert.deepEqual(one.read, { memberships: false, privileges: false });
  assert.deepEqual(one.sources?.memberships, []);
  assert.equal(one.sources?.privileges, undefined);
  assert.deepEqual({ payload: one.payload, sources: one.sources }, await separately(t.id, t.grantId, t.accountId, { memberships: false, privileges: false }));
});

test('a spent token reads as consumed, an expired or unknown one as none, and an account id that is no user as no user', async () => {
  const spent = await aToken('openid offline_access');
  await new Adapter('RefreshToken').consume(spent.id);
  const one = await readSpendableWithClaimSources(server.db, 'RefreshToken', spent.id);
  assert.equal(typeof one.payload?.consumed, 'number');
  assert.deepEqual(one.payload, await new Adapter('RefreshToken').find(spent.id));
  // A grant marked consumed (oidc-provider never does today) reads as the adapter reads it too.
  await server.db('oidc_payloads').where({ model: 'Grant', id: spent.grantId }).update({ consumed_at: new Date(Date.now() - 5000) });
  const grant = (await readSpendableWithClaimSources(server.db, 'RefreshToken', spent.id)).sources?.grantPayload;
  assert.equal(typeof grant?.consumed, 'number');
  assert.deepEqual(grant, await new Adapter('Grant').find(spent.grantId));

  const expired = await aToken('openid offline_access');
  await server.db('oidc_payloads').where({ model: 'RefreshToken', id: expired.id }).update({ expires_at: new Date(Date.now() - 1000) });
  assert.deepEqual(await readSpendableWithClaimSources(server.db, 'RefreshToken', expired.id), { payload: undefined });
  assert.deepEqual(await readSpendableWithClaimSources(server.db, 'RefreshToken', randomUUID()), { payload: undefined });
  // The same id under another model is not this token.
  assert.deepEqual(await readSpendableWithClaimSources(server.db, 'AuthorizationCode', spent.id), { payload: undefined });

  const stranger = await aToken('openid organization privileges offline_access', { accountId: 'not-a-uuid' });
  const read = await readSpendableWithClaimSources(server.db, 'RefreshToken', stranger.id);
  assert.equal(read.payload?.accountId, 'not-a-uuid');
  assert.equal(read.sources?.user, undefined);
  assert.deepEqual(read.sources?.memberships, []);
  assert.equal(read.sources?.privileges, undefined);
});

/** A member of one organization with privileges, signed in to a client with a JWT resource (with several organizations, the login would ask which). */
async function signedInMember() {
  const rs = await aResourceServer(server.db, 'jwt');
  const client = await aClient(server.db, { scope: 'openid offline_access organization privileges', allowed_resources: [rs.identifier], default_resource: rs.identifier });
  const config = await relyingParty(server.issuer, client.client_id, client.client_secret);
  const member = await aUser(server.db);
  await putMembership(server.db, orgId, member.id, { roles: ['editor'] });
  await putPrivileges(server.db, member.id, { profile: { plan: 'silver' }, scope: 'reports:write' });
  const req = await authorizationRequest(config, { scope: 'openid offline_access organization privileges read', prompt: 'consent' });
  const landed = await signIn(req.url, server.issuer, member.username, 'correct horse battery');
  const tokens = await oidc.authorizationCodeGrant(config, new URL(landed.url), { pkceCodeVerifier: req.verifier, expectedState: req.state });
  return { config, tokens, member };
}

test('a refresh with organization and privileges (JWT access token): the ID token and the access token carry them as they are at the refresh', async () => {
  // Statement counts per refresh are a cost, measured by `npm run bench:statements`, not tested here.
  const { config, tokens, member } = await signedInMember();
  await putPrivileges(server.db, member.id, { profile: { plan: 'platinum' }, scope: 'reports:admin' });
  await putMembership(server.db, orgId, member.id, { roles: ['owner'] });
  const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token!);
  const claims = refreshed.claims()!;
  assert.deepEqual(Object.values(claims.organization as object).map((o: { roles: string[] }) => o.roles), [['owner']], 'the ID token carries the organization as it is now');
  assert.deepEqual([claims.user_profile, claims.user_scope], [{ plan: 'platinum' }, 'reports:admin'], 'and the privileges');
  const access = decodeJwt(refreshed.access_token);
  assert.deepEqual(access.organization, claims.organization, 'the access token agrees');
  assert.deepEqual([access.user_profile, access.user_scope], [{ plan: 'platinum' }, 'reports:admin']);
});

test('a refresh narrowed to fewer scopes carries only what those scopes allow, although the token was read with more', async () => {
  const { config, tokens } = await signedInMember();
  assert.ok(tokens.claims()?.organization && tokens.claims()?.user_profile, 'the full scope carries both');

  const withoutPrivileges = await oidc.refreshTokenGrant(config, tokens.refresh_token!, { scope: 'openid offline_access organization' });
  assert.ok(withoutPrivileges.claims()?.organization);
  assert.equal(withoutPrivileges.claims()?.user_profile, undefined, 'no privileges in the ID token');
  const access = decodeJwt(withoutPrivileges.access_token);
  assert.equal(access.user_profile, undefined, 'nor in the access token');

  const withoutOrganization = await oidc.refreshTokenGrant(config, withoutPrivileges.refresh_token!, { scope: 'openid offline_access privileges' });
  assert.equal(withoutOrganization.claims()?.organization, undefined, 'no organization in the ID token');
  assert.equal(decodeJwt(withoutOrganization.access_token).organization, undefined, 'nor in the access token');
  assert.deepEqual(withoutOrganization.claims()?.user_profile, { plan: 'silver' });
});
