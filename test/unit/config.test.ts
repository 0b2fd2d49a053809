import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { loadSettings, SettingsError } from '../../src/config.ts';

test('defaults: port 3000, localhost issuer, embedded database under ./data', () => {
  const s = loadSettings({});
  assert.equal(s.port, 3000);
  assert.equal(s.issuer, 'http://localhost:3000');
  assert.deepEqual(s.database, { dataDir: path.resolve('./data') });
  assert.equal(s.production, false);
});

test('DATABASE_URL selects PostgreSQL; anything else is refused', () => {
  assert.deepEqual(loadSettings({ DATABASE_URL: 'postgres://u@db/tessera' }).database, { url: 'postgres://u@db/tessera' });
  assert.throws(() => loadSettings({ DATABASE_URL: 'mysql://x' }), SettingsError);
});

test('production refuses an http issuer other than localhost, and accepts https or loopback', () => {
  assert.throws(() => loadSettings({ NODE_ENV: 'production', ISSUER: 'http://id.example.com' }), /refuses the http issuer/);
  assert.equal(loadSettings({ NODE_ENV: 'production', ISSUER: 'https://id.example.com/' }).issuer, 'https://id.example.com');
  assert.equal(loadSettings({ NODE_ENV: 'production', ISSUER: 'http://localhost:3000' }).production, true);
});

test('the admin client needs both its id and its secret, and a secret of some length', () => {
  assert.throws(() => loadSettings({ TESSERA_ADMIN_CLIENT_ID: 'admin' }), /both/);
  assert.throws(() => loadSettings({ TESSERA_ADMIN_CLIENT_ID: 'admin', TESSERA_ADMIN_CLIENT_SECRET: 'short' }), /at least 16/);
});

test('a bad PORT is a clear error naming the variable', () => {
  assert.throws(() => loadSettings({ PORT: 'eighty' }), /PORT/);
});

test('password hashing: argon2id at OWASP\'s minimum by default; weaker or unbounded settings are refused', () => {
  assert.deepEqual(loadSettings({}).passwords, { memoryKiB: 19456, passes: 2, concurrency: 2, maxWaiting: 64 });
  assert.equal(loadSettings({ TESSERA_PASSWORD_MEMORY_KIB: '65536', TESSERA_PASSWORD_PASSES: '3' }).passwords.memoryKiB, 65536);
  assert.throws(() => loadSettings({ TESSERA_PASSWORD_MEMORY_KIB: '19455' }), /TESSERA_PASSWORD_MEMORY_KIB/);
  assert.throws(() => loadSettings({ TESSERA_PASSWORD_MEMORY_KIB: '1048577' }), /TESSERA_PASSWORD_MEMORY_KIB/);
  assert.throws(() => loadSettings({ TESSERA_PASSWORD_PASSES: '1' }), /TESSERA_PASSWORD_PASSES/);
  assert.throws(() => loadSettings({ TESSERA_PASSWORD_PASSES: '21' }), /TESSERA_PASSWORD_PASSES/);
  assert.throws(() => loadSettings({ TESSERA_PASSWORD_HASH_CONCURRENCY: '0' }), /TESSERA_PASSWORD_HASH_CONCURRENCY/);
  assert.throws(() => loadSettings({ TESSERA_PASSWORD_HASH_QUEUE: '-1' }), /TESSERA_PASSWORD_HASH_QUEUE/);
  // Hashing shares libuv's pool with DNS lookups: one thread at least stays theirs.
  assert.throws(() => loadSettings({ TESSERA_PASSWORD_HASH_CONCURRENCY: '4' }), /below UV_THREADPOOL_SIZE/);
  assert.equal(loadSettings({ TESSERA_PASSWORD_HASH_CONCURRENCY: '7', UV_THREADPOOL_SIZE: '8' }).passwords.concurrency, 7);
  assert.throws(() => loadSettings({ TESSERA_PASSWORD_COST: '15' }), /TESSERA_PASSWORD_COST \(scrypt\) was replaced/);
});

test('the brand: Tessera by default; a name, an https logo and a hex accent colour are taken as given', () => {
  assert.deepEqual(loadSettings({}).brand, { name: 'Tessera', logoUrl: undefined, accent: undefined });
  const s = loadSettings({ TESSERA_BRAND_NAME: 'Acme ID', TESSERA_BRAND_LOGO_URL: 'https://acme.example/logo.svg', TESSERA_BRAND_ACCENT: '#0a7' });
  assert.deepEqual(s.brand, { name: 'Acme ID', logoUrl: 'https://acme.example/logo.svg', accent: '#0a7' });
  assert.equal(loadSettings({ TESSERA_BRAND_ACCENT: '#1D4ED8' }).brand.accent, '#1D4ED8');
  assert.equal(loadSettings({ TESSERA_BRAND_LOGO_URL: 'http://localhost:3000/logo.png' }).brand.logoUrl, 'http://localhost:3000/logo.png');
});

test('a brand accent that is not a hex colour, or a logo that is not https, is refused in one line naming the variable', () => {
  // The accent is written into the stylesheet: nothing that could end the declaration gets through.
  for (const accent of ['red', '#12345', '#1d4ed8;}body{display:none', '#ggg', 'rgb(0,0,0)', '']) {
    assert.throws(() => loadSettings({ TESSERA_BRAND_ACCENT: accent }), (err: Error) => err instanceof SettingsError && /TESSERA_BRAND_ACCENT: must be a hex colour/.test(err.message), accent);
  }
  assert.throws(() => loadSettings({ TESSERA_BRAND_LOGO_URL: 'http://acme.example/logo.png' }), /TESSERA_BRAND_LOGO_URL: http is only allowed on loopback/);
  assert.throws(() => loadSettings({ TESSERA_BRAND_LOGO_URL: 'javascript:alert(1)' }), /TESSERA_BRAND_LOGO_URL: /);
  assert.throws(() => loadSettings({ NODE_ENV: 'production', TESSERA_BRAND_LOGO_URL: 'http://localhost/logo.png' }), /TESSERA_BRAND_LOGO_URL: NODE_ENV=production needs an https URL/);
  assert.throws(() => loadSettings({ TESSERA_BRAND_NAME: '   ' }), /TESSERA_BRAND_NAME: must not be empty/);
});
