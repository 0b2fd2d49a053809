import { test } from 'node:test';
import assert from 'node:assert/strict';
import { standardClaims } from '../../src/claims/standard.ts';
import type { User } from '../../src/model/user.ts';

const user = (over: Partial<User> = {}): User => ({
  id: '7a1f6c1e-0000-4000-8000-000000000001',
  username: 'alice',
  email: 'alice@example.com',
  email_verified: true,
  name: 'Alice Liddell',
  given_name: 'Alice',
  family_name: 'Liddell',
  external_id: null,
  enabled: true,
  claims: {},
  created_at: new Date('2026-01-01T00:00:00Z'),
  updated_at: new Date('2026-01-02T00:00:00Z'),
  ...over,
});

test('columns become standard claims, username is preferred_username, updated_at in seconds', () => {
  assert.deepEqual(standardClaims(user()), {
    sub: '7a1f6c1e-0000-4000-8000-000000000001',
    preferred_username: 'alice',
    updated_at: Date.parse('2026-01-02T00:00:00Z') / 1000,
    email: 'alice@example.com',
    email_verified: true,
    name: 'Alice Liddell',
    given_name: 'Alice',
    family_name: 'Liddell',
  });
});

test('stored extra claims add standard names only and never replace sub or a column', () => {
  const c = standardClaims(user({ claims: { locale: 'fr-FR', picture: 'https://x/p.png', sub: 'evil', iss: 'evil', name: 'Mallory', admin: true } }));
  assert.equal(c.locale, 'fr-FR');
  assert.equal(c.picture, 'https://x/p.png');
  assert.equal(c.sub, '7a1f6c1e-0000-4000-8000-000000000001');
  assert.equal(c.name, 'Alice Liddell');
  assert.equal('iss' in c, false);
  assert.equal('admin' in c, false);
});

test('a user without email has neither email nor email_verified', () => {
  const c = standardClaims(user({ email: null, email_verified: false, name: null }));
  assert.equal('email' in c, false);
  assert.equal('email_verified' in c, false);
  assert.equal('name' in c, false);
});
