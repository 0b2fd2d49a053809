import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { mergePayload, checkTokenSize, PROTOCOL_CLAIMS, TESSERA_CLAIMS } from '../../src/claims/naming.ts';
import { STANDARD_CLAIM_NAMES } from '../../src/claims/assemble.ts';

test('every protocol and Tessera claim is protected: the payload copy becomes extra_N, the real one stays', () => {
  for (const name of [...PROTOCOL_CLAIMS, ...TESSERA_CLAIMS]) {
    const base = { [name]: 'real' };
    const r = mergePayload(base, { [name]: 'hook' });
    assert.equal(r.claims[name], 'real', name);
    assert.equal(r.claims[`extra_${name}`], 'hook', name);
    assert.deepEqual(r.renamed, [{ from: name, to: `extra_${name}` }]);
    assert.deepEqual(r.dropped, []);
  }
});

test('a protected name is protected even when the token does not carry it (no sub in client credentials)', () => {
  for (const name of PROTOCOL_CLAIMS) {
    const r = mergePayload({}, { [name]: 'hook' });
    assert.equal(name in r.claims, false, name);
    assert.equal(r.claims[`extra_${name}`], 'hook', name);
  }
});

test('the SPEC examples: scope, sub and iss from a hook', () => {
  const r = mergePayload({ iss: 'https://id', sub: 'u1', scope: 'openid' }, { scope: 'admin', sub: 'x', iss: 'y', tier: 'gold' });
  assert.deepEqual(r.claims, { iss: 'https://id', sub: 'u1', scope: 'openid', tier: 'gold', extra_scope: 'admin', extra_sub: 'x', extra_iss: 'y' });
});

test('a collision with each claim source: standard claims, organization, privileges, requested_scope, Hasura', () => {
  const base = {
    email: 'a@example.com',
    organization: { acme: { id: '1', name: 'Acme', roles: [] } },
    user_profile: 'editor',
    user_scope: 'a b',
    requested_scope: 'openid',
    'https://hasura.io/jwt/claims': { 'x-hasura-user-id': 'u1' },
  };
  const payload = Object.fromEntries(Object.keys(base).map((k) => [k, `hook ${k}`]));
  const r = mergePayload(base, payload);
  for (const k of Object.keys(base)) {
    assert.deepEqual(r.claims[k], base[k as keyof typeof base], k);
    assert.equal(r.claims[`extra_${k}`], `hook ${k}`, k);
  }
});

test('standard claim names can be reserved even when not granted', () => {
  const r = mergePayload({}, { email: 'x@evil', name: 'X', tier: 1 }, STANDARD_CLAIM_NAMES);
  assert.deepEqual(r.claims, { tier: 1, extra_email: 'x@evil', extra_name: 'X' });
});

test('extra_N already taken: the colliding claim is dropped, whoever holds extra_N', () => {
  const byBase = mergePayload({ scope: 'openid', extra_scope: 'kept' }, { scope: 'hook' });
  assert.deepEqual(byBase.claims, { scope: 'openid', extra_scope: 'kept' });
  assert.deepEqual(byBase.dropped, ['scope']);

  const byPayload = mergePayload({ sub: 'u1' }, { sub: 'hook sub', extra_sub: 'hook own extra' });
  assert.deepEqual(byPayload.claims, { sub: 'u1', extra_sub: 'hook own extra' });
  assert.deepEqual(byPayload.dropped, ['sub']);
  assert.deepEqual(byPayload.renamed, []);
});

test('the outcome does not depend on the order of the payload keys', () => {
  const a = mergePayload({ scope: 'openid' }, { scope: 'x', extra_scope: 'y' });
  const b = mergePayload({ scope: 'openid' }, { extra_scope: 'y', scope: 'x' });
  assert.deepEqual(a, b);
});

test('nested values are copied: changing the hook object later changes no token', () => {
  const payload = { perms: { docs: ['read'] }, scope: { nested: true } };
  const r = mergePayload({ scope: 'openid' }, payload);
  payload.perms.docs.push('write');
  payload.scope.nested = false;
  assert.deepEqual(r.claims.perms, { docs: ['read'] });
  assert.deepEqual(r.claims.extra_scope, { nested: true });
  assert.equal(r.claims.scope, 'openid');
});

test('__proto__ and friends stay plain claims and pollute nothing', () => {
  const r = mergePayload({}, JSON.parse('{"__proto__": {"polluted": 1}, "constructor": "c"}'));
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  assert.equal(Object.getPrototypeOf(r.claims), Object.prototype);
  assert.deepEqual(Object.keys(r.claims).sort(), ['__proto__', 'constructor']);
  assert.equal(JSON.parse(JSON.stringify(r.claims)).constructor, 'c');
});

test('empty and over-long names are dropped; undefined values skipped; null kept', () => {
  const r = mergePayload({}, { '': 1, ['x'.repeat(257)]: 2, gone: undefined, none: null });
  assert.deepEqual(r.claims, { none: null });
  assert.deepEqual(r.dropped.map((d) => d.length).sort(), [0, 257]);
});

test('base is never mutated; no payload means base as is', () => {
  const base = { sub: 'u1' };
  mergePayload(base, { sub: 'x', a: 1 });
  assert.deepEqual(base, { sub: 'u1' });
  assert.deepEqual(mergePayload(base, undefined), { claims: { sub: 'u1' }, renamed: [], dropped: [] });
});

test('random payloads: base intact, every payload claim kept, renamed or dropped exactly once', () => {
  const names = ['sub', 'scope', 'iss', 'email', 'extra_sub', 'extra_scope', 'tier', 'perms', 'organization', 'extra_tier', 'a', 'b'];
  for (let round = 0; round < 2000; round++) {
    const base: Record<string, unknown> = {};
    const payload: Record<string, unknown> = {};
    for (const n of names) {
      if (randomInt(4) === 0) base[n] = `base-${n}`;
      if (randomInt(2) === 0) payload[n] = `hook-${n}`;
    }
    const r = mergePayload(base, payload);
    for (const [k, v] of Object.entries(base)) assert.equal(r.claims[k], v);
    for (const k of Object.keys(payload)) {
      const kept = r.claims[k] === payload[k] && !(k in base);
      const renamed = r.renamed.some((x) => x.from === k);
      const dropped = r.dropped.includes(k);
      assert.equal([kept, renamed, dropped].filter(Boolean).length, 1, `${k} in ${JSON.stringify({ base, payload })}`);
    }
    for (const k of Object.keys(r.claims)) assert.ok(k in base || k in payload || k.startsWith('extra_'));
  }
});

test('size budget: at the limit passes, over it names the largest claims, biggest first, five at most', () => {
  const claims = { a: 'x'.repeat(10), b: 'x'.repeat(500), c: 'x'.repeat(50), d: 1, e: 2, f: 3, g: 'x'.repeat(200) };
  assert.deepEqual(checkTokenSize('t'.repeat(100), claims, 100), { ok: true, bytes: 100 });
  const over = checkTokenSize('t'.repeat(101), claims, 100);
  assert.equal(over.ok, false);
  if (!over.ok) {
    assert.equal(over.bytes, 101);
    assert.deepEqual(over.largest.map((l) => l.claim), ['b', 'g', 'c', 'a', 'd']);
  }
});
