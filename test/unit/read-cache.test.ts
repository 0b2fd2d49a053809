import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createReadCache } from '../../src/storage/read-cache.ts';
import type { Database } from '../../src/db/connect.ts';

// The cache only uses the handle as a key: any object stands for a database here.
const dbA = {} as Database;
const dbB = {} as Database;

function setup() {
  let clock = 0;
  let reads = 0;
  const rows = new Map<string, { name: string }>([['c1', { name: 'one' }]]);
  const cache = createReadCache<{ name: string }>(5000, () => clock);
  const load = (key: string) => async () => {
    reads++;
    return rows.has(key) ? { ...rows.get(key)! } : undefined;
  };
  return { cache, rows, load, reads: () => reads, tick: (ms: number) => (clock += ms) };
}

test('a found row is reused until the time is up, then read again', async () => {
  const s = setup();
  assert.deepEqual(await s.cache.get(dbA, 'c1', s.load('c1')), { name: 'one' });
  s.rows.set('c1', { name: 'changed elsewhere' });
  s.tick(4999);
  assert.deepEqual(await s.cache.get(dbA, 'c1', s.load('c1')), { name: 'one' });
  assert.equal(s.reads(), 1);
  s.tick(1);
  assert.deepEqual(await s.cache.get(dbA, 'c1', s.load('c1')), { name: 'changed elsewhere' });
  assert.equal(s.reads(), 2);
});

test('a missing row is never remembered: once added, it is found at the next read', async () => {
  const s = setup();
  assert.equal(await s.cache.get(dbA, 'new', s.load('new')), undefined);
  s.rows.set('new', { name: 'added' });
  assert.deepEqual(await s.cache.get(dbA, 'new', s.load('new')), { name: 'added' });
});

test('forget makes the next read go to the database at once', async () => {
  const s = setup();
  await s.cache.get(dbA, 'c1', s.load('c1'));
  s.rows.set('c1', { name: 'rotated' });
  s.cache.forget(dbA, 'c1');
  assert.deepEqual(await s.cache.get(dbA, 'c1', s.load('c1')), { name: 'rotated' });
});

test('each database handle has its own rows, and callers cannot change the kept row', async () => {
  const s = setup();
  const got = (await s.cache.get(dbA, 'c1', s.load('c1')))!;
  assert.throws(() => {
    got.name = 'mutated by a caller';
  }, TypeError);
  assert.deepEqual(await s.cache.get(dbA, 'c1', s.load('c1')), { name: 'one' });
  await s.cache.get(dbB, 'c1', s.load('c1'));
  assert.equal(s.reads(), 2);
});
