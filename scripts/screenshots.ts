/**
 * `npm run screenshots`: walks the sign-in pages in Chromium (sign-in, wrong password, organization
 * choice, consent in English and French, and the second factor: setting up an authenticator, the
 * recovery codes, the code after the password; a forgotten password, /account with a passkey added
 * there, the email verification page, the passkey as second step) against a throwaway server (its
 * mail received here by smtp-server), and saves each page at desktop
 * (1280 wide) and phone (390 wide) widths into docs/screenshots/. Logos are drawn here, not fetched.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, withoutChromium } from '../test/support/chromium.ts';
import { startTestServer, type TestServer } from '../test/support/server.ts';
import { aClient, aUser, authorizationRequest, relyingParty, REDIRECT_URI, unique } from '../test/support/fixtures.ts';
import { createOrganization, putMembership } from '../src/storage/organizations.ts';
import { createResourceServer } from '../src/storage/resource-servers.ts';
import { generate } from 'otplib';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

const OUT = path.resolve(import.meta.dirname, '../docs/screenshots');
const BRAND_LOGO = 'https://brand.example/logo.svg';
const APP_LOGO = 'https://shop.example/logo.svg';
const WIDTHS = { desktop: { width: 1280, height: 800 }, phone: { width: 390, height: 844 } } as const;
const PASSWORD = 'correct horse battery';

const logo = (fill: string, letter: string) =>
  `<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64" viewBox="0 0 64 64"><rect width="64" height="64" rx="14" fill="${fill}"/>` +
  `<text x="32" y="43" font-family="sans-serif" font-size="34" font-weight="700" fill="#fff" text-anchor="middle">${letter}</text></svg>`;

async function setUp(server: TestServer) {
  const user = await aUser(server.db, PASSWORD, { username: unique('alice'), name: 'Alice Martin', email: 'alice@acme.example' });
  for (const [name, roles] of [['Acme', ['admin']], ['Globex', ['viewer']]] as const) {
    const org = await createOrganization(server.db, { alias: unique(name.toLowerCase()), name });
    await putMembership(server.db, org.id, user.id, { roles: [...roles] });
  }
  const api = await createResourceServer(server.db, { identifier: `https://${unique('orders')}.example`, name: 'Orders API', description: 'see and follow your orders', scopes: ['orders:read'] });
  const scope = 'openid profile email offline_access organization orders:read';
  const client = await aClient(server.db, {
    client_name: 'Shop',
    scope,
    allowed_resources: [api.identifier],
    logo_uri: APP_LOGO,
    client_uri: 'https://shop.example/',
    policy_uri: 'https://shop.example/privacy',
    tos_uri: 'https://shop.example/terms',
  });
  const config = await relyingParty(server.issuer, client.client_id, client.client_secret);
  return { user, config, scope, resource: api.identifier };
}

async function newPage(browser: Browser, viewport: { width: number; height: number }, locale: string): Promise<Page> {
  const context = await browser.newContext({ viewport, locale });
  await context.route(BRAND_LOGO, (r) => r.fulfill({ contentType: 'image/svg+xml', body: logo('#0f766e', 'A') }));
  await context.route(APP_LOGO, (r) => r.fulfill({ contentType: 'image/svg+xml', body: logo('#b45309', 'S') }));
  await context.route(`${REDIRECT_URI}**`, (r) => r.fulfill({ contentType: 'text/html', body: '<p>Back in the app.</p>' }));
  return context.newPage();
}

async function main() {
  if (withoutChromium) throw new Error(withoutChromium);
  mkdirSync(OUT, { recursive: true });
  // Mail (reset and verification links) is received here; each link is taken from the latest mail.
  const mails: string[] = [];
  let arrived: (() => void) | undefined;
  const smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    onData(stream, _session, done) {
      let raw = '';
      stream.setEncoding('utf8');
      stream.on('data', (d: string) => (raw += d));
      stream.on('end', () => (mails.push(raw), arrived?.(), done()));
    },
  });
  await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
  const mailLink = async (count: number, route: string) => {
    while (mails.length < count) await new Promise<void>((resolve) => (arrived = resolve));
    return mails[count - 1]!.replace(/=\r?\n/g, '').replace(/=3D/g, '=').match(new RegExp(`https?://\\S+/${route}\\?token=[A-Za-z0-9_-]+`))![0];
  };
  const server = await startTestServer({
    TESSERA_BRAND_NAME: 'Acme',
    TESSERA_BRAND_LOGO_URL: BRAND_LOGO,
    TESSERA_BRAND_ACCENT: '#0f766e',
    TESSERA_SMTP_URL: `smtp://127.0.0.1:${(smtp.server.address() as AddressInfo).port}`,
    TESSERA_MAIL_FROM: 'Acme <id@acme.example>',
  });
  const browser = await launchChromium();
  try {
    const { user, config, scope, resource } = await setUp(server);
    const shoot = async (page: Page, name: string, width: keyof typeof WIDTHS) => {
      const file = path.join(OUT, `${name}-${width}.png`);
      await page.screenshot({ path: file, fullPage: true });
      console.log(path.relative(process.cwd(), file));
    };
    for (const width of Object.keys(WIDTHS) as Array<keyof typeof WIDTHS>) {
      // English: every step, a wrong password included.
      const req = await authorizationRequest(config, { scope, resource, prompt: 'consent' });
      const page = await newPage(browser, WIDTHS[width], 'en-US');
      await page.goto(req.url);
      await shoot(page, '1-sign-in', width);
      await page.getByLabel('Username').fill(user.username);
      await page.getByLabel('Password').fill('not my password');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('alert').waitFor();
      await shoot(page, '2-wrong-password', width);
      await page.keyboard.type(PASSWORD);
      await page.keyboard.press('Enter');
      await page.getByRole('heading', { name: 'Choose an organization' }).waitFor();
      await shoot(page, '3-organization', width);
      await page.getByRole('button', { name: 'Continue' }).click();
      await page.getByRole('heading', { name: 'Allow access?' }).waitFor();
      await shoot(page, '4-consent-en', width);
      await page.context().close();

      // French, from the browser's Accept-Language.
      const frReq = await authorizationRequest(config, { scope, resource, prompt: 'consent' });
      const fr = await newPage(browser, WIDTHS[width], 'fr-FR');
      await fr.goto(frReq.url);
      await shoot(fr, '5-sign-in-fr', width);
      await fr.getByLabel("Nom d'utilisateur").fill(user.username);
      await fr.getByLabel('Mot de passe').fill(PASSWORD);
      await fr.getByRole('button', { name: 'Se connecter' }).click();
      await fr.getByRole('button', { name: 'Continuer' }).click();
      await fr.getByRole('heading', { name: "Autoriser l'accès\u00a0?" }).waitFor();
      await shoot(fr, '6-consent-fr', width);
      await fr.context().close();

      // A second factor, required by the application: set up during sign-in, then asked for.
      const bob = await aUser(server.db, PASSWORD, { username: unique('bob'), name: 'Bob Stone' });
      const strict = await aClient(server.db, { client_name: 'Payroll', first_party: true, mfa: 'required', logo_uri: APP_LOGO });
      const strictConfig = await relyingParty(server.issuer, strict.client_id, strict.client_secret);
      const signInBob = async () => {
        const p = await newPage(browser, WIDTHS[width], 'en-US');
        await p.goto((await authorizationRequest(strictConfig, { scope: 'openid' })).url);
        await p.getByLabel('Username').fill(bob.username);
        await p.getByLabel('Password').fill(PASSWORD);
        await p.getByRole('button', { name: 'Sign in' }).click();
        return p;
      };
      const mfa = await signInBob();
      await mfa.getByRole('heading', { name: 'Set up an authenticator app' }).waitFor();
      await shoot(mfa, '7-enrol', width);
      const secret = ((await mfa.locator('#totp-secret').textContent()) ?? '').replace(/\s+/g, '');
      await mfa.getByLabel('Code from your authenticator app').fill(await generate({ secret }));
      await mfa.getByRole('button', { name: 'Confirm' }).click();
      await mfa.getByRole('heading', { name: 'Save your recovery codes' }).waitFor();
      await shoot(mfa, '8-recovery-codes', width);
      await mfa.context().close();
      const again = await signInBob();
      await again.getByRole('heading', { name: 'Enter your code' }).waitFor();
      await shoot(again, '9-code', width);
      await again.context().close();

      // A forgotten password: the form, then the page its mailed link opens.
      const carol = await aUser(server.db, PASSWORD, { username: unique('carol'), name: 'Carol Diaz', email: `${unique('carol')}@acme.example`, email_verified: false });
      const plain = await aClient(server.db, { client_name: 'Wiki', first_party: true, logo_uri: APP_LOGO });
      const plainConfig = await relyingParty(server.issuer, plain.client_id, plain.client_secret);
      const forgot = await newPage(browser, WIDTHS[width], 'en-US');
      await forgot.goto((await authorizationRequest(plainConfig, { scope: 'openid' })).url);
      await forgot.getByRole('link', { name: 'Forgot your password?' }).click();
      await forgot.getByRole('heading', { name: 'Reset your password' }).waitFor();
      await shoot(forgot, '10-forgot-password', width);
      await forgot.getByLabel('Username or email address').fill(carol.username);
      const sent = mails.length + 1;
      await forgot.getByRole('button', { name: 'Send the link' }).click();
      await forgot.goto(await mailLink(sent, 'reset'));
      await forgot.getByLabel('New password', { exact: true }).waitFor();
      await shoot(forgot, '11-reset-password', width);
      await forgot.context().close();

      // /account, signed in with the password: a passkey added there (Chrome DevTools' virtual
      // authenticator), then the page; the email verification its Confirm link mails.
      const acct = await newPage(browser, WIDTHS[width], 'en-US');
      const cdp = await acct.context().newCDPSession(acct);
      await cdp.send('WebAuthn.enable');
      await cdp.send('WebAuthn.addVirtualAuthenticator', {
        options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
      });
      await acct.goto((await authorizationRequest(plainConfig, { scope: 'openid' })).url);
      await acct.getByLabel('Username').fill(carol.username);
      await acct.getByLabel('Password').fill(PASSWORD);
      await acct.getByRole('button', { name: 'Sign in' }).click();
      await acct.waitForURL(`${REDIRECT_URI}**`);
      await acct.goto(`${server.issuer}/account`);
      await acct.getByRole('button', { name: 'Add a passkey' }).click();
      await acct.getByRole('heading', { name: 'Add a passkey' }).waitFor();
      await shoot(acct, '13-account-add-passkey', width);
      await acct.getByRole('button', { name: 'Add a passkey' }).click();
      await acct.getByRole('button', { name: 'Continue' }).click();
      await acct.getByRole('textbox', { name: 'Name' }).fill('Work laptop');
      await acct.getByRole('button', { name: 'Rename' }).click();
      await acct.getByRole('status').waitFor();
      await shoot(acct, '12-account', width);
      const verification = mails.length + 1;
      await acct.getByRole('button', { name: 'Confirm' }).click();
      await acct.goto(await mailLink(verification, 'verify-email'));
      await acct.getByRole('heading', { name: 'Verify your email address' }).waitFor();
      await shoot(acct, '14-verify-email', width);

      // Signed out, the passkey: alone from the sign-in page, or as the second step after the password.
      await acct.context().clearCookies();
      await acct.goto((await authorizationRequest(plainConfig, { scope: 'openid' })).url);
      await acct.getByRole('button', { name: 'Use a passkey' }).waitFor();
      await shoot(acct, '15-passkey-sign-in', width);
      await acct.getByLabel('Username').fill(carol.username);
      await acct.getByLabel('Password').fill(PASSWORD);
      await acct.getByRole('button', { name: 'Sign in' }).click();
      await acct.getByRole('button', { name: 'Use your passkey' }).waitFor();
      await shoot(acct, '16-passkey-second-step', width);
      await acct.context().close();
    }
  } finally {
    await browser.close();
    await server.stop();
    smtp.close();
  }
}

await main();
