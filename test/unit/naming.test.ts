import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  mergePayload,
  checkTokenSize,
  claimBytes,
  isProtected,
  PROTOCOL_CLAIMS,
  TESSERA_CLAIMS,
  MAX_CLAIM_NAME,
  type MergeResult,
} from '../../src/claims/naming.ts';
import { STANDARD_CLAIM_NAMES } from '../../src/claims/assemble.ts';

const SPEC_PROTOCOL = 'iss sub aud exp nbf iat jti auth_time nonce acr amr azp sid at_hash c_hash s_hash client_id scope cnf typ token_type'.split(' ');
const HASURA = 'https://hasura.io/jwt/claims';
const PROTECTED = [...PROTOCOL_CLAIMS, ...TESSERA_CLAIMS];

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

// ---------------------------------------------------------------- the protected sets

test('PROTOCOL_CLAIMS holds every name of SPEC 6.1, plus active and username for introspection', () => {
  assert.deepEqual([...PROTOCOL_CLAIMS].sort(), [...SPEC_PROTOCOL, 'active', 'username'].sort());
});

test('TESSERA_CLAIMS holds the claims placed from SPEC 3, 4 and 6.3, and the grant of a JWT access token', () => {
  assert.deepEqual([...TESSERA_CLAIMS].sort(), ['organization', 'user_profile', 'user_scope', 'requested_scope', HASURA, 'grant_id'].sort());
  for (const name of PROTECTED) assert.ok(isProtected(name), name);
  for (const name of ['email', 'extra_sub', 'tier', '', 'SUB', 'sub ']) assert.equal(isProtected(name), false, name);
  assert.ok(!PROTECTED.some((n) => n.startsWith('extra_')), 'no protected name starts with extra_');
});

// ---------------------------------------------------------------- every protected name

test('every protected name, held by base: the payload copy becomes extra_N, the base value stays', () => {
  for (const name of PROTECTED) {
    const real = { value: `real ${name}` };
    const base = deepFreeze({ [name]: real, other: 1 });
    const r = mergePayload(base, { [name]: `hook ${name}` });
    assert.equal(r.claims[name], real, `${name}: base value is the very same`);
    assert.deepEqual(r.claims[name], { value: `real ${name}` }, name);
    assert.equal(r.claims[`extra_${name}`], `hook ${name}`, name);
    assert.deepEqual(r.renamed, [{ from: name, to: `extra_${name}` }], name);
    assert.deepEqual(r.dropped, [], name);
    assert.deepEqual(Object.keys(r.claims).sort(), [name, 'other', `extra_${name}`].sort(), name);
  }
});

test('every protected name is protected even when base lacks it (no sub, nonce or at_hash in client_credentials)', () => {
  for (const name of PROTECTED) {
    const r = mergePayload({}, { [name]: 'hook' });
    assert.equal(Object.hasOwn(r.claims, name), false, name);
    assert.equal(r.claims[`extra_${name}`], 'hook', name);
    assert.deepEqual(r.renamed, [{ from: name, to: `extra_${name}` }], name);
  }
  const cc = mergePayload({ iss: 'https://id', client_id: 'svc', scope: 'api' }, { sub: 'svc-user', nonce: 'n', at_hash: 'h', tier: 'gold' });
  assert.deepEqual(cc.claims, { iss: 'https://id', client_id: 'svc', scope: 'api', tier: 'gold', extra_sub: 'svc-user', extra_nonce: 'n', extra_at_hash: 'h' });
});

test('every protected name, extra_N held by base: the payload claim is dropped and nothing changes', () => {
  for (const name of PROTECTED) {
    for (const base of [{ [`extra_${name}`]: 'base extra' }, { [name]: 'real', [`extra_${name}`]: 'base extra' }]) {
      const r = mergePayload(base, { [name]: 'hook' });
      assert.deepEqual(r.claims, base, name);
      assert.deepEqual(r.renamed, [], name);
      assert.deepEqual(r.dropped, [name], name);
    }
  }
});

test('the SPEC examples: scope, sub and iss from a hook', () => {
  const r = mergePayload({ iss: 'https://id', sub: 'u1', scope: 'openid' }, { scope: 'admin', sub: 'x', iss: 'y', tier: 'gold' });
  assert.deepEqual(r.claims, { iss: 'https://id', sub: 'u1', scope: 'openid', tier: 'gold', extra_scope: 'admin', extra_sub: 'x', extra_iss: 'y' });
  assert.deepEqual(r.renamed, [
    { from: 'iss', to: 'extra_iss' },
    { from: 'scope', to: 'extra_scope' },
    { from: 'sub', to: 'extra_sub' },
  ]);
  assert.deepEqual(r.dropped, []);
});

// ---------------------------------------------------------------- each claim source

test('a collision with each claim source: standard claim, organization, privileges, requested_scope, Hasura', () => {
  const base = deepFreeze({
    sub: 'u1',
    email: 'a@example.com',
    organization: { acme: { id: '1', name: 'Acme', roles: ['admin'] } },
    user_profile: { role: 'editor' },
    user_scope: 'a b',
    requested_scope: 'openid privileges',
    [HASURA]: { 'x-hasura-user-id': 'u1', 'x-hasura-allowed-roles': ['admin'] },
  });
  for (const source of ['email', 'organization', 'user_profile', 'user_scope', 'requested_scope', HASURA]) {
    const r = mergePayload(base, { [source]: { from: 'hook' }, tier: 1 });
    assert.deepEqual(r.claims, { ...base, tier: 1, [`extra_${source}`]: { from: 'hook' } }, source);
    assert.deepEqual(r.renamed, [{ from: source, to: `extra_${source}` }], source);
    assert.deepEqual(r.dropped, [], source);
  }
  // All at once.
  const all = Object.fromEntries(Object.keys(base).map((k) => [k, `hook ${k}`]));
  const r = mergePayload(base, all);
  for (const k of Object.keys(base)) {
    assert.deepEqual(r.claims[k], base[k as keyof typeof base], k);
    assert.equal(r.claims[`extra_${k}`], `hook ${k}`, k);
  }
  assert.equal(r.renamed.length, Object.keys(base).length);
});

test('a non-protected claim is only taken when base holds it: email free without the email scope', () => {
  assert.deepEqual(mergePayload({ sub: 'u1' }, { email: 'x' }).claims, { sub: 'u1', email: 'x' });
  assert.deepEqual(mergePayload({ sub: 'u1', email: 'real' }, { email: 'x' }).claims, { sub: 'u1', email: 'real', extra_email: 'x' });
  // A base key is taken even when its value is undefined.
  assert.deepEqual(mergePayload({ email: undefined }, { email: 'x' }).renamed, [{ from: 'email', to: 'extra_email' }]);
});

test('alsoProtected: standard claim names reserved even when not granted', () => {
  const r = mergePayload({}, { email: 'x@evil', name: 'X', tier: 1 }, STANDARD_CLAIM_NAMES);
  assert.deepEqual(r.claims, { tier: 1, extra_email: 'x@evil', extra_name: 'X' });
  // An alsoProtected extra_N blocks the rename like base does.
  const blocked = mergePayload({}, { tier: 1, extra_tier: 2 }, new Set(['tier', 'extra_tier']));
  assert.deepEqual(blocked.claims, { extra_extra_tier: 2 });
  assert.deepEqual(blocked.dropped, ['tier']);
  assert.deepEqual(blocked.renamed, [{ from: 'extra_tier', to: 'extra_extra_tier' }]);
});

// ---------------------------------------------------------------- extra_N already taken

test('extra_N taken by base: the colliding claim is dropped, base extra_N unchanged', () => {
  const r = mergePayload({ scope: 'openid', extra_scope: 'kept' }, { scope: 'hook' });
  assert.deepEqual(r.claims, { scope: 'openid', extra_scope: 'kept' });
  assert.deepEqual(r.dropped, ['scope']);
  assert.deepEqual(r.renamed, []);
  const email = mergePayload({ email: 'a', extra_email: 'b' }, { email: 'c' });
  assert.deepEqual(email.claims, { email: 'a', extra_email: 'b' });
  assert.deepEqual(email.dropped, ['email']);
});

test("extra_N taken by the payload's own extra_N: that one wins, N is dropped, whatever the key order", () => {
  for (const payload of [{ sub: 'hook sub', extra_sub: 'own' }, { extra_sub: 'own', sub: 'hook sub' }]) {
    const r = mergePayload({ sub: 'u1' }, payload);
    assert.deepEqual(r.claims, { sub: 'u1', extra_sub: 'own' });
    assert.deepEqual(r.dropped, ['sub']);
    assert.deepEqual(r.renamed, []);
  }
  for (const payload of [{ scope: 'x', extra_scope: 'y' }, { extra_scope: 'y', scope: 'x' }]) {
    const r = mergePayload({}, payload); // scope protected though absent
    assert.deepEqual(r.claims, { extra_scope: 'y' });
    assert.deepEqual(r.dropped, ['scope']);
  }
  const a = mergePayload({ scope: 'openid' }, { scope: 'x', extra_scope: 'y', tier: 1 });
  const b = mergePayload({ scope: 'openid' }, { tier: 1, extra_scope: 'y', scope: 'x' });
  assert.deepEqual(a, b);
  assert.equal(JSON.stringify(a), JSON.stringify(b));
});

test("the payload's own extra_N colliding with base: renamed extra_extra_N, and N dropped (one level only)", () => {
  const r = mergePayload({ sub: 'u1', extra_sub: 'base' }, { sub: 'a', extra_sub: 'b' });
  assert.deepEqual(r.claims, { sub: 'u1', extra_sub: 'base', extra_extra_sub: 'b' });
  assert.deepEqual(r.renamed, [{ from: 'extra_sub', to: 'extra_extra_sub' }]);
  assert.deepEqual(r.dropped, ['sub']);
  // Never a second level for N itself.
  const deep = mergePayload({ sub: 'u1', extra_sub: 'base' }, { sub: 'a' });
  assert.equal(Object.hasOwn(deep.claims, 'extra_extra_sub'), false);
  // extra_extra_N taken as well: both dropped.
  const both = mergePayload({ extra_sub: 'base', extra_extra_sub: 'base2' }, { sub: 'a', extra_sub: 'b' });
  assert.deepEqual(both.claims, { extra_sub: 'base', extra_extra_sub: 'base2' });
  assert.deepEqual(both.dropped, ['extra_sub', 'sub']);
});

test('a payload claim literally named extra_scope is kept as is when free', () => {
  const r = mergePayload({ scope: 'openid' }, { extra_scope: 'mine' });
  assert.deepEqual(r.claims, { scope: 'openid', extra_scope: 'mine' });
  assert.deepEqual(r.renamed, []);
  assert.deepEqual(r.dropped, []);
});

// ---------------------------------------------------------------- values

test('nested values are copied by value both ways and never inspected for names', () => {
  const payload = { perms: { docs: ['read'], sub: 'nested names are not looked at', __proto__x: 1 }, scope: { nested: true }, list: [{ iss: 'x' }] };
  const r = mergePayload({ scope: 'openid' }, payload);
  assert.deepEqual(r.renamed, [{ from: 'scope', to: 'extra_scope' }]);
  payload.perms.docs.push('write');
  payload.scope.nested = false;
  payload.list[0]!.iss = 'changed';
  assert.deepEqual(r.claims.perms, { docs: ['read'], sub: 'nested names are not looked at', __proto__x: 1 });
  assert.deepEqual(r.claims.extra_scope, { nested: true });
  assert.deepEqual(r.claims.list, [{ iss: 'x' }]);
  assert.equal(r.claims.scope, 'openid');
  // And the other way: changing the result leaves the payload alone.
  (r.claims.perms as { docs: string[] }).docs.push('admin');
  assert.deepEqual(payload.perms.docs, ['read', 'write']);
});

test('undefined members are skipped silently, null is a value (kept, renamed or blocking)', () => {
  const r = mergePayload({ sub: 'u1' }, { gone: undefined, none: null, sub: null, extra_nonce: undefined, nonce: 'n' });
  assert.deepEqual(r.claims, { sub: 'u1', none: null, extra_sub: null, extra_nonce: 'n' });
  assert.deepEqual(r.renamed, [{ from: 'nonce', to: 'extra_nonce' }, { from: 'sub', to: 'extra_sub' }]);
  assert.deepEqual(r.dropped, []);
  // A null extra_N is a member and wins over N.
  const blocked = mergePayload({}, { sub: 'x', extra_sub: null });
  assert.deepEqual(blocked.claims, { extra_sub: null });
  assert.deepEqual(blocked.dropped, ['sub']);
});

test('every JSON value type passes through: string, number, boolean, null, array, object, empty ones', () => {
  const payload = { s: '', n: 0, f: -1.5, t: true, b: false, z: null, a: [], o: {}, deep: { a: [1, { b: [null] }] } };
  assert.deepEqual(mergePayload({}, payload).claims, payload);
});

// ---------------------------------------------------------------- prototype pollution

test('__proto__, constructor and prototype stay plain claims and pollute nothing', () => {
  const payload = JSON.parse('{"__proto__": {"polluted": 1}, "constructor": {"prototype": {"polluted": 2}}, "prototype": "p", "nested": {"__proto__": {"polluted": 3}}}');
  const r = mergePayload({ sub: 'u1' }, payload);
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  assert.equal((Object.prototype as Record<string, unknown>).polluted, undefined);
  assert.equal(Object.getPrototypeOf(r.claims), Object.prototype);
  assert.deepEqual(Object.keys(r.claims).sort(), ['__proto__', 'constructor', 'nested', 'prototype', 'sub']);
  assert.deepEqual(Object.getOwnPropertyDescriptor(r.claims, '__proto__')?.value, { polluted: 1 });
  assert.equal((r.claims as { polluted?: unknown }).polluted, undefined, 'the result itself has no polluted prototype');
  const nested = r.claims.nested as object;
  assert.equal(Object.getPrototypeOf(nested), Object.prototype);
  assert.deepEqual(Object.keys(nested), ['__proto__']);
  assert.deepEqual(JSON.parse(JSON.stringify(r.claims)), payloadWithSub(payload));
  assert.equal(typeof r.claims.toString, 'function', 'the result is still an ordinary object');
});

function payloadWithSub(payload: Record<string, unknown>) {
  return JSON.parse(JSON.stringify({ sub: 'u1', ...payload }));
}

test('__proto__ as a base key, and as a renamed or blocking name, stays an own member', () => {
  const base = JSON.parse('{"__proto__": {"b": 1}, "sub": "u1"}');
  const r = mergePayload(base, JSON.parse('{"__proto__": {"p": 1}}'));
  assert.deepEqual(Object.getOwnPropertyDescriptor(r.claims, '__proto__')?.value, { b: 1 });
  assert.deepEqual(r.claims.extra___proto__, { p: 1 });
  assert.equal(Object.getPrototypeOf(r.claims), Object.prototype);
  assert.equal(({} as Record<string, unknown>).p, undefined);
});

test('a payload with a null prototype is read like any other', () => {
  const payload = Object.assign(Object.create(null) as Record<string, unknown>, { sub: 'x', tier: 1 });
  const r = mergePayload({}, payload);
  assert.deepEqual(r.claims, { tier: 1, extra_sub: 'x' });
  assert.equal(Object.getPrototypeOf(r.claims), Object.prototype);
});

// ---------------------------------------------------------------- names

test('an empty name and names over 256 characters are dropped and reported; 256 is allowed', () => {
  const ok = 'k'.repeat(MAX_CLAIM_NAME);
  const long = 'x'.repeat(MAX_CLAIM_NAME + 1);
  const r = mergePayload({}, { '': 1, [long]: 2, [ok]: 3, tier: 4 });
  assert.deepEqual(r.claims, { [ok]: 3, tier: 4 });
  assert.deepEqual(r.dropped, ['', long]);
  assert.deepEqual(r.renamed, []);
  assert.equal(MAX_CLAIM_NAME, 256);
});

test('a rename whose extra_N would exceed 256 characters is dropped', () => {
  const fits = 'f'.repeat(MAX_CLAIM_NAME - 'extra_'.length);
  const over = 'o'.repeat(MAX_CLAIM_NAME - 'extra_'.length + 1);
  const r = mergePayload({ [fits]: 'b1', [over]: 'b2' }, { [fits]: 'h1', [over]: 'h2' });
  assert.deepEqual(r.renamed, [{ from: fits, to: `extra_${fits}` }]);
  assert.equal(r.claims[`extra_${fits}`], 'h1');
  assert.deepEqual(r.dropped, [over]);
  assert.equal(Object.keys(r.claims).length, 3);
});

test('names are exact: case, spaces and look-alikes are different claims', () => {
  const r = mergePayload({ sub: 'u1' }, { SUB: 1, ' sub': 2, 'sub ': 3, Sub: 4 });
  assert.deepEqual(r.claims, { sub: 'u1', SUB: 1, ' sub': 2, 'sub ': 3, Sub: 4 });
  assert.deepEqual(r.renamed, []);
});

// ---------------------------------------------------------------- base and empty payloads

test('base is never mutated (frozen inputs work); no or empty payload gives a copy of base', () => {
  const base = deepFreeze({ sub: 'u1', organization: { acme: { id: '1' } } });
  const payload = deepFreeze({ sub: 'x', a: { b: 1 } });
  const r = mergePayload(base, payload);
  assert.deepEqual(base, { sub: 'u1', organization: { acme: { id: '1' } } });
  assert.deepEqual(r.claims, { sub: 'u1', organization: { acme: { id: '1' } }, a: { b: 1 }, extra_sub: 'x' });
  for (const p of [undefined, {}, { gone: undefined }]) {
    const e: MergeResult = mergePayload(base, p);
    assert.deepEqual({ ...e }, { claims: base, renamed: [], dropped: [] });
    assert.notEqual(e.claims, base, 'a new object');
    e.claims.added = 1;
    assert.equal(Object.hasOwn(base, 'added'), false);
  }
  assert.deepEqual(mergePayload({}, undefined), { claims: {}, renamed: [], dropped: [] });
});

// ---------------------------------------------------------------- property test

/** mulberry32: a seeded PRNG, so a failure can be replayed from its seed. */
function prng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test('random payloads: invariants, an independent oracle, and independence from key order', () => {
  const pool = [
    ...PROTECTED, ...PROTECTED.map((n) => `extra_${n}`), 'extra_extra_sub', 'email', 'extra_email', 'name',
    'tier', 'extra_tier', 'perms', 'a', 'b', '', 'x'.repeat(257), 'y'.repeat(251), 'extra_' + 'y'.repeat(251),
    '__proto__', 'constructor', 'prototype', 'extra___proto__', 'toString', 'hasOwnProperty',
  ];
  const seed = Number(process.env.NAMING_SEED ?? 20240601);
  const rnd = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const values = [() => 'v', () => null, () => undefined, () => 0, () => ({ sub: 'n', arr: [1] }), () => [{ iss: 1 }], () => false];

  const seen = { kept: 0, renamed: 0, dropped: 0 };
  for (let round = 0; round < 3000; round++) {
    const base: Record<string, unknown> = {};
    const payload: Record<string, unknown> = {};
    const also = new Set<string>();
    const defineIn = (o: Record<string, unknown>, k: string, v: unknown) => Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
    for (let i = Math.floor(rnd() * 8); i > 0; i--) { const k = pick(pool); if (k) defineIn(base, k, `base-${k.slice(0, 20)}`); }
    for (let i = Math.floor(rnd() * 12); i > 0; i--) defineIn(payload, pick(pool), pick(values)());
    if (rnd() < 0.2) also.add(pick(pool));
    const ctx = `seed ${seed} round ${round}: ${JSON.stringify({ base: Object.keys(base), payload: Object.keys(payload), also: [...also] })}`;

    const before = JSON.stringify(base);
    const r = mergePayload(base, payload, also);
    assert.equal(JSON.stringify(base), before, ctx);

    // Base keys and values unchanged.
    for (const [k, v] of Object.entries(base)) assert.equal(r.claims[k], v, ctx);

    // Oracle, written independently of the implementation's two passes.
    const defined = (k: string) => Object.hasOwn(payload, k) && payload[k] !== undefined;
    const valid = (k: string) => k.length > 0 && k.length <= 256;
    const taken = (k: string) => Object.hasOwn(base, k) || PROTOCOL_CLAIMS.has(k) || TESSERA_CLAIMS.has(k) || also.has(k);
    const expected = { kept: [] as string[], renamed: [] as string[], dropped: [] as string[] };
    for (const k of Object.keys(payload).filter(defined)) {
      if (!valid(k)) expected.dropped.push(k);
      else if (!taken(k)) expected.kept.push(k);
      else if (!valid(`extra_${k}`) || taken(`extra_${k}`) || (defined(`extra_${k}`) && !taken(`extra_${k}`))) expected.dropped.push(k);
      else expected.renamed.push(k);
    }
    assert.deepEqual(r.renamed.map((x) => x.from).sort(), expected.renamed.sort(), ctx);
    assert.deepEqual([...r.dropped].sort(), expected.dropped.sort(), ctx);
    seen.kept += expected.kept.length;
    seen.renamed += expected.renamed.length;
    seen.dropped += expected.dropped.length;

    // Every defined payload key exactly once as kept, renamed or dropped; undefined ones nowhere.
    for (const k of Object.keys(payload)) {
      const kept = !Object.hasOwn(base, k) && Object.hasOwn(r.claims, k) && !r.renamed.some((x) => x.to === k);
      const renamed = r.renamed.filter((x) => x.from === k).length;
      const dropped = r.dropped.filter((x) => x === k).length;
      assert.equal(Number(kept) + renamed + dropped, defined(k) ? 1 : 0, `${k} in ${ctx}`);
      if (kept) assert.deepEqual(r.claims[k], payload[k], ctx);
    }
    for (const { from, to } of r.renamed) {
      assert.equal(to, `extra_${from}`, ctx);
      assert.deepEqual(r.claims[to], payload[from], ctx);
    }

    // No output key outside base ∪ kept payload keys ∪ extra_<renamed>; nothing protected from the payload.
    for (const k of Object.keys(r.claims)) {
      assert.ok(Object.hasOwn(base, k) || expected.kept.includes(k) || r.renamed.some((x) => x.to === k), `${k} in ${ctx}`);
      if (!Object.hasOwn(base, k)) assert.ok(!taken(k) && valid(k), `${k} in ${ctx}`);
    }
    assert.equal(Object.getPrototypeOf(r.claims), Object.prototype, ctx);

    // Same result, serialisation included, for a shuffled payload.
    const keys = Object.keys(payload);
    for (let i = keys.length - 1; i > 0; i--) { const j = Math.floor(rnd() * (i + 1)); [keys[i], keys[j]] = [keys[j]!, keys[i]!]; }
    const shuffled: Record<string, unknown> = {};
    for (const k of keys) defineIn(shuffled, k, payload[k]);
    const s: MergeResult = mergePayload(base, shuffled, also);
    assert.deepEqual(s, r, ctx);
    assert.equal(JSON.stringify(s), JSON.stringify(r), ctx);
  }
  assert.equal(({} as Record<string, unknown>).sub, undefined, 'no pollution after all rounds');
  for (const [outcome, n] of Object.entries(seen)) assert.ok(n > 500, `the generator exercises ${outcome} (${n})`);
});

// ---------------------------------------------------------------- size budget

test('size budget: under and exactly at the limit pass, one byte over fails', () => {
  const claims = { sub: 'u1' };
  assert.deepEqual(checkTokenSize('t'.repeat(99), claims, 100), { ok: true, bytes: 99 });
  assert.deepEqual(checkTokenSize('t'.repeat(100), claims, 100), { ok: true, bytes: 100 });
  assert.deepEqual(checkTokenSize('t'.repeat(101), claims, 100), { ok: false, bytes: 101, limit: 100, largest: [{ claim: 'sub', bytes: claimBytes('sub', 'u1') }] });
  assert.deepEqual(checkTokenSize('', {}, 0), { ok: true, bytes: 0 });
});

test('size budget: a length given for a token not signed yet is judged like the token itself', () => {
  const claims = { sub: 'u1' };
  assert.deepEqual(checkTokenSize(100, claims, 100), checkTokenSize('t'.repeat(100), claims, 100));
  assert.deepEqual(checkTokenSize(101, claims, 100), checkTokenSize('t'.repeat(101), claims, 100));
});

test('size budget counts UTF-8 bytes, not characters', () => {
  assert.deepEqual(checkTokenSize('é'.repeat(50), {}, 100), { ok: true, bytes: 100 });
  const over = checkTokenSize('é'.repeat(51), {}, 100);
  assert.deepEqual(over, { ok: false, bytes: 102, limit: 100, largest: [] });
});

test('size budget: the largest claims, biggest first, five at most, ties by name', () => {
  const claims = { a: 'x'.repeat(10), b: 'x'.repeat(500), c: 'x'.repeat(50), d: 1, e: 2, f: 3, g: 'x'.repeat(200), h: { n: [1, 2, 3, 4] } };
  const over = checkTokenSize('t'.repeat(101), claims, 100);
  assert.equal(over.ok, false);
  if (over.ok) return;
  assert.equal(over.bytes, 101);
  assert.equal(over.limit, 100);
  assert.equal(over.largest.length, 5);
  assert.deepEqual(over.largest.map((l) => l.claim), ['b', 'g', 'c', 'h', 'a']);
  assert.deepEqual(over.largest[0], { claim: 'b', bytes: Buffer.byteLength(`"b":"${'x'.repeat(500)}"`) });
  for (let i = 1; i < over.largest.length; i++) assert.ok(over.largest[i - 1]!.bytes >= over.largest[i]!.bytes);
  // Ties (d, e, f are all 5 bytes) resolve by name whatever the key order.
  const ties = checkTokenSize('tt', { f: 3, e: 2, d: 1, b: 9, a: 0, c: 7 }, 1);
  assert.ok(!ties.ok && ties.largest.map((l) => l.claim).join('') === 'abcde');
  // Fewer than five claims: all of them.
  const few = checkTokenSize('tt', { x: 'long value', y: 1 }, 1);
  assert.ok(!few.ok && few.largest.length === 2 && few.largest[0]!.claim === 'x');
});

test("a claim's size is its JSON member: a long name counts, multibyte counts in bytes, undefined counts 0", () => {
  assert.equal(claimBytes('a', 'b'), '"a":"b"'.length);
  assert.equal(claimBytes('é', 'é'), Buffer.byteLength('"é":"é"'));
  assert.equal(claimBytes('n', { x: [1, null] }), '"n":{"x":[1,null]}'.length);
  assert.equal(claimBytes('gone', undefined), 0);
  const longName = 'n'.repeat(200);
  const r = checkTokenSize('tt', { [longName]: 1, v: 'x'.repeat(100) }, 1);
  assert.ok(!r.ok && r.largest[0]!.claim === longName);
  assert.ok(!r.ok && r.largest.at(-1)!.claim === 'v');
});
