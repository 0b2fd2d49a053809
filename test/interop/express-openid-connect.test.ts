import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import eoc from 'express-openid-connect';
import { decodeProtectedHeader } from 'jose';
import { launchChromium, withoutChromium } from '../support/chromium.ts';
import type { Browser } from 'playwright-core';
import { startTestServer, type TestServer } from '../support/server.ts';
import { aUser } from '../support/fixtures.ts';
import { adminApi } from '../support/admin.ts';

/**
 * express-openid-connect with its defaults (RS256 ID tokens, userinfo) against a client registered
 * for RS256: a real Express app on loopback, signed into by a person in Debian's Chromium. The one
 * setting it needs is `response_type: 'code'` (its default is the implicit `id_token`, which Tessera
 * does not offer).
 */
const skip = withoutChromium;

let server: TestServer;
let browser: Browser;
let app: http.Server;
before(async () => {
  if (skip) return;
  server = await startTestServer();
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  await new Promise((r) => (app ? app.close(r) : r(undefined)));
  await server?.stop();
});

test('an Express app signs a person in with RS256 ID tokens and reads userinfo', { skip }, async () => {
  const { api } = await adminApi(server);
  const user = await aUser(server.db);
  // The app's port is bound first (port 0) because its address goes into the client's redirect URI.
  app = http.createServer();
  await new Promise<void>((r) => app.listen(0, '127.0.0.1', r));
  const baseURL = `http://localhost:${(app.address() as AddressInfo).port}`;
  const created = await api('POST', '/clients', {
    body: { client_name: 'Express app', redirect_uris: [`${baseURL}/callback`], post_logout_redirect_uris: [baseURL], scope: 'openid profile email', id_token_signed_response_alg: 'RS256' },
  });
  assert.equal(created.status, 201, JSON.stringify(created.json));

  const web = express();
  web.use(
    eoc.auth({
      issuerBaseURL: server.issuer,
      baseURL,
      clientID: created.json.client_id,
      clientSecret: created.json.client_secret,
      secret: 'a long random string that encrypts the session cookie',
      authorizationParams: { response_type: 'code' },
    }),
  );
  web.get('/', (req, res) => {
    res.json({ user: req.oidc.user, alg: decodeProtectedHeader(req.oidc.idToken!).alg });
  });
  web.get('/me', eoc.requiresAuth(), async (req, res) => {
    res.json(await req.oidc.fetchUserInfo());
  });
  app.on('request', web);

  const page = await (await browser.newContext()).newPage();
  await page.goto(baseURL);
  await page.getByLabel('Username').fill(user.username);
  await page.getByLabel('Password').fill('correct horse battery');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('button', { name: 'Allow' }).click();
  await page.waitForURL(`${baseURL}/`);
  const home = JSON.parse(await page.locator('body').innerText());
  assert.equal(home.alg, 'RS256');
  assert.equal(home.user.sub, user.id);
  assert.equal(home.user.email, 'someone@example.com');

  await page.goto(`${baseURL}/me`);
  const me = JSON.parse(await page.locator('body').innerText());
  assert.equal(me.sub, user.id);
  assert.equal(me.name, 'Some One');
});
