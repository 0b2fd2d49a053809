/**
 * README promises of the payload hook at real token issues: a client's own hook wins over the global
 * one, and the global one serves client_credentials too; the hook is told the active organization;
 * a code refused for a closed hook failure is not spent; renames and drops are counted in /metrics.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import { startTestServer, type TestServer } from './support/server.ts';
import { startReceiver, type Receiver } from './support/receiver.ts';
import { aClient, aResourceServer, aUser, authorizationRequest, relyingParty, unique } from './support/fixtures.ts';
import { decodeJwt } from 'jose';
import { signIn, UserAgent } from './support/browserless.ts';
import { createOrganization, putMembership } from '../src/storage/organizations.ts';

const SECRET = 'promises-hook-secret-0123456789';
const PASSWORD = 'correct horse battery';

/** A loopback webhook that records each input and answers what `answer` says at that moment. */
type Hook = Receiver & { inputs: Array<Record<string, unknown>>; answer: { status: number; body: string } };
async function hook(body: string): Promise<Hook> {
  const h = { inputs: [] as Array<Record<string, unknown>>, answer: { status: 200, body } } as Hook;
  const r = await startReceiver((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      h.inputs.push(JSON.parse(Buffer.concat(chunks).toString()));
      res.writeHead(h.answer.status, { 'content-type': 'application/json' }).end(h.answer.body);
    });
  });
  return Object.assign(h, r);
}

let globalHook: Hook;
let ownHook: Hook;
let server: TestServer;
before(async () => {
  globalHook = await hook('{"source":"global"}');
  ownHook = await hook('{"source":"own"}');
  server = await startTestServer({ TESSERA_PAYLOAD_HOOK_URL: globalHook.url, TESSERA_PAYLOAD_HOOK_SECRET: SECRET });
});
after(async () => {
  await server.stop();
  await globalHook.stop();
  await ownHook.stop();
});

/** Signs the user in and consents; the code and what the exchange must check. */
async function codeFor(config: oidc.Configuration, username: string, scope: string) {
  const req = await authorizationRequest(config, { scope, prompt: 'consent' });
  const landed = await signIn(req.url, server.issuer, username, PASSWORD);
  return { url: new URL(landed.url), checks: { pkceCodeVerifier: req.verifier, expectedState: req.state } };
}

test("a client's own hook wins over the global one; a client without one gets the global hook", async () => {
  const own = await aClient(server.db, { payload_hook: { url: ownHook.url, secret: SECRET } as never });
  const plain = await aClient(server.db);
  const user = await aUser(server.db, PASSWORD);
  const [globalBefore, ownBefore] = [globalHook.inputs.length, ownHook.inputs.length];

  const ownConfig = await relyingParty(server.issuer, own.client_id, own.client_secret);
  const a = await codeFor(ownConfig, user.username, 'openid offline_access');
  assert.equal((await oidc.authorizationCodeGrant(ownConfig, a.url, a.checks)).claims()!.source, 'own');
  assert.equal(globalHook.inputs.length, globalBefore, 'the global hook was not called for a client with its own');

  const plainConfig = await relyingParty(server.issuer, plain.client_id, plain.client_secret);
  const b = await codeFor(plainConfig, user.username, 'openid offline_access');
  assert.equal((await oidc.authorizationCodeGrant(plainConfig, b.url, b.checks)).claims()!.source, 'global');
  assert.equal(ownHook.inputs.length, ownBefore + 1, "the client's own hook was called once, for its own token");
});

test('client_credentials gets the global hook too, for a client without its own', async () => {
  const rs = await aResourceServer(server.db);
  const machine = await aClient(server.db, { grant_types: ['client_credentials'], redirect_uris: [], allowed_resources: [rs.identifier] });
  const before = globalHook.inputs.length;
  const config = await relyingParty(server.issuer, machine.client_id, machine.client_secret);
  const tokens = await oidc.clientCredentialsGrant(config, { scope: 'read', resource: rs.identifier });
  assert.equal(globalHook.inputs.length, before + 1, 'the global hook was called once');
  assert.equal(globalHook.inputs.at(-1)!.grant_type, 'client_credentials');
  assert.equal(decodeJwt(tokens.access_token).source, 'global', "the access token carries the hook's claim");
});

test('the hook input names the active organization at a real token issue, and follows a switch', async () => {
  const user = await aUser(server.db, PASSWORD);
  const acme = await createOrganization(server.db, { alias: unique('acme'), name: 'Acme' });
  const beta = await createOrganization(server.db, { alias: unique('beta'), name: 'Beta' });
  await putMembership(server.db, acme.id, user.id, { roles: ['admin', 'editor'] });
  await putMembership(server.db, beta.id, user.id, { roles: ['viewer'] });
  const client = await aClient(server.db, { scope: 'openid offline_access organization', payload_hook: { url: ownHook.url, secret: SECRET } as never });
  const config = await relyingParty(server.issuer, client.client_id, client.client_secret);

  // A member of two picks one on the organization page.
  const req = await authorizationRequest(config, { scope: 'openid offline_access organization', prompt: 'consent' });
  const agent = new UserAgent();
  let step = await agent.follow(req.url, server.issuer);
  step = await agent.submit(step.url, step.body!, /\/login"/, { username: user.username, password: PASSWORD }, server.issuer);
  step = await agent.submit(step.url, step.body!, /\/organization"/, { organization: acme.alias }, server.issuer);
  step = await agent.submit(step.url, step.body!, /\/confirm"/, {}, server.issuer);
  const tokens = await oidc.authorizationCodeGrant(config, new URL(step.url), { pkceCodeVerifier: req.verifier, expectedState: req.state });
  assert.deepEqual(ownHook.inputs.at(-1)!.organization, { id: acme.id, alias: acme.alias, roles: ['admin', 'editor'] });
  assert.equal(ownHook.inputs.at(-1)!.grant_type, 'authorization_code');

  await oidc.refreshTokenGrant(config, tokens.refresh_token!, { organization: beta.alias });
  assert.deepEqual(ownHook.inputs.at(-1)!.organization, { id: beta.id, alias: beta.alias, roles: ['viewer'] });
  assert.equal(ownHook.inputs.at(-1)!.grant_type, 'refresh_token');
});

test('closed policy: a code refused because the hook failed is not spent, and works once the hook recovers', async () => {
  const failing = await hook('{}');
  try {
    const client = await aClient(server.db, { payload_hook: { url: failing.url, secret: SECRET } as never });
    const config = await relyingParty(server.issuer, client.client_id, client.client_secret);
    const user = await aUser(server.db, PASSWORD);
    const code = await codeFor(config, user.username, 'openid offline_access');
    failing.answer = { status: 503, body: '{}' };
    await assert.rejects(oidc.authorizationCodeGrant(config, code.url, code.checks), (err: oidc.ResponseBodyError) => {
      assert.equal(err.error, 'temporarily_unavailable');
      return true;
    });
    failing.answer = { status: 200, body: '{"after":"recovery"}' };
    const tokens = await oidc.authorizationCodeGrant(config, code.url, code.checks);
    assert.equal(tokens.claims()!.after, 'recovery');
    assert.ok(tokens.refresh_token, 'the whole response, refresh token included');
  } finally {
    await failing.stop();
  }
});

test('renamed and dropped payload claims are counted in /metrics', async () => {
  const metric = async (line: RegExp) => Number(line.exec(await (await fetch(`${server.issuer}/metrics`)).text())?.[1] ?? 0);
  const renamedScope = () => metric(/^tessera_claim_renames_total\{claim="scope"\} (\d+)$/m);
  const dropped = () => metric(/^tessera_claim_drops_total (\d+)$/m);
  const colliding = await hook(JSON.stringify({ scope: 'admin', sub: 'other', extra_sub: 'taken' }));
  try {
    const client = await aClient(server.db, { grant_types: ['client_credentials'], redirect_uris: [], payload_hook: { url: colliding.url, secret: SECRET } as never });
    const config = await relyingParty(server.issuer, client.client_id, client.client_secret);
    const [renamesBefore, dropsBefore] = [await renamedScope(), await dropped()];
    const { access_token } = await oidc.clientCredentialsGrant(config, {});
    const info = await oidc.tokenIntrospection(config, access_token);
    assert.equal(info.extra_scope, 'admin', 'scope renamed');
    assert.ok(await renamedScope() > renamesBefore, 'the rename of scope is counted');
    assert.ok(await dropped() > dropsBefore, 'the drop of sub (extra_sub taken) is counted');
  } finally {
    await colliding.stop();
  }
});
