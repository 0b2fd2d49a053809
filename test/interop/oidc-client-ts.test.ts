import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { decodeJwt } from 'jose';
import { launchChromium, withoutChromium } from '../support/chromium.ts';
import type { Browser } from 'playwright-core';
import { startTestServer, type TestServer } from '../support/server.ts';
import { aUser, unique } from '../support/fixtures.ts';
import { adminApi } from '../support/admin.ts';
import { createOrganization, putMembership } from '../../src/storage/organizations.ts';

/**
 * oidc-client-ts (the library most SPAs use, directly or through react-oidc-context) in Debian's
 * Chromium, with its defaults: code flow with PKCE, refresh by refresh token when it has one.
 * The SPA is a page served on loopback by this test, loading the library's own browser build.
 */
const skip = withoutChromium;
// The package's own browser build (a script defining the global `oidc`), next to the file it exports.
const library = readFileSync(path.join(path.dirname(createRequire(import.meta.url).resolve('oidc-client-ts')), '..', 'browser', 'oidc-client-ts.js'), 'utf8');

let server: TestServer;
let browser: Browser;
let spa: http.Server;
let spaOrigin: string;
before(async () => {
  if (skip) return;
  server = await startTestServer();
  spa = http.createServer((req, res) => {
    if (req.url === '/oidc-client-ts.js') {
      res.writeHead(200, { 'content-type': 'text/javascript' }).end(library);
      return;
    }
    res.writeHead(200, { 'content-type': 'text/html' }).end(`<!doctype html><title>SPA</title><script src="/oidc-client-ts.js"></script>
<script>
  const settings = JSON.parse(decodeURIComponent(location.hash.slice(1) || sessionStorage.getItem('settings') || '{}'));
  if (location.hash) sessionStorage.setItem('settings', JSON.stringify(settings));
  window.mgr = new oidc.UserManager({ ...settings, redirect_uri: location.origin + '/app', post_logout_redirect_uri: location.origin + '/app' });
  window.ready = new URLSearchParams(location.search).has('code') ? mgr.signinCallback() : Promise.resolve(null);
</script>`);
  });
  await new Promise<void>((r) => spa.listen(0, '127.0.0.1', r));
  spaOrigin = `http://localhost:${(spa.address() as AddressInfo).port}`;
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  await new Promise((r) => (spa ? spa.close(r) : r(undefined)));
  await server?.stop();
});

type SpaUser = { access_token: string; refresh_token?: string; id_token?: string; scope?: string; profile: Record<string, unknown> };

test('a public SPA with oidc-client-ts: sign-in with PKCE, organization and consent pages, silent refresh by refresh token, organization switch, sign-out', { skip }, async () => {
  const { api } = await adminApi(server);
  const acme = await createOrganization(server.db, { alias: unique('acme'), name: 'Acme' });
  const beta = await createOrganization(server.db, { alias: unique('beta'), name: 'Beta' });
  const user = await aUser(server.db);
  await putMembership(server.db, acme.id, user.id, { roles: ['admin'] });
  await putMembership(server.db, beta.id, user.id, { roles: ['viewer'] });
  const created = await api('POST', '/clients', {
    body: { client_name: 'The SPA', token_endpoint_auth_method: 'none', redirect_uris: [`${spaOrigin}/app`], post_logout_redirect_uris: [`${spaOrigin}/app`], scope: 'openid profile offline_access organization' },
  });
  assert.equal(created.status, 201, JSON.stringify(created.json));
  assert.equal(created.json.application_type, 'web');
  const settings = { authority: server.issuer, client_id: created.json.client_id, scope: 'openid profile offline_access organization' };

  const page = await (await browser.newContext()).newPage();
  await page.goto(`${spaOrigin}/app#${encodeURIComponent(JSON.stringify(settings))}`);
  await page.evaluate(() => void (window as unknown as { mgr: { signinRedirect(): Promise<void> } }).mgr.signinRedirect());
  await page.getByLabel('Username').fill(user.username);
  await page.getByLabel('Password').fill('correct horse battery');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByLabel(/Acme/).check();
  await page.getByRole('button', { name: 'Continue' }).click();
  await assert.doesNotReject(page.getByText('Stay signed in').waitFor(), 'the consent page asks for offline access');
  await page.getByRole('button', { name: 'Allow' }).click();
  await page.waitForURL(`${spaOrigin}/app?**`);
  const signedIn = (await page.evaluate(() => (window as unknown as { ready: Promise<unknown> }).ready)) as SpaUser;
  assert.equal(signedIn.profile.sub, user.id);
  assert.deepEqual(Object.keys(signedIn.profile.organization as object), [acme.alias]);
  assert.ok(signedIn.refresh_token, 'a refresh token without prompt=consent');
  assert.deepEqual(signedIn.scope!.split(' ').sort(), ['offline_access', 'openid', 'organization', 'profile']);

  // signinSilent uses the refresh token when the user has one: no iframe, no third-party cookie.
  const silent = (await page.evaluate(() => (window as unknown as { mgr: { signinSilent(): Promise<unknown> } }).mgr.signinSilent())) as SpaUser;
  assert.notEqual(silent.access_token, signedIn.access_token);
  assert.notEqual(silent.refresh_token, signedIn.refresh_token, 'rotated');
  assert.deepEqual(Object.keys(silent.profile.organization as object), [acme.alias]);

  const switched = (await page.evaluate(
    (alias) => (window as unknown as { mgr: { signinSilent(a: unknown): Promise<unknown> } }).mgr.signinSilent({ extraTokenParams: { organization: alias } }),
    beta.alias,
  )) as SpaUser;
  assert.deepEqual(Object.keys(decodeJwt(switched.id_token!).organization as object), [beta.alias]);

  await page.evaluate(() => void (window as unknown as { mgr: { signoutRedirect(): Promise<void> } }).mgr.signoutRedirect());
  await page.getByRole('button', { name: 'Yes, sign me out' }).click();
  await page.waitForURL(`${spaOrigin}/app**`);
  assert.equal(await page.evaluate(async () => (await (window as unknown as { mgr: { getUser(): Promise<unknown> } }).mgr.getUser()) === null), true, 'signed out in the app');
  const again = await fetch(`${server.issuer}/auth?${new URLSearchParams({ client_id: created.json.client_id, response_type: 'code', scope: 'openid', redirect_uri: `${spaOrigin}/app`, prompt: 'none', code_challenge: 'x'.repeat(43), code_challenge_method: 'S256' })}`, {
    headers: { cookie: (await page.context().cookies(server.issuer)).map((c) => `${c.name}=${c.value}`).join('; ') },
    redirect: 'manual',
  });
  assert.equal(new URL(again.headers.get('location')!).searchParams.get('error'), 'login_required', 'the Tessera session is gone');
});
