import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger } from '../../src/log.ts';

test('secret-looking fields are redacted at any depth, other fields kept', () => {
  const lines: string[] = [];
  const log = createLogger('debug', { request_id: 'r1' }, (l) => lines.push(l));
  log.info('x', { password: 'hunter2', nested: { client_secret: 's3cret', refresh_token: 'rt', list: [{ code: 'abc' }] }, client_id: 'app' });
  const entry = JSON.parse(lines[0]!);
  assert.equal(entry.request_id, 'r1');
  assert.equal(entry.client_id, 'app');
  assert.equal(entry.password, '[redacted]');
  assert.equal(entry.nested.client_secret, '[redacted]');
  assert.equal(entry.nested.refresh_token, '[redacted]');
  assert.equal(entry.nested.list[0].code, '[redacted]');
  assert.ok(!lines[0]!.includes('hunter2') && !lines[0]!.includes('s3cret'));
});

test('lines below the level are not written', () => {
  const lines: string[] = [];
  const log = createLogger('warn', {}, (l) => lines.push(l));
  log.info('quiet');
  log.warn('loud');
  assert.deepEqual(lines.map((l) => JSON.parse(l).msg), ['loud']);
});

test('a secret nested deeper than any fixed limit is still redacted, and nothing past the depth limit is written', () => {
  const lines: string[] = [];
  const log = createLogger('debug', {}, (l) => lines.push(l));
  const nest = (levels: number, leaf: Record<string, unknown>) => {
    let v: Record<string, unknown> = leaf;
    for (let i = 0; i < levels; i++) v = { inner: v };
    return v;
  };
  log.info('seven', { a: nest(7, { password: 'seven-deep' }) });
  log.info('deep', { a: nest(40, { note: 'forty-deep' }) });
  assert.ok(!lines[0]!.includes('seven-deep'), 'a password 7 levels deep is written in clear');
  assert.ok(lines[0]!.includes('[redacted]'));
  assert.ok(!lines[1]!.includes('forty-deep'), 'a value past the depth limit is written');
  assert.ok(lines[1]!.includes('[too deep]'));
});

test('a value reached twice is written twice, a cycle is cut', () => {
  const lines: string[] = [];
  const log = createLogger('debug', {}, (l) => lines.push(l));
  const shared = { id: 'x' };
  const cyclic: Record<string, unknown> = { name: 'loop' };
  cyclic.self = cyclic;
  log.info('m', { a: shared, b: shared, c: cyclic });
  const entry = JSON.parse(lines[0]!);
  assert.deepEqual([entry.a, entry.b], [{ id: 'x' }, { id: 'x' }]);
  assert.equal(entry.c.self, '[circular]');
});
