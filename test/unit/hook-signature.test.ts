import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { signWebhook, verifyWebhookSignature } from '../../src/hooks/signature.ts';

const secret = 'a-webhook-secret-of-32-characters';
const body = JSON.stringify({ client_id: 'app', scope: 'openid', request_id: 'r1' });
const now = 1_732_312_800;

test('a signature verifies with the same secret, body and a current clock', () => {
  const header = signWebhook(secret, body, now);
  assert.match(header, /^t=1732312800,v1=[0-9a-f]{64}$/);
  assert.deepEqual(verifyWebhookSignature(secret, header, body, now), { ok: true, timestamp: now });
  // Bytes or string: the same signature.
  assert.equal(verifyWebhookSignature(secret, header, Buffer.from(body), now + 299).ok, true);
  // Fractional seconds are floored to whole unix seconds.
  assert.equal(signWebhook(secret, body, now + 0.9), header);
});

test('the documented algorithm: v1 = hex HMAC-SHA256(secret, "<t>.<body>")', () => {
  const expected = createHmac('sha256', secret).update(`${now}.${body}`).digest('hex');
  assert.equal(signWebhook(secret, body, now), `t=${now},v1=${expected}`);
  // A header built by hand from the documentation verifies.
  assert.equal(verifyWebhookSignature(secret, `t=${now},v1=${expected}`, body, now).ok, true);
});

test('a tampered body, a wrong secret or a forged timestamp is rejected', () => {
  const header = signWebhook(secret, body, now);
  assert.deepEqual(verifyWebhookSignature(secret, header, body.replace('openid', 'admin'), now), { ok: false, reason: 'bad_signature' });
  assert.deepEqual(verifyWebhookSignature('another-secret-of-some-length', header, body, now), { ok: false, reason: 'bad_signature' });
  // Moving the timestamp without re-signing breaks the signature.
  const moved = header.replace(`t=${now}`, `t=${now + 60}`);
  assert.deepEqual(verifyWebhookSignature(secret, moved, body, now + 60), { ok: false, reason: 'bad_signature' });
});

test('timestamps outside the tolerance are rejected (replays), in both directions', () => {
  const header = signWebhook(secret, body, now);
  assert.deepEqual(verifyWebhookSignature(secret, header, body, now + 301), { ok: false, reason: 'timestamp_out_of_tolerance' });
  assert.deepEqual(verifyWebhookSignature(secret, header, body, now - 301), { ok: false, reason: 'timestamp_out_of_tolerance' });
  assert.equal(verifyWebhookSignature(secret, header, body, now + 300).ok, true);
  assert.equal(verifyWebhookSignature(secret, header, body, now + 30, 10).ok, false);
});

test('missing or malformed headers are rejected', () => {
  const good = signWebhook(secret, body, now);
  const v1 = good.split(',v1=')[1]!;
  for (const header of [undefined, null, '', []]) assert.deepEqual(verifyWebhookSignature(secret, header, body, now), { ok: false, reason: 'missing' });
  for (const header of [
    `v1=${v1}`, // no timestamp
    `t=${now}`, // no signature
    `t=${now},v1=`, // empty signature
    `t=${now},v1=${v1.slice(0, 63)}`, // short
    `t=${now},v1=${v1}00`, // long
    `t=${now},v1=${'z'.repeat(64)}`, // not hex
    `t=abc,v1=${v1}`,
    `t=-5,v1=${v1}`,
    `t=${now},t=${now},v1=${v1}`,
    `t=${now};v1=${v1}`,
    'garbage',
  ]) {
    assert.deepEqual(verifyWebhookSignature(secret, header, body, now), { ok: false, reason: 'malformed' }, header);
  }
  // Spaces after commas, an unknown scheme and several v1 entries (one valid) are accepted.
  assert.equal(verifyWebhookSignature(secret, `t=${now}, v0=abc, v1=${'0'.repeat(64)}, v1=${v1}`, body, now).ok, true);
  assert.equal(verifyWebhookSignature(secret, [good], body, now).ok, true);
  assert.equal(verifyWebhookSignature(secret, [good, good], body, now).ok, false);
});

test('the copy-paste verification snippet in hooks/README.md works as documented', async () => {
  const readme = readFileSync(new URL('../../hooks/README.md', import.meta.url), 'utf8');
  const snippet = /```js\n([\s\S]*?verifyTesseraSignature[\s\S]*?)```/.exec(readme)?.[1];
  assert.ok(snippet, 'the README has a js snippet defining verifyTesseraSignature');
  const dir = mkdtempSync(path.join(tmpdir(), 'tessera-snippet-'));
  try {
    const file = path.join(dir, 'verify.mjs');
    writeFileSync(file, snippet);
    const { verifyTesseraSignature } = (await import(pathToFileURL(file).href)) as {
      verifyTesseraSignature: (secret: string, header: string | undefined, raw: Buffer | string, tolerance?: number) => boolean;
    };
    const fresh = Math.floor(Date.now() / 1000);
    const header = signWebhook(secret, body, fresh);
    assert.equal(verifyTesseraSignature(secret, header, Buffer.from(body)), true);
    assert.equal(verifyTesseraSignature(secret, header, body + ' '), false);
    assert.equal(verifyTesseraSignature('wrong-secret-wrong-secret', header, body), false);
    assert.equal(verifyTesseraSignature(secret, signWebhook(secret, body, fresh - 600), body), false);
    assert.equal(verifyTesseraSignature(secret, undefined, body), false);
    assert.equal(verifyTesseraSignature(secret, 't=1,v1=xyz', body), false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
