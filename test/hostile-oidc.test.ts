/**
 * Hostile input to the protocol endpoints: /token (every grant type), /auth, introspection,
 * revocation and the sign-in form posts get random fields, unicode, very long values, the wrong
 * content types and oversized bodies. Each request must be answered (no hang) without a 5xx, and
 * a refused one leaves every table as it was.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import * as oidc from 'openid-client';
import { startTestServer, type TestServer } from './support/server.ts';
import { aClient, aResourceServer, aUser, authorizationRequest, relyingParty, REDIRECT_URI } from './support/fixtures.ts';
import { UserAgent, signIn } from './support/browserless.ts';
import { SEED, contentType, fingerprintAll, formBody, hostileString, send, upload } from './support/hostile.ts';

const PASSWORD = 'correct horse battery';
let server: TestServer;
let client: Awaited<ReturnType<typeof aClient>>;
let resource: string;
let accessToken: string;
let basic: string;
const counts: Record<string, number> = {};

before(async () => {
  server = await startTestServer({ TESSERA_PURGE_INTERVAL_S: '86400' });
  client = await aClient(server.db, { grant_types: ['authorization_code', 'refresh_token', 'client_credentials'], scope: 'openid offline_access profile email organization privileges', allowed_resources: [] });
  const rs = await aResourceServer(server.db, 'opaque');
  resource = rs.identifier;
  basic = 'Basic ' + Buffer.from(`${client.client_id}:${client.client_secret}`).toString('base64');
  const config = await relyingParty(server.issuer, client.client_id, client.client_secret);
  const user = await aUser(server.db, PASSWORD);
  const req = await authorizationRequest(config, { scope: 'openid offline_access', prompt: 'consent' });
  const landed = await signIn(req.url, server.issuer, user.username, PASSWORD);
  accessToken = (await oidc.authorizationCodeGrant(config, new URL(landed.url), { pkceCodeVerifier: req.verifier, expectedState: req.state })).access_token;
});
after(async () => {
  await server.stop();
  console.log(`# hostile requests sent: ${JSON.stringify(counts)} (seed ${SEED})`);
});

const authHeader = () => fc.constantFrom<'none' | 'valid' | 'wrong' | 'garbage'>('none', 'valid', 'valid', 'valid', 'wrong', 'garbage').map((kind): Record<string, string> => {
  if (kind === 'none') return {};
  if (kind === 'valid') return { authorization: basic };
  if (kind === 'wrong') return { authorization: 'Basic ' + Buffer.from(`${client.client_id}:wrong-secret`).toString('base64') };
  return { authorization: 'Basic %%%\u00ff' };
});

/** One hostile request: answered, no 5xx; refused (4xx) means no row changed (but `mayChange` tables). */
async function refusedChangesNothing(name: string, url: string, init: RequestInit, options: { mayChange?: string[]; alwaysUnchanged?: boolean; allowReset?: boolean } = {}) {
  const before = await fingerprintAll(server.db, options.mayChange);
  const answer = await send(url, init, 10_000, options.allowReset);
  counts[name] = (counts[name] ?? 0) + 1;
  assert.ok(answer.status < 500, `${name}: ${answer.status} for ${String(init.body ?? url).slice(0, 300)}\n${answer.body.slice(0, 300)}`);
  if (answer.status >= 400 || answer.status === 0 || options.alwaysUnchanged) assert.equal(await fingerprintAll(server.db, options.mayChange), before, `${name}: ${answer.status} but rows changed`);
  return answer;
}

const GRANT_TYPES = ['password', 'implicit', 'urn:ietf:params:oauth:grant-type:device_code', 'urn:ietf:params:oauth:grant-type:jwt-bearer', 'urn:openid:params:grant-type:ciba'];
const TOKEN_FIELDS = ['grant_type', 'code', 'redirect_uri', 'code_verifier', 'refresh_token', 'scope', 'resource', 'client_id', 'client_secret', 'organization', 'audience', 'client_assertion', 'client_assertion_type'];
/** Each grant type with the fields it reads, so hostile values reach the code that looks them up. */
const GRANTS: Record<string, string[]> = {
  authorization_code: ['code', 'redirect_uri', 'code_verifier'],
  refresh_token: ['refresh_token', 'scope', 'organization'],
  client_credentials: ['scope', 'resource'],
};

test('/token: every grant type with hostile values, random fields, wrong content types: never a 5xx, refused ones change nothing', async () => {
  const plausible = fc.oneof({ weight: 3, arbitrary: hostileString }, fc.constantFrom(REDIRECT_URI, 'openid offline_access', 'organization:*', 'x'.repeat(43)), fc.constant(resource));
  const grantBody = fc.oneof(
    ...Object.entries(GRANTS).map(([grant, fields]) =>
      // Extra fields never repeat the grant's own (a repeated parameter is refused before any lookup).
      fc.tuple(fc.tuple(...fields.map(() => plausible)), formBody(TOKEN_FIELDS.filter((f) => f !== 'grant_type' && !fields.includes(f)), plausible)).map(([values, extra]) => {
        const p = new URLSearchParams({ grant_type: grant });
        fields.forEach((f, i) => p.append(f, values[i]!));
        return `${p}${extra ? `&${extra}` : ''}`;
      }),
    ),
    formBody(TOKEN_FIELDS, fc.oneof(plausible, fc.constantFrom(...GRANT_TYPES))),
  );
  // Valid client credentials with a well-formed body get a 200 (and a stored opaque token): only refusals must change nothing.
  await fc.assert(
    fc.asyncProperty(grantBody, fc.oneof({ weight: 3, arbitrary: fc.constant('application/x-www-form-urlencoded') }, { weight: 1, arbitrary: contentType }), authHeader(), async (body, type, auth) => {
      const answer = await refusedChangesNothing('token', `${server.issuer}/token`, { method: 'POST', headers: { ...(type ? { 'content-type': type } : {}), ...auth }, body });
      if (answer.status >= 400) assert.equal(typeof JSON.parse(answer.body).error, 'string', `an OAuth error body: ${answer.body.slice(0, 200)}`);
    }),
    { numRuns: 120, seed: SEED },
  );
});

const AUTH_FIELDS = ['client_id', 'response_type', 'scope', 'redirect_uri', 'state', 'nonce', 'code_challenge', 'code_challenge_method', 'prompt', 'max_age', 'login_hint', 'organization', 'resource', 'claims', 'request', 'request_uri', 'ui_locales', 'id_token_hint', 'response_mode', 'acr_values'];

// GET only: oidc-provider serves POST /auth only with enableHttpPostMethods, which needs
// SameSite=None cookies; here it answers 404 before any parsing, so posts would test nothing.
test('/auth: a valid request with hostile changes to its parameters: no 5xx, no redirect to an unregistered URI', async () => {
  const valid: Record<string, string> = { client_id: client.client_id, response_type: 'code', scope: 'openid', redirect_uri: REDIRECT_URI, state: 'st', code_challenge: 'x'.repeat(43), code_challenge_method: 'S256' };
  const plausible = fc.oneof(hostileString, fc.constantFrom(client.client_id, 'code', 'token', 'none', 'openid', 'openid organization:*', REDIRECT_URI, 'https://evil.example/cb', `${REDIRECT_URI}#frag`, 'S256', 'plain', 'login consent', 'form_post', 'fragment'));
  // Each of the valid request's parameters kept (most often), dropped, or replaced; then random extra fields.
  const change = fc.oneof({ weight: 20, arbitrary: fc.constant<'keep'>('keep') }, { weight: 1, arbitrary: fc.constant<'drop'>('drop') }, { weight: 2, arbitrary: plausible });
  const query = fc.tuple(fc.tuple(...Object.keys(valid).map(() => change)), formBody(AUTH_FIELDS, plausible, 4)).map(([changes, extra]) => {
    const p = new URLSearchParams();
    Object.entries(valid).forEach(([k, v], i) => {
      const c = changes[i]!;
      if (c !== 'drop') p.append(k, c === 'keep' ? v : c);
    });
    return `${p}${extra ? `&${extra}` : ''}`;
  });
  const outcomes = { toInteraction: 0, toClient: 0, page: 0 };
  await fc.assert(
    fc.asyncProperty(query, async (q) => {
      const answer = await refusedChangesNothing('auth', `${server.issuer}/auth?${q}`, {});
      const location = answer.headers.get('location');
      if (!location) return void outcomes.page++;
      const target = new URL(location, server.issuer);
      if (target.href.startsWith(`${server.issuer}/interaction/`)) outcomes.toInteraction++;
      else {
        assert.ok(target.href.startsWith(`${REDIRECT_URI}?`), `redirected to ${target.href}`);
        outcomes.toClient++;
      }
    }),
    { numRuns: 160, seed: SEED },
  );
  // The property only means something if many samples got past client and redirect_uri checks.
  console.log(`# /auth outcomes: ${JSON.stringify(outcomes)}`);
  assert.ok(outcomes.toInteraction >= 20 && outcomes.toClient >= 20, `too few samples reached the endpoint's redirects: ${JSON.stringify(outcomes)}`);
});

test('introspection and revocation: random tokens, hints and content types never change a row', async () => {
  for (const path of ['/token/introspection', '/token/revocation']) {
    // Introspection also gets the real token (reading changes nothing); revocation only near misses.
    const token = fc.oneof(hostileString, fc.constant(`${accessToken}x`), fc.constant(accessToken.slice(0, -1)), ...(path === '/token/introspection' ? [fc.constant(accessToken)] : []));
    await fc.assert(
      fc.asyncProperty(formBody(['token', 'token_type_hint', 'client_id', 'client_secret'], token), contentType, authHeader(), async (body, type, auth) => {
        await refusedChangesNothing(path, `${server.issuer}${path}`, { method: 'POST', headers: { ...(type ? { 'content-type': type } : {}), ...auth }, body }, { alwaysUnchanged: true });
      }),
      { numRuns: 80, seed: SEED },
    );
  }
  const info = await send(`${server.issuer}/token/introspection`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic }, body: `token=${accessToken}` });
  assert.equal(JSON.parse(info.body).active, true, 'the real token is still active after all that');
});

test('sign-in form posts: random fields, unicode, wrong content types, bad uids: no 5xx, nothing changes but counted failed logins', async () => {
  const config = await relyingParty(server.issuer, client.client_id, client.client_secret);
  const agent = new UserAgent();
  const page = await agent.follow((await authorizationRequest(config, { scope: 'openid' })).url, server.issuer);
  const uid = page.url.split('/interaction/')[1]!;
  const csrf = /name="csrf" value="([^"]+)"/.exec(page.body!)![1]!;
  const cookie = [...agent.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  const target = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom('login', 'confirm', 'organization', 'abort').map((step) => `/interaction/${uid}/${step}`) },
    // Lone surrogates cannot be percent-encoded as UTF-8: sent as raw escapes instead, like malformed ones.
    { weight: 1, arbitrary: fc.oneof(hostileString.map((s) => encodeURIComponent(Buffer.from(s.slice(0, 200)).toString())), fc.constantFrom('%00', '%ED%A0%80', '%', '%%', '..%2F..')).map((id) => `/interaction/${id}/login`) },
  );
  // The real CSRF token only on the login form: a valid abort would end this interaction (it may: then the rest are 400s).
  const fields = formBody(['csrf', 'username', 'password', 'organization'], fc.oneof(hostileString, fc.constant(csrf)));
  await fc.assert(
    fc.asyncProperty(target, fields, contentType, fc.boolean(), async (path, body, type, withCookie) => {
      if (path.endsWith('/abort') && body.includes(encodeURIComponent(csrf))) return;
      await refusedChangesNothing('interaction', `${server.issuer}${path}`, { method: 'POST', headers: { ...(type ? { 'content-type': type } : {}), ...(withCookie ? { cookie } : {}) }, body }, { mayChange: ['login_failures'] });
    }),
    { numRuns: 120, seed: SEED },
  );
  const stillThere = await agent.request(page.url);
  assert.equal(stillThere.status, 200, 'the sign-in page still works');
});

test('oversized bodies, declared or streamed, are refused at every endpoint without being read, and nothing changes', async () => {
  for (const path of ['/token', '/token/introspection', '/token/revocation', '/auth', '/interaction/x/login']) {
    for (const chunked of [false, true]) {
      const before = await fingerprintAll(server.db);
      const { status, sent } = await upload(server.issuer, path, { bytes: 64 * 1024 * 1024, chunked, headers: { authorization: basic } });
      counts.oversized = (counts.oversized ?? 0) + 1;
      assert.ok(status >= 400 && status < 500, `${path} (${chunked ? 'chunked' : 'declared'} 64 MiB): ${status}`);
      // Read to its end, the upload would have been sent whole before the answer; refused unread, it
      // stalls once the socket buffers are full (a few MiB at most on loopback).
      assert.ok(sent < 16 * 1024 * 1024, `${path} (${chunked ? 'chunked' : 'declared'}): ${sent} bytes were taken before the answer`);
      assert.equal(await fingerprintAll(server.db), before);
      assert.equal((await send(`${server.issuer}/healthz`)).status, 200, 'the next request is answered');
    }
  }
});
