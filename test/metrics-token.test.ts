/** Issue 13: /metrics is not public when TESSERA_METRICS_TOKEN is set. */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from './support/server.ts';

const TOKEN = 'metrics-token-0123456789abcdef';
let server: TestServer;
before(async () => {
  server = await startTestServer({ TESSERA_METRICS_TOKEN: TOKEN });
});
after(async () => server.stop());

const metrics = (authorization?: string) => fetch(`${server.issuer}/metrics`, { headers: authorization ? { authorization } : {} });

test('with TESSERA_METRICS_TOKEN set, /metrics answers 401 without the token, with a wrong one or a prefix of it', async () => {
  for (const authorization of [undefined, 'Bearer wrong', `Bearer ${TOKEN.slice(0, -1)}`, `Bearer ${TOKEN}x`, `Basic ${Buffer.from(`x:${TOKEN}`).toString('base64')}`, TOKEN]) {
    const res = await metrics(authorization);
    const body = await res.text();
    assert.equal(res.status, 401, `${authorization}: ${body.slice(0, 100)}`);
    assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer/);
    assert.doesNotMatch(body, /tessera_/, 'no metric is shown');
  }
});

test('with the token as a bearer token, /metrics answers the Prometheus text', async () => {
  const res = await metrics(`Bearer ${TOKEN}`);
  assert.equal(res.status, 200);
  assert.match(await res.text(), /# TYPE tessera_/);
});
