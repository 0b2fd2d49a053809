import { test } from 'node:test';
import assert from 'node:assert/strict';
import { toClaims } from '../../src/hooks/result.ts';
import { MAX_JSON_DEPTH, nestedDeeperThan } from '../../src/model/json.ts';

const nest = (levels: number): unknown => {
  let v: unknown = 1;
  for (let i = 0; i < levels; i++) v = i % 2 ? [v] : { a: v };
  return v;
};

test('claims may nest objects and arrays up to MAX_JSON_DEPTH levels, not one more', () => {
  assert.equal(nestedDeeperThan({ flat: 1, org: { acme: { roles: ['admin'] } } }, MAX_JSON_DEPTH), false);
  assert.equal(nestedDeeperThan({ x: nest(MAX_JSON_DEPTH) }, MAX_JSON_DEPTH), false);
  assert.equal(nestedDeeperThan({ x: nest(MAX_JSON_DEPTH + 1) }, MAX_JSON_DEPTH), true);
  assert.deepEqual(toClaims({ x: nest(MAX_JSON_DEPTH) }).ok, true);
});

test('an answer nested 1,000 or 100,000 deep is a failure of its own, without overflowing the stack', () => {
  for (const levels of [1000, 100_000]) assert.deepEqual(toClaims({ x: nest(levels) }), { ok: false, cause: 'claims_too_deep', detail: `over ${MAX_JSON_DEPTH} levels` });
});

test('a cycle is still refused as not serializable, and a shared object is fine', () => {
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  assert.equal((toClaims({ c: cyclic }) as { cause: string }).cause, 'not_serializable');
  const shared = { v: 1 };
  assert.deepEqual(toClaims({ a: shared, b: shared }), { ok: true, claims: { a: { v: 1 }, b: { v: 1 } } });
});
