import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loginPage } from '../../src/interactions/views.ts';

test('values placed in pages are escaped, so a client name cannot inject markup', () => {
  const body = loginPage({ uid: 'u1', csrf: 't', clientName: '<script>alert(1)</script>', username: '"><img src=x>' });
  assert.ok(!body.includes('<script>alert(1)</script>'));
  assert.ok(body.includes('&lt;script&gt;alert(1)&lt;/script&gt;'));
  assert.ok(!body.includes('"><img src=x>'));
});

test('the login page labels its fields for screen readers', () => {
  const body = loginPage({ uid: 'u1', csrf: 't', clientName: 'App' });
  assert.match(body, /<label for="username">/);
  assert.match(body, /<label for="password">/);
  assert.match(body, /<html lang="en">/);
});
