import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loginPage, consentPage } from '../../src/interactions/views.ts';
import { pageContext } from '../../src/interactions/page-context.ts';
import { fill, html } from '../../src/interactions/html.ts';

const brand = { name: 'Acme <ID>', issuerHost: 'id.acme.test' };
const en = pageContext(brand, {});

test('values placed in pages are escaped, so a client name cannot inject markup', () => {
  const body = loginPage(en, { uid: 'u1', csrf: 't', client: { name: '<script>alert(1)</script>' }, username: '"><img src=x>' });
  assert.ok(!body.includes('<script>alert(1)</script>'));
  assert.ok(body.includes('&lt;script&gt;alert(1)&lt;/script&gt;'));
  assert.ok(!body.includes('"><img src=x>'));
  assert.ok(body.includes('Acme &lt;ID&gt;'), 'the brand name is escaped too');
});

test('a translated text is escaped around the values it is filled with', () => {
  assert.equal(fill('<b>{app}</b> & {who}', { app: html`<strong>${'A&B'}</strong>`, who: '<x>' }).value, '&lt;b&gt;<strong>A&amp;B</strong>&lt;/b&gt; &amp; &lt;x&gt;');
});

test('the login page labels its fields for screen readers', () => {
  const body = loginPage(en, { uid: 'u1', csrf: 't', client: { name: 'App' } });
  assert.match(body, /<label for="username">/);
  assert.match(body, /<label for="password">/);
  assert.match(body, /<html lang="en">/);
});

test('the cursor starts in the username field, and in the password field after a failed attempt or a login_hint', () => {
  const fresh = loginPage(en, { uid: 'u1', csrf: 't', client: { name: 'App' } });
  assert.match(fresh, /<input id="username"[^>]*autofocus/);
  assert.doesNotMatch(fresh, /<input id="password"[^>]*autofocus/);
  const retry = loginPage(en, { uid: 'u1', csrf: 't', client: { name: 'App' }, username: 'alice', error: 'Wrong username or password.' });
  assert.match(retry, /<input id="password"[^>]*autofocus/);
  assert.doesNotMatch(retry, /<input id="username"[^>]*autofocus/);
  assert.match(retry, /<input id="username"[^>]*value="alice"/);
  const hinted = loginPage(en, { uid: 'u1', csrf: 't', client: { name: 'App' }, username: 'alice' });
  assert.match(hinted, /<input id="password"[^>]*autofocus/, 'a login_hint fills the username: the password is next');
});

test('a page in French says so in <html lang> and uses the French texts', () => {
  const fr = pageContext(brand, { uiLocales: 'fr' });
  const body = consentPage(fr, { uid: 'u1', csrf: 't', client: { name: 'App' }, user: 'alice', scopes: ['Votre adresse e-mail'] });
  assert.match(body, /<html lang="fr">/);
  assert.match(body, /Autoriser l&#39;accès\u00a0\?/);
  assert.match(body, /Ce n&#39;est pas vous\u00a0\?/);
});
