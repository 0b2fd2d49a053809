/**
 * What survives a restart: the real `tessera start` in a child process, stopped with SIGTERM and
 * started again on the same database and port. Signing keys, refresh tokens and their spent state
 * live in the database, so relying parties notice nothing; `keys rotate` adds keys without
 * invalidating tokens already issued.
 *
 * With PGlite only one process may open the data folder, so the CLI runs only while the server is
 * stopped (which also works with PostgreSQL).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose';
import { isolatedTestEnv } from './support/server.ts';
import { authorizationRequest, relyingParty, REDIRECT_URI, unique } from './support/fixtures.ts';
import { signIn } from './support/browserless.ts';
import { cliJson, runCli, startServerProcess, type ServerProcess } from './support/processes.ts';

const PASSWORD = 'correct horse battery';

let env: Record<string, string>;
let cleanup = async () => {};
let issuer: string;
let server: ServerProcess | undefined;
const started: ServerProcess[] = [];

let user: { id: string; username: string };
let client: { client_id: string; client_secret: string };

async function start() {
  server = await startServerProcess(env);
  started.push(server);
  return server;
}

/** Stops the running server with SIGTERM; a clean shutdown exits 0. */
async function stop() {
  const s = server!;
  server = undefined;
  const { code, signal } = await s.stop();
  assert.equal(signal, null, `exited by signal ${signal}\n${s.output()}`);
  assert.equal(code, 0, `exit code after SIGTERM\n${s.output()}`);
}

async function fetchJwks(config: oidc.Configuration): Promise<JSONWebKeySet> {
  const res = await fetch(config.serverMetadata().jwks_uri!, { signal: AbortSignal.timeout(5_000) });
  assert.equal(res.status, 200);
  return (await res.json()) as JSONWebKeySet;
}

const kids = (jwks: JSONWebKeySet) => jwks.keys.map((k) => k.kid!).sort();

before(async () => {
  ({ env, cleanup } = await isolatedTestEnv());
  issuer = env.ISSUER!;
  // Created before the first start: the CLI brings the schema up to date by itself.
  user = await cliJson(['user', 'add', '--username', unique('restart'), '--password', PASSWORD, '--email', 'r@example.com', '--email-verified'], env);
  client = await cliJson(['client', 'add', '--name', 'Restart app', '--redirect-uri', REDIRECT_URI], env);
  assert.ok(client.client_secret, 'a confidential client');
});

after(async () => {
  // Whatever happened above, no child outlives the file.
  await Promise.all(started.map((s) => s.kill()));
  await cleanup();
});

// Carried from one step to the next: the steps depend on each other, in order.
let config: oidc.Configuration;
let jwksBefore: JSONWebKeySet;
let firstTokens: oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers;

test('sign in through the running server: code + PKCE with offline_access gives a refresh token', async () => {
  await start();
  config = await relyingParty(issuer, client.client_id, client.client_secret);
  const req = await authorizationRequest(config, { scope: 'openid email offline_access', prompt: 'consent' });
  const landed = await signIn(req.url, issuer, user.username, PASSWORD);
  assert.ok(landed.url.startsWith(REDIRECT_URI), `redirected to the app, got ${landed.url}`);
  firstTokens = await oidc.authorizationCodeGrant(config, new URL(landed.url), { pkceCodeVerifier: req.verifier, expectedState: req.state });
  assert.equal(firstTokens.claims()!.sub, user.id);
  assert.ok(firstTokens.refresh_token, 'offline_access gives a refresh token');
  jwksBefore = await fetchJwks(config);
  assert.deepEqual(jwksBefore.keys.map((k) => `${k.kty}/${k.alg}`).sort(), ['EC/ES256', 'RSA/RS256'], `an ES256 and an RS256 key; published: ${JSON.stringify(jwksBefore.keys.map((k) => [k.kid, k.alg]))}\n${server!.output()}`);
  for (const key of jwksBefore.keys) assert.equal(key.d, undefined, 'no private parts published');
});

test('SIGTERM exits 0; after a restart the JWKS is identical and the refresh token still works, once', async () => {
  assert.ok(firstTokens?.refresh_token, 'needs the sign-in above');
  await stop();
  await start();

  // A relying party that cached the keys or the metadata notices nothing.
  const rediscovered = await relyingParty(issuer, client.client_id, client.client_secret);
  assert.deepEqual(rediscovered.serverMetadata(), config.serverMetadata(), 'same discovery document');
  assert.deepEqual(await fetchJwks(rediscovered), jwksBefore, 'same JWKS');

  const refreshed = await oidc.refreshTokenGrant(config, firstTokens.refresh_token!);
  assert.ok(refreshed.refresh_token && refreshed.refresh_token !== firstTokens.refresh_token, 'refresh token rotated');
  assert.equal(refreshed.claims()!.sub, user.id);
  const info = await oidc.fetchUserInfo(config, refreshed.access_token, user.id);
  assert.equal(info.email, 'r@example.com');

  await assert.rejects(oidc.refreshTokenGrant(config, firstTokens.refresh_token!), { error: 'invalid_grant' }, 'the spent refresh token is refused');
});

// Running instances pick up a rotation without a restart: test/faults/two-instances.test.ts.
test('keys rotate while stopped: after a restart the JWKS has the new keys and the old ones, and old ID tokens verify', async () => {
  assert.ok(firstTokens?.id_token && jwksBefore, 'needs the sign-in above');
  await stop();

  const rotated = await runCli(['keys', 'rotate'], env);
  assert.equal(rotated.code, 0, rotated.stderr);
  const { added } = JSON.parse(rotated.stdout) as { added: string[] };
  assert.equal(added.length, 2, 'one new key per algorithm');
  for (const kid of added) assert.ok(!kids(jwksBefore).includes(kid), `${kid} is new`);
  assert.match(rotated.stderr, /TESSERA_KEYS_REFRESH_S/, 'tells the operator when the keys are used');

  await start();
  const jwks = await fetchJwks(config);
  assert.deepEqual(kids(jwks), [...kids(jwksBefore), ...added].sort(), 'new kids plus the old ones');
  for (const old of jwksBefore.keys) {
    assert.deepEqual(
      jwks.keys.find((k) => k.kid === old.kid),
      old,
      `old key ${old.kid} published unchanged`,
    );
  }

  // An ID token signed before the rotation still verifies against the JWKS served now.
  const oldKid = decodeProtectedHeader(firstTokens.id_token!).kid;
  assert.ok(oldKid && !added.includes(oldKid), 'signed with a pre-rotation key');
  const { payload } = await jwtVerify(firstTokens.id_token!, createLocalJWKSet(jwks), {
    issuer,
    audience: client.client_id,
    algorithms: ['ES256'],
  });
  assert.equal(payload.sub, user.id);

  // New tokens are signed with the new ES256 key.
  const req = await authorizationRequest(config, { scope: 'openid' });
  const landed = await signIn(req.url, issuer, user.username, PASSWORD);
  assert.ok(landed.url.startsWith(REDIRECT_URI), `redirected to the app, got ${landed.url}`);
  const tokens = await oidc.authorizationCodeGrant(config, new URL(landed.url), { pkceCodeVerifier: req.verifier, expectedState: req.state });
  const header = decodeProtectedHeader(tokens.id_token!);
  assert.equal(header.alg, 'ES256');
  assert.ok(added.includes(header.kid!), `signed with a new key, got kid ${header.kid}`);
  await jwtVerify(tokens.id_token!, createLocalJWKSet(jwks), { issuer, audience: client.client_id });

  await stop();
});
