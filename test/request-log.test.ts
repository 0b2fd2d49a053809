/**
 * What the README says of the logs: one JSON line per request with its request_id (sent back as
 * x-request-id, kept from the caller when it looks sane), the path without the query string, and
 * one audit line per admin write naming the fields changed, never their values.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { adminSuite } from './support/admin.ts';
import { unique } from './support/fixtures.ts';

const suite = adminSuite({ TESSERA_LOG_LEVEL: 'info' });
const entries = () => suite.server.logs.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);

test('a sane x-request-id is kept, echoed and logged; anything else is replaced by a fresh id', async () => {
  const kept = await fetch(`${suite.server.issuer}/healthz`, { headers: { 'x-request-id': 'trace-42.a:b_c' } });
  assert.equal(kept.headers.get('x-request-id'), 'trace-42.a:b_c');
  assert.ok(entries().some((e) => e.msg === 'request' && e.request_id === 'trace-42.a:b_c' && e.path === '/healthz'));

  for (const bad of ['has space', 'x'.repeat(129), '<script>', 'a/b', '"quoted"']) {
    const res = await fetch(`${suite.server.issuer}/healthz`, { headers: { 'x-request-id': bad } });
    const id = res.headers.get('x-request-id')!;
    assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/, `${JSON.stringify(bad)} replaced by a UUID`);
    assert.ok(entries().some((e) => e.request_id === id));
  }
  const none = await fetch(`${suite.server.issuer}/healthz`);
  assert.match(none.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/, 'a request without one gets one');
});

test('request lines carry the path, never the query string', async () => {
  const marker = unique('state-value');
  await (await fetch(`${suite.server.issuer}/auth?client_id=nobody&state=${marker}&code_challenge=${marker}`)).text();
  const line = suite.server.logs.find((l) => l.includes('"msg":"request"') && l.includes('"path":"/auth"'));
  assert.ok(line, 'the /auth request is logged');
  assert.ok(!suite.server.logs.some((l) => l.includes(marker)), 'no query value in any log line');
});

test('each admin write is audited: actor, action and the names of the fields changed, never their values', async () => {
  const username = unique('audited');
  const secretName = unique('Private Name');
  const created = await suite.api('POST', '/users', { body: { username, password: 'correct horse battery', name: secretName } });
  assert.equal(created.status, 201);
  const patched = await suite.api('PATCH', `/users/${created.json.id}`, { body: { email: 'changed@example.com', enabled: true } });
  assert.equal(patched.status, 200);
  const audits = entries().filter((e) => e.msg === 'admin write' && e.user_id === created.json.id);
  assert.deepEqual(
    audits.map((e) => ({ actor: e.actor, action: e.action, fields: e.fields })),
    [
      { actor: 'test-admin', action: 'user.create', fields: ['username', 'name'] },
      { actor: 'test-admin', action: 'user.update', fields: ['email', 'enabled'] },
    ],
  );
  const text = suite.server.logs.join('\n');
  assert.ok(!text.includes(secretName) && !text.includes('changed@example.com') && !text.includes('correct horse battery'), 'no value written');
});
