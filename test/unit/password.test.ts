import { test } from 'node:test';
import assert from 'node:assert/strict';
import { scryptSync } from 'node:crypto';
import { DEFAULT_PASSWORD_HASHING, hashPassword, needsRehash, verifyPassword } from '../../src/auth/password.ts';
import { createHashQueue, HashQueueFull } from '../../src/auth/hash-queue.ts';

const current = DEFAULT_PASSWORD_HASHING;

test('passwords are argon2id at OWASP\'s minimum (m = 19 MiB, t = 2, p = 1), and verify only themselves', async () => {
  const hash = await hashPassword('correct horse battery', current);
  assert.match(hash, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
  assert.ok(!hash.includes('correct horse'));
  assert.equal(await verifyPassword('correct horse battery', hash), true);
  assert.equal(await verifyPassword('correct horse batterY', hash), false);
  assert.equal(needsRehash(hash, current), false);
});

test('the same password hashes differently each time (salted)', async () => {
  assert.notEqual(await hashPassword('same', current), await hashPassword('same', current));
});

test('a hash made with other parameters still verifies, and is marked for rehashing', async () => {
  const stronger = { memoryKiB: 19456 * 2, passes: 3 };
  const old = await hashPassword('pw', stronger);
  assert.equal(await verifyPassword('pw', old), true);
  assert.equal(needsRehash(old, current), true);
});

test('a scrypt hash of earlier versions verifies and is marked for rehashing', async () => {
  const salt = Buffer.from('0123456789abcdef');
  const legacy = ['scrypt', 10, 8, 1, salt.toString('base64url'), scryptSync('pw', salt, 32, { N: 1024, r: 8, p: 1 }).toString('base64url')].join('$');
  assert.equal(await verifyPassword('pw', legacy), true);
  assert.equal(await verifyPassword('pW', legacy), false);
  assert.equal(needsRehash(legacy, current), true);
});

test('unicode passwords are normalised, so the same text typed two ways matches', async () => {
  const hash = await hashPassword('caf\u00e9', current);
  assert.equal(await verifyPassword('cafe\u0301', hash), true);
});

test('a malformed stored hash never verifies', async () => {
  assert.equal(await verifyPassword('x', 'plaintext'), false);
  assert.equal(await verifyPassword('x', 'scrypt$10$8$1$$'), false);
  assert.equal(await verifyPassword('x', '$argon2id$v=19$m=19456,t=2,p=1$garbage'), false);
});

test('the hashing queue runs at most its concurrency at once and refuses past its waiting limit', async () => {
  const queue = createHashQueue({ concurrency: 2, maxWaiting: 3 });
  let running = 0;
  let most = 0;
  const gates: Array<() => void> = [];
  const work = () =>
    new Promise<void>((resolve) => {
      running++;
      most = Math.max(most, running);
      gates.push(() => {
        running--;
        resolve();
      });
    });
  const accepted = Array.from({ length: 5 }, () => queue.run(work));
  await assert.rejects(queue.run(work), HashQueueFull, 'the sixth waits past the limit: refused');
  const admin = queue.run(work, { mayWait: true });
  while (gates.length || running) {
    await new Promise((r) => setImmediate(r));
    gates.shift()?.();
  }
  await Promise.all([...accepted, admin]);
  assert.equal(most, 2);
});
