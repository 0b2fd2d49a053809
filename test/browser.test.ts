import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import { launchChromium, withoutChromium } from './support/chromium.ts';
import type { Browser, Page } from 'playwright-core';
import { startTestServer, type TestServer } from './support/server.ts';
import { aClient, aUser, authorizationRequest, relyingParty, unique, REDIRECT_URI } from './support/fixtures.ts';
import { createOrganization, putMembership } from '../src/storage/organizations.ts';

const skip = withoutChromium;

let server: TestServer;
let browser: Browser;
before(async () => {
  if (skip) return;
  server = await startTestServer();
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

/** A fresh browser profile whose app callback (which does not exist) is answered here and recorded. */
async function newPage(): Promise<{ page: Page; landed: Promise<string> }> {
  const context = await browser.newContext();
  const page = await context.newPage();
  const landed = new Promise<string>((resolve) => {
    void context.route(`${REDIRECT_URI}**`, async (route) => {
      resolve(route.request().url());
      await route.fulfill({ status: 200, contentType: 'text/html', body: '<p>app</p>' });
    });
  });
  return { page, landed };
}

test('a person signs in and consents in Chromium, and the app gets a working code', { skip }, async () => {
  const user = await aUser(server.db);
  const client = await aClient(server.db);
  const config = await relyingParty(server.issuer, client.client_id, client.client_secret);
  const req = await authorizationRequest(config, { scope: 'openid email', prompt: 'consent' });
  const { page, landed } = await newPage();

  const response = await page.goto(req.url);
  assert.match(response!.headers()['content-security-policy'] ?? '', /frame-ancestors 'none'/);
  await page.getByLabel('Username').fill(user.username);
  await page.getByLabel('Password').fill('wrong password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await assert.doesNotReject(page.getByRole('alert').filter({ hasText: 'Wrong username or password' }).waitFor());

  await page.getByLabel('Password').fill('correct horse battery');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('button', { name: 'Allow' }).click();

  const callback = new URL(await landed);
  assert.equal(callback.searchParams.get('state'), req.state);
  const tokens = await oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: req.verifier, expectedState: req.state });
  assert.equal(tokens.claims()!.sub, user.id);
  assert.equal(tokens.claims()!.email, 'someone@example.com');
});

test('a member of two organizations picks one on the organization page in Chromium', { skip }, async () => {
  const acme = await createOrganization(server.db, { alias: unique('acme'), name: 'Acme' });
  const beta = await createOrganization(server.db, { alias: unique('beta'), name: 'Beta' });
  const user = await aUser(server.db);
  await putMembership(server.db, acme.id, user.id, { roles: ['admin'] });
  await putMembership(server.db, beta.id, user.id, { roles: ['viewer'] });
  const client = await aClient(server.db, { scope: 'openid organization offline_access' });
  const config = await relyingParty(server.issuer, client.client_id, client.client_secret);
  const req = await authorizationRequest(config, { scope: 'openid organization', prompt: 'consent' });
  const { page, landed } = await newPage();

  await page.goto(req.url);
  await page.getByLabel('Username').fill(user.username);
  await page.getByLabel('Password').fill('correct horse battery');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Choose an organization' }).waitFor();
  await page.getByLabel(/Beta/).check();
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.getByRole('button', { name: 'Allow' }).click();

  const tokens = await oidc.authorizationCodeGrant(config, new URL(await landed), { pkceCodeVerifier: req.verifier, expectedState: req.state });
  assert.deepEqual(tokens.claims()!.organization, { [beta.alias]: { id: beta.id, name: 'Beta', roles: ['viewer'] } });
});
