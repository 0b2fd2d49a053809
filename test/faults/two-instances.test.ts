/**
 * Two instances, one database: two `tessera start` processes on different ports share one
 * PostgreSQL database and one issuer, as behind a load balancer. The relying party's requests are
 * sent to A or to B by a fetch that rewrites the issuer's origin. Everything one instance writes
 * (sessions, codes, grants, refresh tokens, revocations, signing keys) the other honours; a key
 * rotation reaches both running instances within TESSERA_KEYS_REFRESH_S, without a restart.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose';
import { testEnv } from '../support/server.ts';
import { authorizationRequest, REDIRECT_URI, unique } from '../support/fixtures.ts';
import { signIn } from '../support/browserless.ts';
import { cliJson, runCli, startServerProcess, type ServerProcess } from '../support/processes.ts';
import { sharedDatabase } from './support/postgres.ts';
import { PASSWORD, raw, tokenRequest, userAndClient, waitFor, type Client, type User } from './support/flows.ts';

let database: { url: string; drop(): Promise<void> };
const cleanups: Array<() => void> = [];
let a: ServerProcess;
let b: ServerProcess;
let envA: Record<string, string>;
let issuer: string;
let user: User;
let client: Client;

/** openid-client for the shared issuer, with every request sent to one instance. */
async function relyingPartyVia(instance: ServerProcess): Promise<oidc.Configuration> {
  const origin = new URL(issuer).origin;
  const via: oidc.CustomFetch = (url, options) => fetch(url.replace(origin, instance.url), options as RequestInit);
  const config = await oidc.discovery(
    new URL(issuer),
    client.client_id,
    { id_token_signed_response_alg: 'ES256', client_secret: client.client_secret },
    oidc.ClientSecretBasic(client.client_secret),
    { execute: [oidc.allowInsecureRequests], [oidc.customFetch]: via },
  );
  config[oidc.customFetch] = via;
  return config;
}

async function jwks(instance: ServerProcess): Promise<JSONWebKeySet> {
  const res = await fetch(`${instance.url}/jwks`, { signal: AbortSignal.timeout(5_000) });
  assert.equal(res.status, 200);
  return (await res.json()) as JSONWebKeySet;
}
const kids = (set: JSONWebKeySet) => set.keys.map((k) => k.kid!).sort();

/** The paths an instance served, from its access log. */
const servedPaths = (instance: ServerProcess) =>
  instance
    .output()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { msg: string; path?: string })
    .filter((l) => l.msg === 'request')
    .map((l) => l.path!);

before(async () => {
  database = await sharedDatabase();
  const settings = { DATABASE_URL: database.url, TESSERA_KEYS_REFRESH_S: '1', TESSERA_LOG_LEVEL: 'info' };
  const first = await testEnv(settings);
  const second = await testEnv(settings);
  cleanups.push(first.cleanup, second.cleanup);
  envA = first.env;
  issuer = envA.ISSUER!;
  // The CLI brings the schema up to date first; then both start at once on the same database.
  ({ user, client } = await userAndClient(envA));
  [a, b] = await Promise.all([startServerProcess(envA), startServerProcess({ ...second.env, ISSUER: issuer })]);
});

after(async () => {
  await Promise.all([a?.kill(), b?.kill()]);
  for (const c of cleanups) c();
  await database?.drop();
});

let idTokenBeforeRotation: string;

test('log in through A; exchange, refresh and introspect through B; revoke on A and B refuses', async () => {
  const [viaA, viaB] = await Promise.all([relyingPartyVia(a), relyingPartyVia(b)]);
  assert.deepEqual(kids(await jwks(a)), kids(await jwks(b)), 'both publish the same keys');

  const req = await authorizationRequest(viaA, { scope: 'openid email offline_access', prompt: 'consent' });
  const landed = await signIn(req.url.replace(new URL(issuer).origin, a.url), a.url, user.username, PASSWORD);
  assert.ok(landed.url.startsWith(REDIRECT_URI), `A sent the browser to the app, got ${landed.url}`);

  const tokens = await oidc.authorizationCodeGrant(viaB, new URL(landed.url), { pkceCodeVerifier: req.verifier, expectedState: req.state });
  assert.equal(tokens.claims()!.sub, user.id, 'B redeemed the code A issued');
  idTokenBeforeRotation = tokens.id_token!;

  const refreshed = await oidc.refreshTokenGrant(viaB, tokens.refresh_token!);
  assert.ok(refreshed.refresh_token && refreshed.refresh_token !== tokens.refresh_token);
  // (Introspection, not a replay: replaying a spent refresh token revokes the whole grant.)
  assert.equal((await oidc.tokenIntrospection(viaA, tokens.refresh_token!)).active, false, 'A knows B spent it');

  const introspected = await oidc.tokenIntrospection(viaB, refreshed.refresh_token!);
  assert.equal(introspected.active, true);
  assert.equal(introspected.sub, user.id);
  assert.equal((await oidc.tokenIntrospection(viaB, refreshed.access_token)).active, true);

  await oidc.tokenRevocation(viaA, refreshed.refresh_token!);
  await assert.rejects(oidc.refreshTokenGrant(viaB, refreshed.refresh_token!), { error: 'invalid_grant' }, 'revoked on A, refused on B');
  assert.equal((await oidc.tokenIntrospection(viaB, refreshed.refresh_token!)).active, false);

  // Each instance really served its part.
  const [pathsA, pathsB] = [servedPaths(a), servedPaths(b)];
  assert.ok(pathsA.some((p) => p.startsWith('/interaction/')) && pathsA.includes('/token/revocation'), `A: ${pathsA.join(' ')}`);
  assert.ok(!pathsA.includes('/token'), 'A issued no token');
  assert.ok(pathsB.includes('/token') && pathsB.includes('/token/introspection'), `B: ${pathsB.join(' ')}`);
  assert.ok(!pathsB.some((p) => p.startsWith('/interaction/')), 'B showed no login page');
});

test('keys rotate with the CLI: both running instances publish and sign with the new keys, old tokens still verify', async () => {
  assert.ok(idTokenBeforeRotation, 'needs the sign-in above');
  const before = await jwks(a);
  const rotated = await runCli(['keys', 'rotate'], envA);
  assert.equal(rotated.code, 0, rotated.stderr);
  const { added } = JSON.parse(rotated.stdout) as { added: string[] };
  assert.equal(added.length, 2);
  const expected = [...kids(before), ...added].sort();

  const started = Date.now();
  await waitFor('A and B publish the new keys', async () => {
    const [ka, kb] = [kids(await jwks(a)), kids(await jwks(b))];
    return ka.join() === expected.join() && kb.join() === expected.join();
  }, 15_000);
  const pickedUpMs = Date.now() - started;

  const [viaA, viaB] = await Promise.all([relyingPartyVia(a), relyingPartyVia(b)]);
  const jwksB = createLocalJWKSet(await jwks(b));
  const jwksA = createLocalJWKSet(await jwks(a));

  // A token signed by A with the new key verifies against B's JWKS.
  const req = await authorizationRequest(viaA, { scope: 'openid offline_access', prompt: 'consent' });
  const landed = await signIn(req.url.replace(new URL(issuer).origin, a.url), a.url, user.username, PASSWORD);
  const fromA = await oidc.authorizationCodeGrant(viaA, new URL(landed.url), { pkceCodeVerifier: req.verifier, expectedState: req.state });
  const headerA = decodeProtectedHeader(fromA.id_token!);
  assert.ok(added.includes(headerA.kid!), `A signs with a new key, got ${headerA.kid}`);
  assert.equal((await jwtVerify(fromA.id_token!, jwksB, { issuer, audience: client.client_id })).payload.sub, user.id);

  // And B signs with it too, verifiable against A's JWKS.
  const fromB = await oidc.refreshTokenGrant(viaB, fromA.refresh_token!);
  const headerB = decodeProtectedHeader(fromB.id_token!);
  assert.equal(headerB.kid, headerA.kid, 'B signs with the same new key');
  await jwtVerify(fromB.id_token!, jwksA, { issuer, audience: client.client_id });

  // Tokens signed before the rotation still verify on both.
  assert.ok(!added.includes(decodeProtectedHeader(idTokenBeforeRotation).kid!));
  await jwtVerify(idTokenBeforeRotation, jwksA, { issuer, audience: client.client_id });
  await jwtVerify(idTokenBeforeRotation, jwksB, { issuer, audience: client.client_id });
  assert.match(a.output() + b.output(), /signing keys refreshed/);
  console.log(`# figures ${JSON.stringify({ keys_refresh_s: 1, both_published_after_ms: pickedUpMs })}`);
});

/** A client_credentials request to one instance: the HTTP status and the OAuth error, if any. */
async function serviceToken(instance: ServerProcess, service: Client, resource: string) {
  const r = await tokenRequest(instance.url, service, { grant_type: 'client_credentials', scope: 'read', resource });
  return r.status === 200 ? 'token' : String(r.json?.error);
}

test('what the CLI adds works at once on both; what the admin API removes on A is refused on A at once and on B within 5 s', async () => {
  // Added with the CLI while both run: no cache stands in the way of a row that is new.
  const api = `https://${unique('two-api')}.example.test`;
  assert.equal((await runCli(['resource-server', 'add', '--identifier', api, '--scopes', 'read'], envA)).code, 0);
  const service = await cliJson<Client>(['client', 'add', '--name', 'Service', '--grant-types', 'client_credentials', '--allowed-resources', api], envA);
  assert.deepEqual([await serviceToken(a, service, api), await serviceToken(b, service, api)], ['token', 'token']);

  const admin = await tokenRequest(a.url, { client_id: envA.TESSERA_ADMIN_CLIENT_ID!, client_secret: envA.TESSERA_ADMIN_CLIENT_SECRET! }, { grant_type: 'client_credentials', scope: 'admin' });
  const adminApi = (method: string, path: string, body?: unknown) =>
    raw(`${a.url}/admin/v1${path}`, { method, headers: { authorization: `Bearer ${admin.json!.access_token}`, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined });

  // The resource server leaves the client (it cannot be deleted while a client lists it: 409), then goes:
  // A refuses tokens for it at once, B within its 5 s cache time.
  assert.equal((await adminApi('DELETE', `/resource-servers/${encodeURIComponent(api)}`)).status, 409);
  assert.equal((await adminApi('PATCH', `/clients/${service.client_id}`, { allowed_resources: [] })).status, 200);
  assert.equal((await adminApi('DELETE', `/resource-servers/${encodeURIComponent(api)}`)).status, 204);
  assert.equal(await serviceToken(a, service, api), 'invalid_target');
  const rsGoneOnB = await waitFor('B refuses the deleted resource server', async () => (await serviceToken(b, service, api)) === 'invalid_target', 8_000);

  // The client goes: the same.
  const other = `https://${unique('two-api')}.example.test`;
  assert.equal((await runCli(['resource-server', 'add', '--identifier', other, '--scopes', 'read'], envA)).code, 0);
  const doomed = await cliJson<Client>(['client', 'add', '--name', 'Doomed', '--grant-types', 'client_credentials', '--allowed-resources', other], envA);
  assert.deepEqual([await serviceToken(a, doomed, other), await serviceToken(b, doomed, other)], ['token', 'token']);
  assert.equal((await adminApi('DELETE', `/clients/${doomed.client_id}`)).status, 204);
  assert.equal(await serviceToken(a, doomed, other), 'invalid_client');
  const clientGoneOnB = await waitFor('B refuses the deleted client', async () => (await serviceToken(b, doomed, other)) === 'invalid_client', 8_000);
  console.log(`# figures ${JSON.stringify({ resource_server_gone_on_b_ms: rsGoneOnB, client_gone_on_b_ms: clientGoneOnB })}`);
});
