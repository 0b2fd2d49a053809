/**
 * Every page a person sees (sign-in, consent, organization choice, errors, sign-out) forbids
 * framing and inline scripts, and the session and interaction cookies are HttpOnly and SameSite,
 * and Secure when Tessera runs behind a TLS proxy.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from './support/server.ts';
import { aClient, aUser, REDIRECT_URI, unique } from './support/fixtures.ts';
import { UserAgent, signIn } from './support/browserless.ts';
import { createOrganization, putMembership } from '../src/storage/organizations.ts';

const PASSWORD = 'correct horse battery';
let plain: TestServer;
let tls: TestServer;
let tlsOrigin: string;
before(async () => {
  plain = await startTestServer();
  // Behind a TLS-terminating proxy: the issuer is https (the proxy's origin; nothing listens there, the
  // test's agent sends its requests to Tessera's own port), the proxy talks plain http to Tessera.
  tlsOrigin = 'https://127.0.0.1:8443';
  tls = await startTestServer({ ISSUER: tlsOrigin, TESSERA_TRUST_PROXY: '1' });
});
after(async () => {
  await plain.stop();
  await tls.stop();
});

/** The headers every HTML page must carry. */
function assertPageHeaders(what: string, res: Response) {
  assert.match(res.headers.get('content-type') ?? '', /text\/html/, `${what}: an HTML page`);
  const csp = res.headers.get('content-security-policy') ?? '';
  const directives = new Map(csp.split(';').map((d) => d.trim().split(/\s+/)).map(([name, ...values]) => [name!, values]));
  assert.ok(['none', 'self'].some((v) => directives.get('default-src')?.includes(`'${v}'`)), `${what}: default-src 'none' or 'self' in ${csp}`);
  assert.deepEqual(directives.get('frame-ancestors'), ["'none'"], `${what}: frame-ancestors 'none'`);
  assert.ok(!csp.includes('unsafe-inline') && !csp.includes('unsafe-eval'), `${what}: no unsafe-inline or unsafe-eval in ${csp}`);
  const scripts = directives.get('script-src') ?? directives.get('default-src') ?? [];
  assert.ok(!scripts.includes('*') && !scripts.some((s) => s.startsWith('http')), `${what}: scripts only from our origin`);
  assert.equal(res.headers.get('x-frame-options'), 'DENY', `${what}: X-Frame-Options`);
  assert.equal(res.headers.get('x-content-type-options'), 'nosniff', `${what}: nosniff`);
  assert.equal(res.headers.get('referrer-policy'), 'no-referrer', `${what}: Referrer-Policy`);
}

/** Every Set-Cookie line seen, by cookie name. */
class CookieWatcher extends UserAgent {
  readonly setCookies: string[] = [];
  readonly pages: Array<{ url: string; res: Response }> = [];
  constructor(readonly rewrite?: { from: string; to: string }) {
    super();
  }
  override async request(url: string, init: RequestInit = {}) {
    const headers = new Headers(init.headers);
    let target = url;
    if (this.rewrite) {
      // The proxy's side: https outside, plain http to Tessera with X-Forwarded-Proto and -Host.
      target = url.replace(this.rewrite.from, this.rewrite.to);
      headers.set('x-forwarded-proto', 'https');
      headers.set('x-forwarded-host', new URL(this.rewrite.from).host);
    }
    const res = await super.request(target, { ...init, headers });
    this.setCookies.push(...res.headers.getSetCookie());
    if ((res.headers.get('content-type') ?? '').includes('html')) this.pages.push({ url, res });
    return res;
  }
}

function authUrl(issuer: string, clientId: string, scope = 'openid') {
  const url = new URL(`${issuer}/auth`);
  url.search = new URLSearchParams({ client_id: clientId, response_type: 'code', scope, redirect_uri: REDIRECT_URI, state: 's', code_challenge: 'x'.repeat(43), code_challenge_method: 'S256', prompt: 'consent' }).toString();
  return url.href;
}

test('sign-in, organization, consent and error pages send a strict CSP and refuse framing', async () => {
  const user = await aUser(plain.db, PASSWORD);
  const aliases = [unique('one'), unique('two')];
  for (const alias of aliases) {
    const org = await createOrganization(plain.db, { alias, name: alias });
    await putMembership(plain.db, org.id, user.id, { roles: ['member'] });
  }
  const client = await aClient(plain.db, { scope: 'openid organization' });
  const agent = new CookieWatcher();
  const login = await agent.follow(authUrl(plain.issuer, client.client_id, 'openid organization'), plain.issuer);
  assert.match(login.body!, /Sign in/);
  const wrong = await agent.submit(login.url, login.body!, /\/login"/, { username: user.username, password: 'wrong' }, plain.issuer);
  assert.match(wrong.body!, /Wrong username or password/);
  const orgPage = await agent.submit(wrong.url, wrong.body!, /\/login"/, { username: user.username, password: PASSWORD }, plain.issuer);
  assert.match(orgPage.body!, /Choose an organization/);
  const consent = await agent.submit(orgPage.url, orgPage.body!, /\/organization"/, { organization: aliases[0]! }, plain.issuer);
  assert.match(consent.body!, /Allow access/);
  const forged = await agent.request(`${consent.url}/confirm`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'csrf=forged' });
  assert.equal(forged.status, 403);
  const expired = await agent.request(`${plain.issuer}/interaction/no-such-interaction`);
  assert.equal(expired.status, 400);
  const unknownClient = await agent.request(authUrl(plain.issuer, 'no-such-client'));
  assert.equal(unknownClient.status, 400);
  const missing = await agent.request(`${plain.issuer}/no/such/page`, { headers: { accept: 'text/html' } });
  assert.ok(missing.status >= 400);

  const seen = new Set<string>();
  for (const { url, res } of agent.pages) {
    assertPageHeaders(`${res.status} ${new URL(url).pathname}`, res);
    seen.add(`${res.status}`);
  }
  for (const status of ['200', '401', '403', '400']) assert.ok(seen.has(status), `a ${status} page was checked`);
  assert.ok(agent.pages.length >= 7, `${agent.pages.length} pages checked`);
});

test('the sign-out pages send the same headers', async () => {
  const user = await aUser(plain.db, PASSWORD);
  const client = await aClient(plain.db);
  const agent = new CookieWatcher();
  await signIn(authUrl(plain.issuer, client.client_id), plain.issuer, user.username, PASSWORD, agent);
  const logout = await agent.follow(`${plain.issuer}/session/end?client_id=${client.client_id}`, plain.issuer);
  assert.match(logout.body!, /Sign out/);
  assertPageHeaders('sign-out', logout.res!);
  assert.ok(!/<script/i.test(logout.body!) || /<script[^>]*nonce=/i.test(logout.body!), 'no inline script without a nonce');
});

test('session and interaction cookies are HttpOnly and SameSite; on plain http they are not Secure', async () => {
  const user = await aUser(plain.db, PASSWORD);
  const client = await aClient(plain.db);
  const agent = new CookieWatcher();
  const landed = await signIn(authUrl(plain.issuer, client.client_id), plain.issuer, user.username, PASSWORD, agent);
  assert.ok(new URL(landed.url).searchParams.has('code'));
  const names = new Set(agent.setCookies.map((c) => c.split('=')[0]));
  for (const name of ['_interaction', '_session']) assert.ok([...names].some((n) => n?.startsWith(name)), `${name} cookie set (${[...names].join(', ')})`);
  for (const line of agent.setCookies) {
    assert.match(line, /;\s*httponly/i, `HttpOnly: ${line}`);
    assert.match(line, /;\s*samesite=(lax|strict)/i, `SameSite: ${line}`);
    assert.doesNotMatch(line, /;\s*secure/i, `a browser would drop a Secure cookie on http: ${line}`);
  }
});

test('behind a TLS proxy (https issuer, TESSERA_TRUST_PROXY=1, X-Forwarded-Proto: https) every cookie is Secure', async () => {
  const user = await aUser(tls.db, PASSWORD);
  const client = await aClient(tls.db);
  const agent = new CookieWatcher({ from: tlsOrigin, to: tls.url });
  const landed = await signIn(authUrl(tlsOrigin, client.client_id), tlsOrigin, user.username, PASSWORD, agent);
  assert.ok(new URL(landed.url).searchParams.has('code'), `signed in: ${landed.url}`);
  assert.ok(agent.setCookies.length >= 3, `${agent.setCookies.length} cookies set`);
  for (const line of agent.setCookies) {
    assert.match(line, /;\s*secure/i, `Secure: ${line}`);
    assert.match(line, /;\s*httponly/i, `HttpOnly: ${line}`);
    assert.match(line, /;\s*samesite=(lax|strict)/i, `SameSite: ${line}`);
  }
  for (const { res } of agent.pages) assertPageHeaders('https login page', res);
});
