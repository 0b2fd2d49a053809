import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findUnstorableText, unstorableText } from '../../src/model/json.ts';
import { unstorableIn } from '../../src/http/unstorable-params.ts';

test('NUL and lone surrogates cannot be stored; every other character can', () => {
  for (const ok of ['', 'plain', 'café', '𝔘 astral', '\u202e rtl', '\ufeff', '\uffff', 'a\u0301']) assert.equal(unstorableText(ok), undefined, JSON.stringify(ok));
  assert.match(unstorableText('a\u0000b')!, /NUL/);
  for (const bad of ['\ud800', 'x\udfff', '\ud83d!', '\ude00\ud83d']) assert.match(unstorableText(bad)!, /lone surrogate/, JSON.stringify(bad));
});

test('found at any depth, in keys as in values, without recursion', () => {
  assert.equal(findUnstorableText({ a: ['x', { b: 'y' }], n: 1, z: null }), undefined);
  assert.match(findUnstorableText({ a: [{ b: ['\u0000'] }] })!, /NUL/);
  assert.match(findUnstorableText({ ['k\ud800']: 1 })!, /lone surrogate/);
  let deep: unknown = 'a\u0000';
  for (let i = 0; i < 100_000; i++) deep = [deep];
  assert.match(findUnstorableText(deep)!, /NUL/);
});

test('the decoded path and query are checked; malformed escapes are left to the routes', () => {
  assert.equal(unstorableIn('/auth', 'client_id=abc&state=%C3%A9'), undefined);
  assert.match(unstorableIn('/auth', 'state=a%00b')!, /NUL/);
  assert.match(unstorableIn('/interaction/%00', '')!, /NUL/);
  assert.equal(unstorableIn('/interaction/%ED%A0%80', ''), undefined, 'not UTF-8: the router answers it');
});
