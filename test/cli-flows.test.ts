/**
 * What the README promises of the CLI, end to end: a value written with the CLI shows in the tokens
 * of the server started after it (on the embedded database the two never run together). Each check
 * is what a relying party or an API would see, with openid-client and jose.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import { createLocalJWKSet, decodeJwt, jwtVerify, type JSONWebKeySet } from 'jose';
import { isolatedTestEnv } from './support/server.ts';
import { startReceiver, type Receiver } from './support/receiver.ts';
import { authorizationRequest, relyingParty, REDIRECT_URI, unique } from './support/fixtures.ts';
import { signIn } from './support/browserless.ts';
import { cliJson, runCli, startServerProcess, type ServerProcess } from './support/processes.ts';

const PASSWORD = 'correct horse battery';
const HOOK_SECRET = 'cli-hook-secret-0123456789';

let env: Record<string, string>;
let cleanup = async () => {};
let receiver: Receiver;
let server: ServerProcess | undefined;

// Written with the CLI before the server starts, checked through the server.
const api = `https://${unique('api')}.example.test`;
const opaqueApi = `https://${unique('opaque')}.example.test`;
const username = unique('cli-alice');
let webApp: { client_id: string; client_secret: string };
let service: { client_id: string; client_secret: string };
let firstKeys: Array<{ kid: string; alg: string }>;

before(async () => {
  ({ env, cleanup } = await isolatedTestEnv({ TESSERA_KEYS_REFRESH_S: '1' }));
  receiver = await startReceiver((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{"plan":"from-the-hook"}'));
  });
  await cliJson(['user', 'add', '--username', username, '--password', PASSWORD, '--email', 'alice@example.com'], env);
  await cliJson(['privileges', 'set', '--user', username, '--profile', '{"role":"editor"}', '--scope', 'docs:read docs:write'], env);
  await cliJson(['resource-server', 'add', '--identifier', api, '--scopes', 'read write'], env);
  await cliJson(['resource-server', 'add', '--identifier', opaqueApi, '--scopes', 'read', '--format', 'opaque'], env);
  webApp = await cliJson(['client', 'add', '--name', 'Web', '--redirect-uri', REDIRECT_URI, '--scope', 'openid profile offline_access privileges'], env);
  service = await cliJson(
    ['client', 'add', '--name', 'Job', '--grant-types', 'client_credentials', '--allowed-resources', `${api},${opaqueApi}`, '--default-resource', api, '--payload-hook-url', receiver.url, '--payload-hook-secret', HOOK_SECRET],
    env,
  );
  firstKeys = await cliJson(['keys', 'list'], env);
  server = await startServerProcess(env);
});

after(async () => {
  await server?.kill();
  await receiver?.stop();
  await cleanup();
});

const jwks = async () => (await (await fetch(`${env.ISSUER}/jwks`)).json()) as JSONWebKeySet;

test('privileges set: the stored privileges reach the ID token under the privileges scope', async () => {
  const config = await relyingParty(env.ISSUER!, webApp.client_id, webApp.client_secret);
  const req = await authorizationRequest(config, { scope: 'openid privileges', prompt: 'consent' });
  const landed = await signIn(req.url, env.ISSUER!, username, PASSWORD);
  const tokens = await oidc.authorizationCodeGrant(config, new URL(landed.url), { pkceCodeVerifier: req.verifier, expectedState: req.state });
  assert.deepEqual(tokens.claims()!.user_profile, { role: 'editor' });
  assert.equal(tokens.claims()!.user_scope, 'docs:read docs:write');
});

test('client add --allowed-resources --default-resource --payload-hook-*: a JWT for the default API, with the hook claims', async () => {
  const config = await relyingParty(env.ISSUER!, service.client_id, service.client_secret);
  const { access_token } = await oidc.clientCredentialsGrant(config, { scope: 'read' });
  const { payload } = await jwtVerify(access_token, createLocalJWKSet(await jwks()), { issuer: env.ISSUER, audience: api });
  assert.equal(payload.plan, 'from-the-hook');
  assert.equal(payload.scope, 'read');
  // Allowed resources only: an API the client was not given is refused.
  await assert.rejects(oidc.clientCredentialsGrant(config, { scope: 'read', resource: 'https://not-allowed.example.test' }), { error: 'invalid_target' });
});

test('resource-server add --format opaque: its tokens are opaque and introspection answers them', async () => {
  const config = await relyingParty(env.ISSUER!, service.client_id, service.client_secret);
  const { access_token } = await oidc.clientCredentialsGrant(config, { scope: 'read', resource: opaqueApi });
  assert.throws(() => decodeJwt(access_token), 'not a JWT');
  const info = await oidc.tokenIntrospection(config, access_token);
  assert.equal(info.active, true);
  assert.equal(info.aud, opaqueApi);
  assert.equal(info.plan, 'from-the-hook');
});

test('keys list shows the published keys; keys remove takes one out, and its tokens stop verifying', async () => {
  const published = (await jwks()).keys.map((k) => k.kid).sort();
  assert.deepEqual(firstKeys.map((k) => k.kid).sort(), published, 'keys list names the keys /jwks publishes');
  assert.deepEqual([...new Set(firstKeys.map((k) => k.alg))].sort(), ['ES256', 'RS256']);

  // A token signed with today's ES256 key, then a rotation and the removal of that key.
  const config = await relyingParty(env.ISSUER!, service.client_id, service.client_secret);
  const before = (await oidc.clientCredentialsGrant(config, { scope: 'read' })).access_token;
  const oldKid = firstKeys.find((k) => k.alg === 'ES256')!.kid;
  const onPostgres = Boolean(process.env.TEST_DATABASE_URL);
  // The embedded database belongs to one process: the CLI runs while the server is stopped.
  if (!onPostgres) await server!.stop();
  const { added } = await cliJson<{ added: string[] }>(['keys', 'rotate'], env);
  // Each key says when it was made and whether it signs: the newest of each algorithm does, the older only verify.
  const rotated = await cliJson<Array<{ kid: string; alg: string; created_at: string; signs: boolean }>>(['keys', 'list'], env);
  for (const k of rotated) assert.ok(!Number.isNaN(Date.parse(k.created_at)), `created_at is a date: ${k.created_at}`);
  assert.deepEqual(rotated.filter((k) => k.signs).map((k) => k.kid).sort(), [...added].sort(), 'the keys just added are the signing ones');
  assert.ok(rotated.find((k) => k.kid === oldKid)!.signs === false, 'the old ES256 key only verifies now');
  assert.ok(firstKeys.every((k) => (k as { signs?: boolean }).signs === true), 'before the rotation, each algorithm had one key, and it signed');
  await cliJson(['keys', 'remove', oldKid], env);
  const listed = await cliJson<Array<{ kid: string }>>(['keys', 'list'], env);
  assert.equal(listed.some((k) => k.kid === oldKid), false);
  if (!onPostgres) server = await startServerProcess(env);

  // A running instance picks the change up within TESSERA_KEYS_REFRESH_S (1 s here); bounded wait.
  for (const deadline = Date.now() + 15_000; (await jwks()).keys.some((k) => k.kid === oldKid); await new Promise((r) => setTimeout(r, 200))) {
    assert.ok(Date.now() < deadline, 'the removed key is still published');
  }
  await assert.rejects(jwtVerify(before, createLocalJWKSet(await jwks())), { code: 'ERR_JWKS_NO_MATCHING_KEY' });
  const after = (await oidc.clientCredentialsGrant(config, { scope: 'read' })).access_token;
  await jwtVerify(after, createLocalJWKSet(await jwks()), { issuer: env.ISSUER, audience: api });
});

test('keys remove refuses an unknown kid with one clear line', async () => {
  const onPostgres = Boolean(process.env.TEST_DATABASE_URL);
  if (!onPostgres) await server!.stop();
  try {
    const unknown = await runCli(['keys', 'remove', 'no-such-kid'], env);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /no key no-such-kid/);
  } finally {
    if (!onPostgres) server = await startServerProcess(env);
  }
});
