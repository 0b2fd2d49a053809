/**
 * Receivers' addresses are checked when events are delivered, not only when the stream or client is
 * written (issue 14): a stream endpoint or back-channel logout URI whose name now resolves to an
 * address the webhook policy refuses is not called, and the row waits with the reason. The same rows
 * are delivered once the name's address is allowed, so the refusal is the address's doing.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type dns from 'node:dns';
import { adminSuite } from './support/admin.ts';
import { PUSH, receiverClient, ssf, ssfToken, startSetReceiver } from './support/signals.ts';
import { REDIRECT_URI } from './support/fixtures.ts';
import { LOGOUT_MAX_ATTEMPTS, startDelivery } from '../src/signals/delivery.ts';
import { recordLogouts } from '../src/signals/backchannel.ts';
import { parseAllowedHosts, PUBLIC_ONLY, type AddressPolicy } from '../src/hooks/address-policy.ts';
import { createLogger } from '../src/log.ts';
import { createMetrics } from '../src/metrics.ts';

// This instance records but does not deliver: the test runs the delivery worker itself.
const suite = adminSuite({ TESSERA_SSF_DELIVERY: '0' });
let receiver: Awaited<ReturnType<typeof startSetReceiver>>;
before(async () => {
  receiver = await startSetReceiver();
});
after(async () => receiver?.stop());

/** Every name resolves to loopback, as a public name re-pointed at a private address would. */
const toLoopback = ((_host: string, _options: unknown, callback: (err: null, addresses: dns.LookupAddress[]) => void) =>
  callback(null, [{ address: '127.0.0.1', family: 4 }])) as unknown as typeof dns.lookup;

/** One delivery round with `policy`, run to its end. */
async function deliverOnce(policy: AddressPolicy) {
  const worker = startDelivery({
    db: suite.server.db,
    issuer: suite.server.issuer,
    log: createLogger('silent'),
    metrics: createMetrics(),
    settings: { pollMs: 60_000, retryBaseMs: 10, pauseAfter: 100, leaseS: 60, timeoutMs: 5000, keysRefreshS: 60 },
    addressPolicy: policy,
    resolve: toLoopback,
  });
  await worker.stop();
}

test('a stream endpoint and a back-channel logout URI whose names resolve to a refused address are not called', async () => {
  const port = new URL(receiver.base).port;
  // Names pass when written (they are not addresses); what they resolve to is checked at each call.
  const created = await suite.api('POST', '/clients', { body: { ...receiverClient('Rebound app'), redirect_uris: [REDIRECT_URI], backchannel_logout_uri: `http://rp.rebound.test:${port}/logout` } });
  assert.equal(created.status, 201, JSON.stringify(created.json));
  const client = created.json as { client_id: string; client_secret: string };
  const token = await ssfToken(suite.server.issuer, client);
  const stream = await ssf(suite.server.issuer, token, 'POST', '/ssf/stream', { delivery: { method: PUSH, endpoint_url: `http://receiver.rebound.test:${port}/events` } });
  assert.equal(stream.status, 201, JSON.stringify(stream.json));
  const streamId = stream.json.stream_id as string;
  assert.equal((await ssf(suite.server.issuer, token, 'POST', '/ssf/verify', { stream_id: streamId, state: 'rebound' })).status, 204);
  assert.equal(await recordLogouts(suite.server.db, [{ client_id: client.client_id, sub: 'rebound-user', sid: 'rebound-sid' }]), 1);

  await deliverOnce(PUBLIC_ONLY);
  assert.equal(receiver.received.filter((d) => d.path === '/events' || d.path === '/logout').length, 0, 'nothing reached the loopback receiver');
  const set = await suite.server.db('ssf_outbox').where({ stream_id: streamId }).first();
  assert.equal(set.delivered_at, null);
  assert.match(set.last_error, /^address refused: receiver\.rebound\.test resolves to an address that is not public/);
  const logout = await suite.server.db('backchannel_outbox').where({ client_id: client.client_id }).first();
  assert.equal(logout.delivered_at, null);
  assert.match(logout.last_error, /^address refused: rp\.rebound\.test resolves to an address that is not public/);

  // Allowed now (TESSERA_HOOK_ALLOWED_HOSTS=127.0.0.1): the same rows go through.
  await suite.server.db('ssf_outbox').where({ stream_id: streamId }).update({ next_attempt_at: suite.server.db.fn.now() });
  await suite.server.db('backchannel_outbox').where({ client_id: client.client_id }).update({ next_attempt_at: suite.server.db.fn.now() });
  await deliverOnce((parseAllowedHosts('127.0.0.1') as { policy: AddressPolicy }).policy);
  assert.equal(receiver.received.filter((d) => d.path === '/events').length, 1);
  const logouts = receiver.received.filter((d) => d.path === '/logout');
  assert.equal(logouts.length, 1);
  assert.ok(new URLSearchParams(logouts[0]!.token).get('logout_token'), 'a logout token was POSTed');
});

test('a logout token the RP keeps refusing is retried, then given up after 10 attempts with the reason kept', async () => {
  const allowed = (parseAllowedHosts('127.0.0.1') as { policy: AddressPolicy }).policy;
  receiver.failing.add('/always-500');
  const created = await suite.api('POST', '/clients', { body: { client_name: 'Broken RP', redirect_uris: [REDIRECT_URI], scope: 'openid', backchannel_logout_uri: `${receiver.base}/always-500` } });
  assert.equal(created.status, 201, JSON.stringify(created.json));
  const clientId = created.json.client_id as string;
  assert.equal(await recordLogouts(suite.server.db, [{ client_id: clientId, sub: 'gone-user', sid: 'gone-sid' }]), 1);
  const row = () => suite.server.db('backchannel_outbox').where({ client_id: clientId }).first();
  for (let attempt = 1; attempt <= LOGOUT_MAX_ATTEMPTS; attempt++) {
    await deliverOnce(allowed);
    const r = await row();
    assert.equal(r.attempts, attempt);
    assert.equal(r.last_error, 'receiver answered 500');
    assert.equal(Boolean(r.given_up_at), attempt === LOGOUT_MAX_ATTEMPTS, `given up only after attempt ${LOGOUT_MAX_ATTEMPTS} (now ${attempt})`);
    // Due again at once rather than after its backoff.
    await suite.server.db('backchannel_outbox').where({ client_id: clientId }).update({ next_attempt_at: suite.server.db.fn.now() });
  }
  await deliverOnce(allowed);
  assert.equal((await row()).attempts, LOGOUT_MAX_ATTEMPTS, 'a given-up row is not tried again');
  assert.equal((await row()).delivered_at, null);
});
