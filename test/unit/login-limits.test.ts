import { test } from 'node:test';
import assert from 'node:assert/strict';
import { counterKeys, decide, minutesText, DEFAULT_LOGIN_LIMITS } from '../../src/auth/login-limits.ts';

const limits = { perUserAndIp: 5, perUser: 20, perIp: 100, windowS: 900 };

test('each counter limits at its own threshold, only while its window lasts', () => {
  assert.deepEqual(decide([], limits), { limited: false });
  assert.deepEqual(decide([{ kind: 'user_ip', failures: 4, remainingS: 100 }], limits), { limited: false });
  assert.deepEqual(decide([{ kind: 'user_ip', failures: 5, remainingS: 100.2 }], limits), { limited: true, by: 'user_ip', retryAfterS: 101 });
  assert.deepEqual(decide([{ kind: 'user_ip', failures: 50, remainingS: 0 }], limits), { limited: false }, 'an ended window forgets');
  assert.deepEqual(decide([{ kind: 'user', failures: 19, remainingS: 10 }, { kind: 'ip', failures: 99, remainingS: 10 }], limits), { limited: false });
  assert.deepEqual(
    decide([{ kind: 'user_ip', failures: 5, remainingS: 30 }, { kind: 'ip', failures: 100, remainingS: 600 }], limits),
    { limited: true, by: 'ip', retryAfterS: 600 },
    'the longest wait wins',
  );
});

test('counter keys: usernames counted by their lookup key, distinct per kind, nothing in clear', () => {
  const a = counterKeys('Alice ', '203.0.113.1', limits);
  assert.deepEqual(a, counterKeys('alice', '203.0.113.1', limits));
  // NFKC then lower-case: a dotted capital I or full-width letters are the same account, the same counters.
  assert.deepEqual(counterKeys('v\u0130ctim', '203.0.113.1', limits).map((k) => k.key), counterKeys('v\u0069\u0307ctim', '203.0.113.1', limits).map((k) => k.key));
  assert.deepEqual(counterKeys('\uff21lice', '203.0.113.1', limits), a);
  assert.deepEqual(a.map((k) => k.kind), ['user_ip', 'user', 'ip']);
  assert.equal(new Set(a.map((k) => k.key)).size, 3);
  assert.ok(a.every((k) => !k.key.includes('alice') && !k.key.includes('203.0.113.1')));
  const b = counterKeys('alice', '198.51.100.2', limits);
  assert.notEqual(a[0]!.key, b[0]!.key);
  assert.equal(a[1]!.key, b[1]!.key, 'the per-username counter ignores the address');
  assert.deepEqual(a.map((k) => k.limit), [5, 20, 100]);
});

test('a browser with a device cookie is counted per device and per address, never per username', () => {
  const keys = counterKeys('alice', '203.0.113.1', limits, 'device-1');
  assert.deepEqual(keys.map((k) => [k.kind, k.limit]), [['device', 5], ['ip', 100]]);
  assert.notEqual(keys[0]!.key, counterKeys('alice', '203.0.113.1', limits, 'device-2')[0]!.key);
  assert.notEqual(keys[0]!.key, counterKeys('bob', '203.0.113.1', limits, 'device-1')[0]!.key);
});

test('the wait is said in whole minutes, rounded up', () => {
  assert.equal(minutesText(1), '1 minute');
  assert.equal(minutesText(61), '2 minutes');
  assert.equal(minutesText(DEFAULT_LOGIN_LIMITS.windowS), '15 minutes');
});
