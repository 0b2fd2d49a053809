/**
 * What the pages show of an application besides its name (logo_uri, client_uri, policy_uri, tos_uri):
 * set through the admin API, checked as https (http only on this machine), shown on the sign-in page.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { unique, REDIRECT_URI } from './support/fixtures.ts';
import { adminSuite } from './support/admin.ts';

const suite = adminSuite();

const LINKS = {
  logo_uri: 'https://shop.example/logo.png',
  client_uri: 'https://shop.example/',
  policy_uri: 'https://shop.example/privacy',
  tos_uri: 'https://shop.example/terms',
};

/** The sign-in page a browser lands on for this client (in the language asked for). */
async function signInPage(clientId: string, acceptLanguage = 'en'): Promise<{ html: string; csp: string }> {
  const url = new URL(`${suite.server.issuer}/auth`);
  url.search = new URLSearchParams({ client_id: clientId, response_type: 'code', scope: 'openid', redirect_uri: REDIRECT_URI, code_challenge: 'x'.repeat(43), code_challenge_method: 'S256' }).toString();
  const first = await fetch(url, { redirect: 'manual' });
  const cookies = first.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  const page = await fetch(new URL(first.headers.get('location')!, suite.server.issuer), { headers: { cookie: cookies, 'accept-language': acceptLanguage } });
  assert.equal(page.status, 200);
  return { html: await page.text(), csp: page.headers.get('content-security-policy') ?? '' };
}

test('a client registered with a logo, home page, policy and terms shows them on the sign-in page', async () => {
  const created = await suite.api('POST', '/clients', { body: { client_name: 'Shop', redirect_uris: [REDIRECT_URI], ...LINKS } });
  assert.equal(created.status, 201, JSON.stringify(created.json));
  for (const [k, v] of Object.entries(LINKS)) assert.equal(created.json[k], v, k);
  const read = await suite.api('GET', `/clients/${created.json.client_id}`);
  for (const [k, v] of Object.entries(LINKS)) assert.equal(read.json[k], v, k);

  const { html, csp } = await signInPage(created.json.client_id);
  assert.match(html, /<img src="https:\/\/shop\.example\/logo\.png" alt="Logo of Shop"/);
  assert.match(html, /<a href="https:\/\/shop\.example\/" class="app-name"[^>]*>Shop<\/a>/);
  assert.match(html, /<a href="https:\/\/shop\.example\/privacy"[^>]*>Privacy policy<\/a>/);
  assert.match(html, /<a href="https:\/\/shop\.example\/terms"[^>]*>Terms of service<\/a>/);
  assert.match(csp, /img-src 'self' data: https:\/\/shop\.example;/, 'the logo is allowed by the page’s CSP, and only its origin');
  const french = await signInPage(created.json.client_id, 'fr-CH, fr;q=0.9, en;q=0.8');
  assert.match(french.html, />Politique de confidentialité<\/a>/);
});

test('a client without them shows its name only, and PATCH null removes a link', async () => {
  const created = await suite.api('POST', '/clients', { body: { client_name: 'Plain', redirect_uris: [REDIRECT_URI] } });
  for (const k of Object.keys(LINKS)) assert.equal(created.json[k], null, k);
  const { html, csp } = await signInPage(created.json.client_id);
  assert.match(html, /<strong class="app-name">Plain<\/strong>/);
  assert.doesNotMatch(html, /app-logo|Privacy policy|Terms of service/);
  assert.match(csp, /img-src 'self' data:;/);

  const patched = await suite.api('PATCH', `/clients/${created.json.client_id}`, { body: { policy_uri: 'https://plain.example/privacy', tos_uri: 'http://127.0.0.1:8080/terms' } });
  assert.equal(patched.status, 200, JSON.stringify(patched.json));
  assert.equal(patched.json.tos_uri, 'http://127.0.0.1:8080/terms', 'http on loopback is allowed, as for redirect URIs');
  const removed = await suite.api('PATCH', `/clients/${created.json.client_id}`, { body: { policy_uri: null } });
  assert.equal(removed.json.policy_uri, null);
  assert.equal(removed.json.tos_uri, 'http://127.0.0.1:8080/terms');
});

test('a link that is not https (or http on this machine) is refused with 422 naming the field, and nothing changes', async () => {
  const clientId = unique('bad');
  for (const [field, value] of [
    ['logo_uri', 'http://shop.example/logo.png'],
    ['client_uri', 'javascript:alert(1)'],
    ['policy_uri', 'data:text/html,hi'],
    ['tos_uri', 'not a url'],
    ['client_uri', 'https://user:pass@shop.example/'],
    ['logo_uri', 'com.example.app:/logo'],
  ] as const) {
    const res = await suite.api('POST', '/clients', { body: { client_id: clientId, client_name: 'Bad', redirect_uris: [REDIRECT_URI], [field]: value } });
    assert.equal(res.status, 422, `${field}=${value}`);
    assert.equal(res.json.errors[0].path, `/${field}`, `${field}=${value}`);
  }
  assert.equal((await suite.api('GET', `/clients/${clientId}`)).status, 404, 'no client was created');

  const created = await suite.api('POST', '/clients', { body: { client_name: 'Kept', redirect_uris: [REDIRECT_URI], ...LINKS } });
  const refused = await suite.api('PATCH', `/clients/${created.json.client_id}`, { body: { client_name: 'Changed', logo_uri: 'ftp://shop.example/logo.png' } });
  assert.equal(refused.status, 422);
  const after = await suite.api('GET', `/clients/${created.json.client_id}`);
  assert.equal(after.json.client_name, 'Kept');
  for (const [k, v] of Object.entries(LINKS)) assert.equal(after.json[k], v, k);
});

test('discovery lists the languages of the pages', async () => {
  const discovery = await (await fetch(`${suite.server.issuer}/.well-known/openid-configuration`)).json();
  assert.deepEqual(discovery.ui_locales_supported, ['en', 'fr', 'de']);
});

test('a resource server may carry a description in words for the consent page; an empty or overlong one is refused', async () => {
  const identifier = `https://${unique('orders')}.example.test`;
  const created = await suite.api('POST', '/resource-servers', { body: { identifier, name: 'Orders API', description: 'see your orders', scopes: ['orders:read'] } });
  assert.equal(created.status, 201, JSON.stringify(created.json));
  assert.equal(created.json.description, 'see your orders');
  assert.equal((await suite.api('GET', `/resource-servers/${encodeURIComponent(identifier)}`)).json.description, 'see your orders');
  const plain = await suite.api('POST', '/resource-servers', { body: { identifier: `https://${unique('plain')}.example.test`, scopes: ['x'] } });
  assert.equal(plain.json.description, null);
  for (const description of ['', 'x'.repeat(301)]) {
    const other = `https://${unique('bad')}.example.test`;
    const res = await suite.api('POST', '/resource-servers', { body: { identifier: other, description, scopes: ['x'] } });
    assert.equal(res.status, 422, JSON.stringify(description.slice(0, 10)));
    assert.equal((await suite.api('GET', `/resource-servers/${encodeURIComponent(other)}`)).status, 404, 'nothing stored');
  }
});
