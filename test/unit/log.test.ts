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
