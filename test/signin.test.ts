import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { generate } from 'otplib';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchChromium, withoutChromium } from './support/chromium.ts';
import { startTestServer, type TestServer } from './support/server.ts';
import { aClient, aUser, authorizationRequest, relyingParty, unique, REDIRECT_URI } from './support/fixtures.ts';
import { UserAgent } from './support/browserless.ts';
import { adminApi } from './support/admin.ts';
import { putMembership } from '../src/storage/organizations.ts';
import { addConfirmedTotp, replaceRecoveryCodes } from '../src/signin/storage.ts';
import { newTotpSecret } from '../src/signin/totp.ts';
import { cliJson, runCli } from './support/processes.ts';

const skip = withoutChromium;
const PWD = 'urn:tessera:acr:pwd';
const MFA = 'urn:tessera:acr:mfa';

let server: TestServer;
let browser: Browser;
before(async () => {
  server = await startTestServer();
  if (!skip) browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

/** A browser profile whose app callback is answered here: each sign-in's callback URL, in turn. */
async function newBrowser(): Promise<{ context: BrowserContext; page: Page; callback: () => Promise<URL> }> {
  const context = await browser.newContext({ locale: 'en-US' });
  let waiting: ((url: URL) => void) | undefined;
  await context.route(`${REDIRECT_URI}**`, async (route) => {
    const url = route.request().url();
    const resolve = waiting;
    await route.fulfill({ status: 200, contentType: 'text/html', body: '<p>app</p>' });
    // Resolved once the page has loaded the callback, so the test's next page.goto is not cut short by this navigation.
    if (resolve) void page.waitForURL(url).then(() => resolve(new URL(url)), () => resolve(new URL(url)));
  });
  const page = await context.newPage();
  return { context, page, callback: () => new Promise<URL>((resolve) => (waiting = resolve)) };
}

const codeAt = (secret: string, epoch: number) => generate({ secret, epoch });
const now = () => Math.floor(Date.now() / 1000);

test('second factor: enrolment by step-up, codes, recovery codes, and amr/acr in the tokens', { skip }, async () => {
  const user = await aUser(server.db);
  const client = await aClient(server.db, { first_party: true });
  const config = await relyingParty(server.issuer, client.client_id, client.client_secret);
  const jwks = createRemoteJWKSet(new URL(`${server.issuer}/jwks`));
  const tokensFrom = async (req: { verifier: string; state: string }, landed: URL) => {
    const tokens = await oidc.authorizationCodeGrant(config, landed, { pkceCodeVerifier: req.verifier, expectedState: req.state });
    const { payload } = await jwtVerify(tokens.id_token!, jwks, { issuer: server.issuer, audience: client.client_id });
    const introspected = await oidc.tokenIntrospection(config, tokens.access_token);
    return { id: payload, access: introspected };
  };

  // Discovery names the acr values.
  const discovery = await (await fetch(`${server.issuer}/.well-known/openid-configuration`)).json();
  assert.deepEqual(discovery.acr_values_supported, [PWD, 'urn:tessera:acr:mfa', 'urn:tessera:acr:phr']);

  // 1. A password alone: acr pwd, amr [pwd], in the ID token and the access token.
  const a = await newBrowser();
  let req = await authorizationRequest(config, { scope: 'openid' });
  let landed = a.callback();
  await a.page.goto(req.url);
  await a.page.getByLabel('Username').fill(user.username);
  await a.page.getByLabel('Password').fill('correct horse battery');
  await a.page.getByRole('button', { name: 'Sign in' }).click();
  let t = await tokensFrom(req, await landed);
  assert.equal(t.id.acr, PWD);
  assert.deepEqual(t.id.amr, ['pwd']);
  assert.equal(t.access.acr, PWD);
  assert.deepEqual(t.access.amr, ['pwd']);

  // 2. Step-up in the same browser with acr_values: no password again; this user has no factor, so they set one up.
  req = await authorizationRequest(config, { scope: 'openid', acr_values: MFA });
  landed = a.callback();
  await a.page.goto(req.url);
  await a.page.getByRole('heading', { name: 'Set up an authenticator app' }).waitFor();
  assert.equal(await a.page.locator('.qr svg').count(), 1, 'the QR code is an inline SVG');
  const secret = ((await a.page.locator('#totp-secret').textContent()) ?? '').replace(/\s+/g, '');
  // A wrong confirmation code is refused and nothing is stored.
  await a.page.getByLabel('Code from your authenticator app').fill('000000' === (await codeAt(secret, now())) ? '111111' : '000000');
  await a.page.getByRole('button', { name: 'Confirm' }).click();
  await a.page.getByRole('alert').filter({ hasText: 'That code is not right' }).waitFor();
  assert.equal(await server.db('signin_factors').where({ user_id: user.id }).count({ n: '*' }).first().then((r) => Number(r!.n)), 0);
  const enrolCode = await codeAt(secret, now());
  await a.page.getByLabel('Code from your authenticator app').fill(enrolCode);
  await a.page.getByRole('button', { name: 'Confirm' }).click();
  await a.page.getByRole('heading', { name: 'Save your recovery codes' }).waitFor();
  const recovery = await a.page.locator('ol.codes li').allTextContents();
  assert.equal(recovery.length, 10);
  // Stored hashed: no recovery code and no secret appears in the logs.
  const stored = await server.db('signin_recovery_codes').where({ user_id: user.id }).select('code_hash');
  assert.equal(stored.length, 10);
  assert.ok(stored.every((r) => !recovery.some((c) => r.code_hash.includes(c.replace('-', '')))));
  assert.ok(!server.logs.some((l) => l.includes(secret) || recovery.some((c) => l.includes(c))), 'no secret or recovery code is logged');
  await a.page.getByRole('button', { name: 'Continue' }).click();
  t = await tokensFrom(req, await landed);
  assert.equal(t.id.acr, MFA);
  assert.deepEqual(t.id.amr, ['pwd', 'otp', 'mfa']);
  assert.equal(t.access.acr, MFA);
  await a.context.close();

  // 3. A new browser: after the password, the code is asked. The code used at enrolment is refused
  // (reuse), so is a wrong one; the next period's code is accepted.
  const b = await newBrowser();
  req = await authorizationRequest(config, { scope: 'openid' });
  landed = b.callback();
  await b.page.goto(req.url);
  await b.page.getByLabel('Username').fill(user.username);
  await b.page.getByLabel('Password').fill('correct horse battery');
  await b.page.getByRole('button', { name: 'Sign in' }).click();
  await b.page.getByRole('heading', { name: 'Enter your code' }).waitFor();
  for (const refused of [enrolCode, '12345', 'not-a-code']) {
    await b.page.getByLabel(/Code from your authenticator app/).fill(refused);
    const answer = b.page.waitForResponse((r) => r.url().endsWith('/code'));
    await b.page.getByRole('button', { name: 'Verify' }).click();
    assert.equal((await answer).status(), 401, `${refused} is refused`);
    await b.page.getByRole('alert').filter({ hasText: 'That code is not right' }).waitFor();
  }
  await b.page.getByLabel(/Code from your authenticator app/).fill(await codeAt(secret, now() + 30));
  await b.page.getByRole('button', { name: 'Verify' }).click();
  t = await tokensFrom(req, await landed);
  assert.equal(t.id.acr, MFA);
  assert.deepEqual(t.id.amr, ['pwd', 'otp', 'mfa']);
  await b.context.close();

  // 4. A recovery code signs in once; the same code a second time is refused.
  for (const round of [1, 2]) {
    const c = await newBrowser();
    req = await authorizationRequest(config, { scope: 'openid' });
    landed = c.callback();
    await c.page.goto(req.url);
    await c.page.getByLabel('Username').fill(user.username);
    await c.page.getByLabel('Password').fill('correct horse battery');
    await c.page.getByRole('button', { name: 'Sign in' }).click();
    await c.page.getByLabel(/Code from your authenticator app/).fill(recovery[0]!.toUpperCase());
    await c.page.getByRole('button', { name: 'Verify' }).click();
    if (round === 1) {
      t = await tokensFrom(req, await landed);
      assert.equal(t.id.acr, MFA);
    } else {
      await c.page.getByRole('alert').filter({ hasText: 'That code is not right' }).waitFor();
    }
    await c.context.close();
  }
  const used = await server.db('signin_recovery_codes').where({ user_id: user.id }).whereNotNull('used_at').count({ n: '*' }).first();
  assert.equal(Number(used!.n), 1);
});

/** Signs in with the password through a plain HTTP user agent; returns the page that follows. */
async function afterPassword(url: string, username: string) {
  const agent = new UserAgent();
  const login = await agent.follow(url, server.issuer);
  // Without SMTP (this server has none), no reset link is offered.
  assert.doesNotMatch(login.body!, /\/forgot"/);
  const step = await agent.submit(login.url, login.body!, /\/login"/, { username, password: 'correct horse battery' }, server.issuer);
  return { agent, step };
}

test('policy: mfa required by a client or an organization, essential acr, and what a claims request may ask', async () => {
  const { api } = await adminApi(server);
  // A bad policy value is refused with a clear 422 and nothing is stored or changed.
  const refused = await api('POST', '/clients', { body: { client_name: 'Strict', redirect_uris: [REDIRECT_URI], mfa: 'always' } });
  assert.equal(refused.status, 422);
  assert.deepEqual(refused.json.errors.map((e: { path: string }) => e.path), ['/mfa']);
  const created = await api('POST', '/clients', { body: { client_name: 'Strict', redirect_uris: [REDIRECT_URI], first_party: true, mfa: 'required' } });
  assert.equal(created.status, 201);
  assert.equal(created.json.mfa, 'required');
  const strict = await relyingParty(server.issuer, created.json.client_id, created.json.client_secret);
  const alias = unique('secure');
  const org = await api('POST', '/organizations', { body: { alias, name: 'Secure', mfa: 'required' } });
  assert.equal(org.json.mfa, 'required');
  assert.equal((await api('PATCH', `/organizations/${alias}`, { body: { mfa: 'sometimes' } })).status, 422);
  assert.equal((await api('GET', `/organizations/${alias}`)).json.mfa, 'required');

  // A client that requires a second factor: a user without one sets it up after the password.
  const user = await aUser(server.db);
  let req = await authorizationRequest(strict, { scope: 'openid' });
  const { agent, step } = await afterPassword(req.url, user.username);
  assert.match(step.body!, /action="\/interaction\/[^"]+\/enrol"/);
  const secret = step.body!.match(/id="totp-secret">([^<]+)</)![1]!.replace(/\s+/g, '');
  const codes = await agent.submit(step.url, step.body!, /\/enrol"/, { code: await codeAt(secret, now()) }, server.issuer);
  assert.equal(codes.body!.match(/<li>[a-z2-7]{5}-[a-z2-7]{5}<\/li>/g)?.length, 10);
  const next = codes.body!.match(/<form method="get" action="([^"]+)"/)![1]!;
  const landed = await agent.follow(next, server.issuer);
  const tokens = await oidc.authorizationCodeGrant(strict, new URL(landed.url), { pkceCodeVerifier: req.verifier, expectedState: req.state });
  assert.equal(tokens.claims()!.acr, MFA);
  // max_age asks for the password again, then the code of the authenticator just set up.
  req = await authorizationRequest(strict, { scope: 'openid', max_age: '0' });
  let again = await agent.follow(req.url, server.issuer);
  assert.match(again.body!, /action="\/interaction\/[^"]+\/login"/);
  again = await agent.submit(again.url, again.body!, /\/login"/, { username: user.username, password: 'correct horse battery' }, server.issuer);
  assert.match(again.body!, /action="\/interaction\/[^"]+\/code"/);

  // An organization that requires it: its member is asked too, whatever the client.
  const member = await aUser(server.db);
  await putMembership(server.db, org.json.id, member.id, { roles: [] });
  const relaxed = await aClient(server.db, { first_party: true });
  const config = await relyingParty(server.issuer, relaxed.client_id, relaxed.client_secret);
  req = await authorizationRequest(config, { scope: 'openid' });
  assert.match((await afterPassword(req.url, member.username)).step.body!, /action="\/interaction\/[^"]+\/enrol"/);
  // Anyone else signs in to that client with a password alone.
  req = await authorizationRequest(config, { scope: 'openid' });
  const plain = await afterPassword(req.url, (await aUser(server.db)).username);
  assert.equal(new URL(plain.step.url).origin, new URL(REDIRECT_URI).origin);
  // That password-only session cannot step up without the person: prompt=none answers login_required.
  req = await authorizationRequest(config, { scope: 'openid', acr_values: MFA, prompt: 'none' });
  const silent = await plain.agent.follow(req.url, server.issuer);
  assert.equal(new URL(silent.url).searchParams.get('error'), 'login_required');

  // An essential acr nothing here can give ends the request instead of asking again and again.
  req = await authorizationRequest(config, { scope: 'openid', claims: JSON.stringify({ id_token: { acr: { essential: true, value: 'urn:example:loa:4' } } }) });
  const unmet = await new UserAgent().follow(req.url, server.issuer);
  assert.equal(new URL(unmet.url).searchParams.get('error'), 'unmet_authentication_requirements');
  // A claims request may ask for acr, amr and auth_time only: other claims are asked for with scopes.
  req = await authorizationRequest(config, { scope: 'openid', claims: JSON.stringify({ id_token: { email: null } }) });
  const other = await new UserAgent().follow(req.url, server.issuer);
  assert.equal(new URL(other.url).searchParams.get('error'), 'invalid_request');
});

test('admin API and CLI: list a user\'s factors, remove one, reset all; each audited, no secret shown', async () => {
  const { api } = await adminApi(server);
  const user = await aUser(server.db);
  const secret = newTotpSecret();
  const enrol = async () => {
    assert.ok(await addConfirmedTotp(server.db, user.id, secret, 'Authenticator app', 1));
    await replaceRecoveryCodes(server.db, user.id);
  };
  await enrol();
  let listed = await api('GET', `/users/${user.id}/factors`);
  assert.equal(listed.status, 200);
  assert.equal(listed.json.items.length, 1);
  assert.equal(listed.json.items[0].kind, 'totp');
  assert.equal(listed.json.recovery_codes_left, 10);
  assert.ok(!JSON.stringify(listed.json).includes(secret), 'the secret is never answered');
  // A factor that is not the user's (or not an id) is a 404 and changes nothing.
  assert.equal((await api('DELETE', `/users/${user.id}/factors/not-a-uuid`)).status, 404);
  assert.equal((await api('DELETE', `/users/${user.id}/factors/${crypto.randomUUID()}`)).status, 404);
  assert.equal((await api('GET', `/users/${user.id}/factors`)).json.items.length, 1);
  assert.equal((await api('DELETE', `/users/${user.id}/factors/${listed.json.items[0].id}`)).status, 204);
  listed = await api('GET', `/users/${user.id}/factors`);
  assert.deepEqual(listed.json, { items: [], recovery_codes_left: 0 });
  const audited = server.logs.map((l) => JSON.parse(l)).filter((e) => e.msg === 'admin write' && e.user_id === user.id);
  assert.deepEqual(audited.map((e) => e.action), ['user.factor.remove']);
  await enrol();
  assert.deepEqual((await api('DELETE', `/users/${user.id}/factors`)).json, { removed: 1 });
  assert.ok(server.logs.some((l) => l.includes('"user.factors.reset"') && l.includes(user.id)));

  // The same from the command line, on the running server's database.
  await enrol();
  const db = server.settings.database;
  const env: Record<string, string> = 'url' in db ? { DATABASE_URL: db.url } : { TESSERA_DATA_DIR: db.dataDir };
  const cliList = await cliJson<{ items: Array<{ id: string }>; recovery_codes_left: number }>(['user', 'factors', 'list', '--user', user.username], env);
  assert.equal(cliList.items.length, 1);
  assert.equal(cliList.recovery_codes_left, 10);
  const missing = await runCli(['user', 'factors', 'remove', '--user', user.username, '--factor', 'nope'], env);
  assert.notEqual(missing.code, 0);
  const reset = await runCli(['user', 'factors', 'reset', '--user', user.username], env);
  assert.equal(reset.code, 0, reset.stderr);
  assert.deepEqual(JSON.parse(reset.stdout), { removed: 1 });
  assert.match(reset.stderr, /"admin write".*"actor":"cli".*"action":"user.factors.reset"/);
  assert.ok(![cliList, reset.stdout, reset.stderr].some((o) => JSON.stringify(o).includes(secret)));
  assert.equal((await api('GET', `/users/${user.id}/factors`)).json.items.length, 0);
});

test('passkeys: added during sign-in, then a second factor and a sign-in of their own (phr); a removed one is refused', { skip }, async () => {
  const user = await aUser(server.db);
  const client = await aClient(server.db, { first_party: true });
  const config = await relyingParty(server.issuer, client.client_id, client.client_secret);
  const { context, page, callback } = await newBrowser();
  // Chrome DevTools' virtual authenticator: a platform passkey with user verification, answering at once.
  const cdp = await context.newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
  });
  const signInWith = async (params: Record<string, string>, how: 'password' | 'passkey') => {
    const req = await authorizationRequest(config, { scope: 'openid', ...params });
    const landed = callback();
    await page.goto(req.url);
    if (how === 'passkey') {
      await page.getByRole('button', { name: 'Use a passkey' }).click();
    } else {
      await page.getByLabel('Username').fill(user.username);
      await page.getByLabel('Password').fill('correct horse battery');
      await page.getByRole('button', { name: 'Sign in' }).click();
    }
    return { req, landed };
  };
  const claimsOf = async ({ req, landed }: { req: { verifier: string; state: string }; landed: Promise<URL> }) =>
    (await oidc.authorizationCodeGrant(config, await landed, { pkceCodeVerifier: req.verifier, expectedState: req.state })).claims()!;

  // The app asks for a phishing-resistant sign-in: after the password, the only way offered is to create a passkey.
  let flow = await signInWith({ acr_values: 'urn:tessera:acr:phr' }, 'password');
  await page.getByRole('heading', { name: 'Create a passkey' }).waitFor();
  assert.equal(await page.locator('#totp-secret').count(), 0, 'no authenticator app offered for phr');
  await page.getByRole('button', { name: 'Create a passkey' }).click();
  await page.getByRole('heading', { name: 'Save your recovery codes' }).waitFor();
  await page.getByRole('button', { name: 'Continue' }).click();
  let claims = await claimsOf(flow);
  assert.equal(claims.acr, 'urn:tessera:acr:phr');
  assert.deepEqual(claims.amr, ['pwd', 'hwk', 'user', 'mfa']);
  const stored = await server.db('signin_passkeys').where({ user_id: user.id });
  assert.equal(stored.length, 1);
  assert.equal((await cdp.send('WebAuthn.getCredentials', { authenticatorId })).credentials.length, 1);

  // Signed out (a fresh session), the passkey alone signs in: no username, no password.
  await context.clearCookies();
  flow = await signInWith({}, 'passkey');
  claims = await claimsOf(flow);
  assert.equal(claims.sub, user.id);
  assert.equal(claims.acr, 'urn:tessera:acr:phr');
  assert.deepEqual(claims.amr, ['hwk', 'user', 'mfa']);

  // After a password, the passkey is the second factor; an essential mfa is met exactly as asked.
  await context.clearCookies();
  flow = await signInWith({ claims: JSON.stringify({ id_token: { acr: { essential: true, value: MFA } } }) }, 'password');
  await page.getByRole('heading', { name: 'Use your passkey' }).waitFor();
  await page.getByRole('button', { name: 'Use your passkey' }).click();
  claims = await claimsOf(flow);
  assert.equal(claims.acr, MFA);
  assert.deepEqual(claims.amr, ['pwd', 'hwk', 'user', 'mfa']);

  // Removed by an operator, the passkey is refused: the authenticator still has it, the server does not.
  const { api } = await adminApi(server);
  assert.equal((await api('DELETE', `/users/${user.id}/factors/${stored[0].id}`)).status, 204);
  await context.clearCookies();
  const req = await authorizationRequest(config, { scope: 'openid' });
  await page.goto(req.url);
  const answer = page.waitForResponse((r) => r.url().endsWith('/passkey'));
  await page.getByRole('button', { name: 'Use a passkey' }).click();
  assert.equal((await answer).status(), 401);
  await page.getByRole('alert').filter({ hasText: 'The passkey was not accepted' }).waitFor();

  // On /account, outside a sign-in: a recent password sign-in adds a passkey, renames it, and it signs in.
  flow = await signInWith({}, 'password');
  await claimsOf(flow);
  await page.goto(`${server.issuer}/account`);
  await page.getByRole('button', { name: 'Add a passkey' }).click();
  await page.getByRole('heading', { name: 'Add a passkey' }).waitFor();
  await page.getByRole('button', { name: 'Add a passkey' }).click();
  await page.getByRole('heading', { name: 'Save your recovery codes' }).waitFor();
  await page.getByRole('button', { name: 'Continue' }).click();
  const [added] = await server.db('signin_passkeys').where({ user_id: user.id });
  assert.ok(added && added.id !== stored[0].id);
  const name = page.getByRole('textbox', { name: 'Name' });
  await name.fill('   ');
  await page.getByRole('button', { name: 'Rename' }).click();
  await page.getByRole('alert').filter({ hasText: 'A name has 1 to 64 characters' }).waitFor();
  assert.equal((await server.db('signin_passkeys').where({ id: added.id }).first()).label, 'Passkey', 'a blank name changes nothing');
  await name.fill('Work laptop');
  await page.getByRole('button', { name: 'Rename' }).click();
  await page.getByRole('status').filter({ hasText: 'Renamed.' }).waitFor();
  assert.equal(await name.inputValue(), 'Work laptop');
  assert.equal((await server.db('signin_passkeys').where({ id: added.id }).first()).label, 'Work laptop');
  await context.clearCookies();
  claims = await claimsOf(await signInWith({}, 'passkey'));
  assert.equal(claims.sub, user.id);
  assert.equal(claims.acr, 'urn:tessera:acr:phr');
  await context.close();
});

test('/account: the signed-in user sees sessions and factors, removes a factor, changes the password (other sessions end)', async () => {
  const user = await aUser(server.db);
  const client = await aClient(server.db, { first_party: true, scope: 'openid offline_access' });
  const config = await relyingParty(server.issuer, client.client_id, client.client_secret);
  const signedInAgent = async () => {
    const req = await authorizationRequest(config, { scope: 'openid offline_access' });
    const { agent, step } = await afterPassword(req.url, user.username);
    const tokens = await oidc.authorizationCodeGrant(config, new URL(step.url), { pkceCodeVerifier: req.verifier, expectedState: req.state });
    return { agent, tokens };
  };
  const a = await signedInAgent();
  const b = await signedInAgent();
  const account = `${server.issuer}/account`;

  assert.equal((await new UserAgent().follow(account, server.issuer)).res!.status, 401, 'no session, no account page');
  let page = await a.agent.follow(account, server.issuer);
  assert.equal(page.res!.status, 200);
  assert.match(page.body!, new RegExp(user.username));
  assert.equal(page.body!.match(/<ul class="sessions">([\s\S]*?)<\/ul>/)![1]!.match(/<li>/g)!.length, 2, 'both browsers are listed');
  assert.match(page.body!, /\(this browser\)/);

  // A factor is listed and its user removes it.
  await addConfirmedTotp(server.db, user.id, newTotpSecret(), 'Authenticator app', 1);
  await replaceRecoveryCodes(server.db, user.id);
  page = await a.agent.follow(account, server.issuer);
  assert.match(page.body!, /Authenticator app/);
  assert.match(page.body!, /Recovery codes left: 10/);
  // New recovery codes replace the old ones and are shown once.
  const oldHashes = (await server.db('signin_recovery_codes').where({ user_id: user.id }).select('code_hash')).map((r) => r.code_hash).sort();
  const renewed = await a.agent.submit(page.url, page.body!, /\/account\/recovery-codes"/, {}, server.issuer);
  assert.equal(renewed.body!.match(/<li>[a-z2-7]{5}-[a-z2-7]{5}<\/li>/g)?.length, 10);
  const newHashes = (await server.db('signin_recovery_codes').where({ user_id: user.id }).select('code_hash')).map((r) => r.code_hash).sort();
  assert.equal(newHashes.length, 10);
  assert.ok(!newHashes.some((h) => oldHashes.includes(h)), 'the old codes are gone');
  page = await a.agent.follow(account, server.issuer);
  const removed = await a.agent.submit(page.url, page.body!, /\/account\/factors\/remove"/, {}, server.issuer);
  assert.equal(removed.res!.status, 200);
  assert.equal((await server.db('signin_factors').where({ user_id: user.id })).length, 0);

  // Adding an authenticator app needs a recent sign-in: 20 minutes on, the current password too.
  await server.db('oidc_payloads').where({ model: 'Session' }).andWhereRaw("payload->>'accountId' = ?", [user.id])
    .update({ payload: server.db.raw("jsonb_set(payload, '{loginTs}', to_jsonb(?::bigint))", [now() - 20 * 60]) });
  page = await a.agent.follow(account, server.issuer);
  assert.match(page.body!, /You signed in more than 15 minutes ago/);
  const startEnrol = (fields: Record<string, string>) =>
    a.agent.follow(`${server.issuer}/account/authenticator/new`, server.issuer, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ csrf: page.body!.match(/name="csrf" value="([^"]+)"/)![1]!, ...fields }).toString(),
    });
  assert.equal((await startEnrol({})).res!.status, 401, 'no password, no enrolment');
  assert.equal((await startEnrol({ current: 'wrong' })).res!.status, 401);
  assert.equal((await startEnrol({ current: 'correct horse battery', csrf: 'forged' })).res!.status, 403);
  let enrol = await startEnrol({ current: 'correct horse battery' });
  assert.equal(enrol.res!.status, 200);
  assert.match(enrol.body!, /<div class="qr"[^>]*><svg/);
  const secret = enrol.body!.match(/id="totp-secret">([^<]+)</)![1]!.replace(/\s+/g, '');
  const confirm = (body: string, fields: Record<string, string>) => a.agent.submit(enrol.url, body, /\/account\/authenticator"/, fields, server.issuer);
  // A wrong code, or a secret other than the one the server drew, stores nothing.
  const rightCode = await codeAt(secret, now());
  enrol = await confirm(enrol.body!, { code: rightCode === '000000' ? '111111' : '000000' });
  assert.equal(enrol.res!.status, 400);
  assert.equal((await confirm(enrol.body!, { code: rightCode, secret: newTotpSecret() })).res!.status, 403);
  assert.equal((await server.db('signin_factors').where({ user_id: user.id })).length, 0);
  const added = await confirm(enrol.body!, { code: rightCode });
  assert.equal(added.res!.status, 200);
  assert.equal(added.body!.match(/<li>[a-z2-7]{5}-[a-z2-7]{5}<\/li>/g)?.length, 10, 'the first factor comes with recovery codes');
  assert.equal((await server.db('signin_factors').where({ user_id: user.id }).whereNotNull('confirmed_at')).length, 1);
  page = await a.agent.follow(account, server.issuer);
  assert.doesNotMatch(page.body!, /authenticator\/new/, 'one authenticator per user');

  // Signing out the other browser from this one: its session and its refresh token end; this one stays.
  assert.equal(page.body!.match(/action="\/account\/sessions\/end"/g)?.length, 1, 'only the other session has Sign out');
  const sessionIds = (await server.db('oidc_payloads').where({ model: 'Session' }).andWhereRaw("payload->>'accountId' = ?", [user.id]).select('id')).map((r) => r.id as string);
  assert.equal(sessionIds.length, 2);
  assert.ok(sessionIds.every((id) => !page.body!.includes(id)), 'no session id (a cookie value) on the page');
  const forged = await a.agent.submit(page.url, page.body!, /\/account\/sessions\/end"/, { session: 'not-a-session' }, server.issuer);
  assert.equal(forged.res!.status, 404);
  assert.equal((await b.agent.follow(account, server.issuer)).res!.status, 200, 'a forged reference ends nothing');
  const ended = await a.agent.submit(page.url, page.body!, /\/account\/sessions\/end"/, {}, server.issuer);
  assert.equal(ended.res!.status, 200);
  assert.equal((await b.agent.follow(account, server.issuer)).res!.status, 401);
  await assert.rejects(oidc.refreshTokenGrant(config, b.tokens.refresh_token!), (err: { error?: string }) => err.error === 'invalid_grant');
  assert.equal((await a.agent.follow(account, server.issuer)).res!.status, 200);
  const refreshed = await oidc.refreshTokenGrant(config, a.tokens.refresh_token!);
  if (refreshed.refresh_token) (a.tokens as { refresh_token?: string }).refresh_token = refreshed.refresh_token;

  // The password: a forged form, a wrong current password and a mismatch change nothing.
  page = await a.agent.follow(account, server.issuer);
  const change = (fields: Record<string, string>) => a.agent.submit(page.url, page.body!, /\/account\/password"/, fields, server.issuer);
  assert.equal((await change({ csrf: 'forged', current: 'correct horse battery', password: 'a new long password', confirm: 'a new long password' })).res!.status, 403);
  assert.equal((await change({ current: 'wrong', password: 'a new long password', confirm: 'a new long password' })).res!.status, 401);
  assert.equal((await change({ current: 'correct horse battery', password: 'a new long password', confirm: 'different' })).res!.status, 400);
  const changed = await change({ current: 'correct horse battery', password: 'a new long password', confirm: 'a new long password' });
  assert.equal(changed.res!.status, 200);
  assert.match(changed.body!, /Your password is changed/);
  // This browser stays signed in; the other one and every refresh token are ended.
  assert.equal((await a.agent.follow(account, server.issuer)).res!.status, 200);
  assert.equal((await b.agent.follow(account, server.issuer)).res!.status, 401);
  await assert.rejects(oidc.refreshTokenGrant(config, b.tokens.refresh_token!), (err: { error?: string }) => err.error === 'invalid_grant');
  await assert.rejects(oidc.refreshTokenGrant(config, a.tokens.refresh_token!), (err: { error?: string }) => err.error === 'invalid_grant');
});
