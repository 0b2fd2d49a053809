import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import { launchChromium, withoutChromium } from './support/chromium.ts';
import type { Browser, Page } from 'playwright-core';
import { startTestServer, type TestServer } from './support/server.ts';
import { aClient, aUser, authorizationRequest, relyingParty, unique, REDIRECT_URI } from './support/fixtures.ts';
import { createOrganization, putMembership } from '../src/storage/organizations.ts';
import { createResourceServer } from '../src/storage/resource-servers.ts';

const skip = withoutChromium;
const BRAND = 'Acme Corp';
// A 1×1 PNG: the logos the pages show are answered by the browser's routes below, never fetched.
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64');


let server: TestServer;
let browser: Browser;
before(async () => {
  if (skip) return;
  server = await startTestServer({ TESSERA_BRAND_NAME: BRAND, TESSERA_BRAND_LOGO_URL: 'https://brand.test/logo.png', TESSERA_BRAND_ACCENT: '#0a7' });
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

/** A fresh browser profile whose app callback (which does not exist) is answered here and recorded. */
async function newPage(options: { locale?: string } = {}): Promise<{ page: Page; landed: Promise<string> }> {
  const context = await browser.newContext({ locale: options.locale ?? 'en-US' });
  for (const logo of ['https://brand.test/logo.png', 'https://app.test/logo.png']) {
    await context.route(logo, (route) => route.fulfill({ status: 200, contentType: 'image/png', body: PNG }));
  }
  const page = await context.newPage();
  const landed = new Promise<string>((resolve) => {
    void context.route(`${REDIRECT_URI}**`, async (route) => {
      const url = route.request().url();
      await route.fulfill({ status: 200, contentType: 'text/html', body: '<p>app</p>' });
      // Resolved once the page has loaded the callback, so a later page.goto is not cut short by this navigation.
      void page.waitForURL(url).then(() => resolve(url), () => resolve(url));
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
  // The consent page names the organization just chosen, with the user's role in it.
  await assert.doesNotReject(page.getByRole('listitem').filter({ hasText: 'Your organization: Beta, as viewer' }).waitFor());
  await page.getByRole('button', { name: 'Allow' }).click();

  const tokens = await oidc.authorizationCodeGrant(config, new URL(await landed), { pkceCodeVerifier: req.verifier, expectedState: req.state });
  assert.deepEqual(tokens.claims()!.organization, { [beta.alias]: { id: beta.id, name: 'Beta', roles: ['viewer'] } });
});

/** The page's <html lang>, and whether an image has loaded (the CSP let it through and it decoded). */
const langOf = (page: Page) => page.evaluate(() => document.documentElement.lang);
const imageLoaded = (page: Page, selector: string) => page.locator(selector).evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 0);

test('the pages name the deployment and the app, and consent says in words what the app gets', { skip }, async () => {
  const acme = await createOrganization(server.db, { alias: unique('acme'), name: 'Acme' });
  const user = await aUser(server.db, 'correct horse battery', { name: 'Alice Martin' });
  await putMembership(server.db, acme.id, user.id, { roles: ['admin'] });
  const api = await createResourceServer(server.db, { identifier: `https://${unique('orders')}.example.test`, name: 'Orders API', scopes: ['orders:read'] });
  const described = await createResourceServer(server.db, { identifier: `https://${unique('stock')}.example.test`, name: 'Stock API', description: 'see what is in stock', scopes: ['stock:read'] });
  const client = await aClient(server.db, {
    client_name: 'Shop',
    scope: 'openid profile email offline_access organization orders:read stock:read',
    allowed_resources: [api.identifier, described.identifier],
    logo_uri: 'https://app.test/logo.png',
    client_uri: 'https://app.test/',
    policy_uri: 'https://app.test/privacy',
    tos_uri: 'https://app.test/terms',
  });
  const config = await relyingParty(server.issuer, client.client_id, client.client_secret);
  const req = await authorizationRequest(config, { scope: 'openid profile email offline_access organization orders:read stock:read', prompt: 'consent' });
  // Two APIs: one described in words by its resource server, one shown by its scope names.
  const url = new URL(req.url);
  url.searchParams.append('resource', api.identifier);
  url.searchParams.append('resource', described.identifier);
  req.url = url.href;
  const { page, landed } = await newPage();

  await page.goto(req.url);
  // Whose sign-in page this is: the brand (name and logo) and the issuer's host, on every page.
  assert.equal(await page.locator('.brand-name').textContent(), BRAND);
  assert.ok(await imageLoaded(page, '.brand-logo'), 'the brand logo is shown');
  assert.match((await page.locator('footer').textContent()) ?? '', new RegExp(`${BRAND} sign-in at ${new URL(server.issuer).host}`));
  assert.match(await page.title(), new RegExp(`· ${BRAND}$`));
  // TESSERA_BRAND_ACCENT (#0a7) colours the buttons.
  assert.equal(await page.getByRole('button', { name: 'Sign in' }).evaluate((b) => getComputedStyle(b).backgroundColor), 'rgb(0, 170, 119)');
  // Which app asks: its name (a link to its home page), its logo, its policy and terms.
  assert.equal(await page.getByRole('link', { name: 'Shop' }).getAttribute('href'), 'https://app.test/');
  assert.ok(await imageLoaded(page, 'img[alt="Logo of Shop"]'), 'the app logo is shown');
  assert.equal(await page.getByRole('link', { name: 'Privacy policy' }).getAttribute('href'), 'https://app.test/privacy');
  assert.equal(await page.getByRole('link', { name: 'Terms of service' }).getAttribute('href'), 'https://app.test/terms');

  // A wrong password keeps the username and puts the cursor in the password field.
  await page.getByLabel('Username').fill(user.username);
  await page.getByLabel('Password').fill('wrong password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('alert').filter({ hasText: 'Wrong username or password' }).waitFor();
  assert.equal(await page.getByLabel('Username').inputValue(), user.username);
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'password');
  await page.keyboard.type('correct horse battery');
  await page.keyboard.press('Enter');

  await page.getByRole('heading', { name: 'Allow access?' }).waitFor();
  const items = await page.locator('ul.scopes li').allTextContents();
  assert.deepEqual(items, ['To know who you are', 'Your name and profile', 'Your email address', 'Stay signed in', 'Your organization: Acme, as admin', 'Orders API: orders:read', 'Stock API: see what is in stock']);
  assert.equal(await page.locator('.who .user').textContent(), `Alice Martin (${user.username})`);
  assert.equal(await langOf(page), 'en');
  assert.equal(await page.locator('.brand-name').textContent(), BRAND);
  assert.ok(await imageLoaded(page, 'img[alt="Logo of Shop"]'));
  assert.equal(await page.getByRole('link', { name: 'Privacy policy' }).getAttribute('href'), 'https://app.test/privacy');
  await page.getByRole('button', { name: 'Allow' }).click();

  // One resource per token request (RFC 8707 as oidc-provider implements it).
  const tokens = await oidc.authorizationCodeGrant(config, new URL(await landed), { pkceCodeVerifier: req.verifier, expectedState: req.state }, { resource: described.identifier });
  assert.equal(tokens.claims()!.sub, user.id);
});

test('a French browser (Accept-Language) gets every page in French, consent included', { skip }, async () => {
  const acme = await createOrganization(server.db, { alias: unique('acme'), name: 'Acme' });
  const user = await aUser(server.db);
  await putMembership(server.db, acme.id, user.id, { roles: ['admin'] });
  const client = await aClient(server.db, { scope: 'openid profile email offline_access organization' });
  const config = await relyingParty(server.issuer, client.client_id, client.client_secret);
  const req = await authorizationRequest(config, { scope: 'openid email offline_access organization', prompt: 'consent' });
  const { page, landed } = await newPage({ locale: 'fr-FR' });

  await page.goto(req.url);
  assert.equal(await langOf(page), 'fr');
  await page.getByRole('heading', { name: 'Connexion' }).waitFor();
  await page.getByLabel("Nom d'utilisateur").fill(user.username);
  await page.getByLabel('Mot de passe').fill('pas le bon');
  await page.getByRole('button', { name: 'Se connecter' }).click();
  await page.getByRole('alert').filter({ hasText: "Nom d'utilisateur ou mot de passe incorrect." }).waitFor();
  await page.getByLabel('Mot de passe').fill('correct horse battery');
  await page.getByRole('button', { name: 'Se connecter' }).click();

  await page.getByRole('heading', { name: "Autoriser l'accès\u00a0?" }).waitFor();
  assert.equal(await langOf(page), 'fr');
  const items = await page.locator('ul.scopes li').allTextContents();
  assert.deepEqual(items, ['Savoir qui vous êtes', 'Votre adresse e-mail', 'Rester connecté', 'Votre organisation\u00a0: Acme, en tant que admin']);
  assert.match((await page.locator('.who').textContent()) ?? '', new RegExp(`Connecté en tant que Some One \\(${user.username}\\)`));
  assert.match((await page.locator('footer').textContent()) ?? '', new RegExp(`Connexion ${BRAND} sur ${new URL(server.issuer).host}`));
  await page.getByRole('button', { name: 'Autoriser' }).click();
  const tokens = await oidc.authorizationCodeGrant(config, new URL(await landed), { pkceCodeVerifier: req.verifier, expectedState: req.state });
  assert.equal(tokens.claims()!.sub, user.id);

  // An error page is in French too, and names the deployment like the others.
  const expired = await page.goto(`${server.issuer}/interaction/no-such-interaction`);
  assert.equal(expired!.status(), 400);
  await page.getByRole('heading', { name: 'Connexion expirée' }).waitFor();
  assert.equal(await page.locator('.brand-name').textContent(), BRAND);
  assert.match((await page.locator('footer').textContent()) ?? '', new RegExp(new URL(server.issuer).host));
});

test("the app's ui_locales wins over the browser's language", { skip }, async () => {
  const client = await aClient(server.db);
  const config = await relyingParty(server.issuer, client.client_id, client.client_secret);
  const req = await authorizationRequest(config, { scope: 'openid', ui_locales: 'ja fr' });
  const { page } = await newPage({ locale: 'de-DE' });
  await page.goto(req.url);
  await page.getByRole('heading', { name: 'Connexion' }).waitFor();
  assert.equal(await langOf(page), 'fr');
});

test('"Not you?" on the consent page signs that person out and the same request goes on as someone else', { skip }, async () => {
  const first = await aUser(server.db, 'correct horse battery', { name: 'First Person' });
  const second = await aUser(server.db, 'another horse battery', { name: 'Second Person' });
  const client = await aClient(server.db);
  const config = await relyingParty(server.issuer, client.client_id, client.client_secret);
  const req = await authorizationRequest(config, { scope: 'openid profile', prompt: 'consent' });
  const { page, landed } = await newPage();

  await page.goto(req.url);
  await page.getByLabel('Username').fill(first.username);
  await page.getByLabel('Password').fill('correct horse battery');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Allow access?' }).waitFor();
  assert.equal(await page.locator('.who .user').textContent(), `First Person (${first.username})`);

  await page.getByRole('button', { name: 'Not you?' }).click();
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  assert.equal(await page.getByLabel('Username').inputValue(), '');
  await page.getByLabel('Username').fill(second.username);
  await page.getByLabel('Password').fill('another horse battery');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Allow access?' }).waitFor();
  assert.equal(await page.locator('.who .user').textContent(), `Second Person (${second.username})`);
  await page.getByRole('button', { name: 'Allow' }).click();

  const callback = new URL(await landed);
  const tokens = await oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: req.verifier, expectedState: req.state });
  assert.equal(tokens.claims()!.sub, second.id, 'the code is for the person who signed in second');
});
