import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hashPassword, verifyPassword } from '../../src/auth/password.ts';

test('a password verifies against its own hash and no other password', async () => {
  const hash = await hashPassword('correct horse battery', 10);
  assert.match(hash, /^scrypt\$10\$8\$1\$/);
  assert.ok(!hash.includes('correct horse'));
  assert.equal(await verifyPassword('correct horse battery', hash), true);
  assert.equal(await verifyPassword('correct horse batterY', hash), false);
});

test('the same password hashes differently each time (salted)', async () => {
  assert.notEqual(await hashPassword('same', 10), await hashPassword('same', 10));
});

test('a hash made at one cost verifies after the cost setting changes', async () => {
  const old = await hashPassword('pw', 10);
  await hashPassword('pw', 11);
  assert.equal(await verifyPassword('pw', old), true);
});

test('unicode passwords are normalised, so the same text typed two ways matches', async () => {
  const hash = await hashPassword('caf\u00e9', 10);
  assert.equal(await verifyPassword('cafe\u0301', hash), true);
});

test('a malformed stored hash never verifies', async () => {
  assert.equal(await verifyPassword('x', 'plaintext'), false);
  assert.equal(await verifyPassword('x', 'scrypt$10$8$1$$'), false);
});
