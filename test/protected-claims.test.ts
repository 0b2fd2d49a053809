/**
 * Property: whatever a payload hook answers, no protected claim of any token changes. A module hook
 * returns the current fast-check sample, a random mix of protected names (protocol, Tessera's own,
 * every standard OIDC claim, `extra_*`) and random ones; ID and access tokens from a refresh and
 * from client credentials are checked with jose, and an opaque token at introspection, against
 * tokens issued when the hook adds nothing.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import * as oidc from 'openid-client';
import { createRemoteJWKSet, jwtVerify, type JWTPayload } from 'jose';
import { startTestServer, type TestServer } from './support/server.ts';
import { aClient, aResourceServer, aUser, authorizationRequest, relyingParty, unique } from './support/fixtures.ts';
import { signIn } from './support/browserless.ts';
import { SEED } from './support/hostile.ts';
import { PROTOCOL_CLAIMS, TESSERA_CLAIMS } from '../src/claims/naming.ts';
import { STANDARD_SCOPE_CLAIMS } from '../src/claims/standard.ts';
import { UNCARRIABLE_NAMES } from '../src/claims/assemble.ts';
import { createOrganization, putMembership } from '../src/storage/organizations.ts';
import { putPrivileges } from '../src/storage/privileges.ts';

const PASSWORD = 'correct horse battery';
const PROTECTED = [...new Set([...PROTOCOL_CLAIMS, ...TESSERA_CLAIMS, ...Object.values(STANDARD_SCOPE_CLAIMS).flat()])];
/** Claims that differ from one token to the next by nature: checked for sense, not equality. */
const PER_TOKEN = new Set(['iat', 'exp', 'nbf', 'jti', 'at_hash', 'c_hash', 's_hash']);

// The hook module returns whatever the test put here for the current sample.
const ANSWER = Symbol.for('tessera.test.hookAnswer');
const answer = (value: unknown) => ((globalThis as Record<symbol, unknown>)[ANSWER] = value);

let hooksDir: string;
let server: TestServer;
let refreshClient: { id: string; secret: string };
let serviceClient: { id: string; secret: string };
let jwks: ReturnType<typeof createRemoteJWKSet>;
let resource: string;
let opaqueResource: string;
let refreshToken: string;

before(async () => {
  hooksDir = mkdtempSync(path.join(os.tmpdir(), 'tessera-hooks-'));
  mkdirSync(path.join(hooksDir, 'hooks'));
  writeFileSync(path.join(hooksDir, 'hooks/sample.mjs'), `export default () => globalThis[Symbol.for('tessera.test.hookAnswer')];\n`);
  server = await startTestServer({ TESSERA_HOOKS_DIR: hooksDir, TESSERA_MAX_TOKEN_BYTES: '65536' });
  const rs = await aResourceServer(server.db);
  resource = rs.identifier;
  opaqueResource = (await aResourceServer(server.db, 'opaque')).identifier;
  const user = await aUser(server.db, PASSWORD, { given_name: 'Some', family_name: 'One', claims: { locale: 'en', phone_number: '+1 555 0100' } });
  const org = await createOrganization(server.db, { alias: unique('acme'), name: 'Acme', attributes: { plan: 'pro' } });
  await putMembership(server.db, org.id, user.id, { roles: ['admin', 'viewer'], attributes: { department: 'R&D' } });
  await putPrivileges(server.db, user.id, { profile: { role: 'editor' }, scope: 'docs:read' });
  const hook = { module: 'hooks/sample.mjs', failure: 'closed' } as never;
  const scope = 'openid profile email offline_access organization privileges hasura';
  const client = await aClient(server.db, { scope, allowed_resources: [resource], payload_hook: hook });
  refreshClient = { id: client.client_id, secret: client.client_secret! };
  const refreshConfig = await relyingParty(server.issuer, client.client_id, client.client_secret);
  const service = await aClient(server.db, { grant_types: ['client_credentials'], redirect_uris: [], allowed_resources: [resource, opaqueResource], payload_hook: hook });
  serviceClient = { id: service.client_id, secret: service.client_secret! };
  jwks = createRemoteJWKSet(new URL(refreshConfig.serverMetadata().jwks_uri!));

  answer(undefined);
  const req = await authorizationRequest(refreshConfig, { scope: `${scope} read`, prompt: 'consent', resource });
  const landed = await signIn(req.url, server.issuer, user.username, PASSWORD);
  const tokens = await oidc.authorizationCodeGrant(refreshConfig, new URL(landed.url), { pkceCodeVerifier: req.verifier, expectedState: req.state }, { resource });
  refreshToken = tokens.refresh_token!;
});
after(async () => {
  await server.stop();
  rmSync(hooksDir, { recursive: true, force: true });
});

type Issued = { id: JWTPayload; access: JWTPayload; accessToken: string; service: JWTPayload; introspected: JWTPayload };

/**
 * Token requests as plain HTTP, so the refresh token is carried on even if a client library would
 * choke on a strange claim; every token is verified with jose.
 */
async function tokenRequest(auth: { id: string; secret: string }, params: Record<string, string>, path = '/token') {
  const res = await fetch(`${server.issuer}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${auth.id}:${auth.secret}`).toString('base64')}` },
    body: new URLSearchParams(params),
  });
  const body = (await res.json()) as Record<string, string> & { active?: boolean };
  assert.equal(res.status, 200, `token request: ${JSON.stringify(body)}`);
  return body;
}

/** A refresh (ID token and JWT access token) and a client-credentials token, verified with jose. */
async function issue(): Promise<Issued> {
  const refreshed = await tokenRequest(refreshClient, { grant_type: 'refresh_token', refresh_token: refreshToken, resource });
  refreshToken = refreshed.refresh_token!;
  const id = (await jwtVerify(refreshed.id_token!, jwks, { issuer: server.issuer, audience: refreshClient.id })).payload;
  const access = (await jwtVerify(refreshed.access_token!, jwks, { issuer: server.issuer, audience: resource, typ: 'at+jwt' })).payload;
  const serviceToken = await tokenRequest(serviceClient, { grant_type: 'client_credentials', scope: 'read', resource });
  const service = (await jwtVerify(serviceToken.access_token!, jwks, { issuer: server.issuer, audience: resource, typ: 'at+jwt' })).payload;
  // An opaque token's claims are what introspection answers.
  const opaque = await tokenRequest(serviceClient, { grant_type: 'client_credentials', scope: 'read', resource: opaqueResource });
  const introspected = await tokenRequest(serviceClient, { token: opaque.access_token! }, '/token/introspection');
  assert.equal(introspected.active, true);
  return { id, access, accessToken: refreshed.access_token!, service, introspected: introspected as unknown as JWTPayload };
}

const name = fc.oneof(
  { weight: 5, arbitrary: fc.constantFrom(...PROTECTED) },
  { weight: 2, arbitrary: fc.constantFrom(...PROTECTED).map((n) => `extra_${n}`) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 12 }) },
  { weight: 1, arbitrary: fc.constantFrom('__proto__', 'constructor', 'x-hasura-user-id', 'https://hasura.io/jwt/claims/x', 'ORGANIZATION', 'Sub') },
);
const sample = fc.dictionary(name, fc.jsonValue({ maxDepth: 2 }), { minKeys: 1, maxKeys: 12 }).map((o) => JSON.parse(JSON.stringify(o)) as Record<string, unknown>);

/** A member the token really has (not one inherited, like `__proto__`). */
const member = (o: object, key: string) => (Object.hasOwn(o, key) ? (o as Record<string, unknown>)[key] : undefined);

/** Every protected claim as it was without the hook; renamed ones where the naming rules put them. */
function assertProtected(label: string, got: JWTPayload, base: JWTPayload, hook: Record<string, unknown>, accessToken?: string) {
  for (const claim of PROTECTED) {
    if (!Object.hasOwn(base, claim)) {
      assert.equal(Object.hasOwn(got, claim), false, `${label}: ${claim} appeared`);
    } else if (PER_TOKEN.has(claim)) {
      assert.equal(typeof got[claim], typeof base[claim], `${label}: ${claim} type`);
      if (Object.hasOwn(hook, claim)) assert.notDeepEqual(got[claim], hook[claim], `${label}: ${claim} taken from the hook`);
    } else {
      assert.deepEqual(got[claim], base[claim], `${label}: ${claim} changed`);
    }
  }
  if (accessToken && base.at_hash) {
    const digest = createHash('sha256').update(accessToken).digest();
    assert.equal(got.at_hash, digest.subarray(0, 16).toString('base64url'), `${label}: at_hash is the access token's`);
  }
  for (const [claim, value] of Object.entries(hook)) {
    const taken = PROTECTED.includes(claim) || UNCARRIABLE_NAMES.has(claim) || Object.hasOwn(base, claim);
    const hookHasExtra = Object.hasOwn(hook, `extra_${claim}`);
    if (taken) assert.deepEqual(member(got, `extra_${claim}`), hookHasExtra ? hook[`extra_${claim}`] : value, `${label}: ${claim} → extra_${claim}`);
    else assert.deepEqual(member(got, claim), value, `${label}: ${claim} kept`);
  }
}

test('no random payload-hook answer changes a protected claim of an ID token or access token', async (t) => {
  answer(undefined);
  const base = await issue();
  assert.ok(base.id.organization && base.id.user_profile && base.id['https://hasura.io/jwt/claims'] && base.id.email, 'the baseline carries every kind of claim');
  let runs = 0;
  const started = performance.now();
  await fc.assert(
    fc.asyncProperty(sample, async (hook) => {
      answer(hook);
      const got = await issue();
      runs++;
      assertProtected('ID token', got.id, base.id, hook, got.accessToken);
      assertProtected('access token', got.access, base.access, hook);
      assertProtected('client credentials token', got.service, base.service, hook);
      assertProtected('introspection of an opaque token', got.introspected, base.introspected, hook);
    }),
    { numRuns: 60, seed: SEED },
  );
  t.diagnostic(`${runs} hook answers, 4 tokens each, in ${Math.round(performance.now() - started)} ms (seed ${SEED})`);
});
