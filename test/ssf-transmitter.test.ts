import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { adminSuite } from './support/admin.ts';
import { aUser, unique } from './support/fixtures.ts';
import { UserAgent } from './support/browserless.ts';
import { purgeDeliveredSignals } from '../src/signals/index.ts';
import { ALL_EVENTS, CLAIMS_CHANGE, CREDENTIAL_CHANGE, PUSH, SESSION_REVOKED, VERIFICATION, receiverClient, signInTo, ssf, ssfToken, startSetReceiver, verifySet } from './support/signals.ts';

// Shared Signals transmitter (issue 14): receivers are clients that subscribe with a token of
// scope ssf; each trigger's SET arrives signed with Tessera's keys, names the user and the changed
// claims, and never reaches a client the user has no grant with.

const PASSWORD = 'correct horse battery';
const suite = adminSuite({ TESSERA_SSF_POLL_MS: '50', TESSERA_SSF_RETRY_BASE_MS: '50', TESSERA_SSF_PAUSE_AFTER: '3' });
let receiver: Awaited<ReturnType<typeof startSetReceiver>>;
type Registered = { client_id: string; client_secret: string; token: string; stream_id: string; path: string };
let granted: Registered;
let stranger: Registered;
let user: { id: string; username: string };

before(async () => {
  receiver = await startSetReceiver();
});
after(async () => receiver?.stop());

async function subscriber(name: string, path: string, events = ALL_EVENTS): Promise<Registered> {
  const created = await suite.api('POST', '/clients', { body: receiverClient(name) });
  assert.equal(created.status, 201, JSON.stringify(created.json));
  const client = created.json as { client_id: string; client_secret: string };
  const token = await ssfToken(suite.server.issuer, client);
  const stream = await ssf(suite.server.issuer, token, 'POST', '/ssf/stream', { delivery: { method: PUSH, endpoint_url: `${receiver.base}${path}`, authorization_header: 'Bearer receiver-secret' }, events_requested: events });
  assert.equal(stream.status, 201, JSON.stringify(stream.json));
  return { ...client, token, stream_id: stream.json.stream_id, path };
}

/** The next SET on a path, verified, with its single event. */
async function nextEvent(r: Registered) {
  const d = await receiver.next(r.path);
  assert.equal(d.contentType, 'application/secevent+jwt');
  assert.equal(d.authorization, 'Bearer receiver-secret', 'the receiver gets the authorization header it registered');
  const set = await verifySet(suite.server.issuer, d.token, r.client_id);
  const types = Object.keys(set.events);
  assert.equal(types.length, 1);
  return { set, type: types[0]!, event: set.events[types[0]!]! };
}

test('transmitter metadata', async () => {
  const res = await fetch(`${suite.server.issuer}/.well-known/ssf-configuration`);
  assert.equal(res.status, 200);
  const m = await res.json();
  assert.equal(m.issuer, suite.server.issuer);
  assert.equal(m.jwks_uri, `${suite.server.issuer}/jwks`);
  assert.deepEqual(m.delivery_methods_supported, [PUSH]);
  for (const e of ['configuration_endpoint', 'status_endpoint', 'verification_endpoint', 'add_subject_endpoint', 'remove_subject_endpoint']) assert.ok(m[e].startsWith(`${suite.server.issuer}/ssf/`), e);
  assert.ok(Array.isArray(m.authorization_schemes));
});

test('a receiver subscribes with a token of scope ssf; stream read, update, status and verification', async () => {
  granted = await subscriber('Granted app', '/granted');
  stranger = await subscriber('Stranger app', '/stranger');
  const read = await ssf(suite.server.issuer, granted.token, 'GET', `/ssf/stream?stream_id=${granted.stream_id}`);
  assert.equal(read.status, 200);
  assert.equal(read.json.aud, granted.client_id);
  assert.equal(read.json.iss, suite.server.issuer);
  assert.deepEqual(read.json.events_delivered, ALL_EVENTS);
  assert.equal(read.json.delivery.authorization_header, undefined, 'the push authorization header is never shown');
  // Another client's stream is not this receiver's to see.
  assert.equal((await ssf(suite.server.issuer, granted.token, 'GET', `/ssf/stream?stream_id=${stranger.stream_id}`)).status, 404);
  assert.equal((await ssf(suite.server.issuer, granted.token, 'POST', '/ssf/stream', { delivery: { method: PUSH, endpoint_url: `${receiver.base}/again` } })).status, 409);
  const patched = await ssf(suite.server.issuer, granted.token, 'PATCH', '/ssf/stream', { stream_id: granted.stream_id, description: 'granted app' });
  assert.equal(patched.json.description, 'granted app');
  const st = await ssf(suite.server.issuer, granted.token, 'GET', `/ssf/status?stream_id=${granted.stream_id}`);
  assert.deepEqual(st.json, { stream_id: granted.stream_id, status: 'enabled' });

  assert.equal((await ssf(suite.server.issuer, granted.token, 'POST', '/ssf/verify', { stream_id: granted.stream_id, state: 'state-123' })).status, 204);
  const { set, type, event } = await nextEvent(granted);
  assert.equal(type, VERIFICATION);
  assert.equal(event.state, 'state-123');
  assert.deepEqual(set.sub_id, { format: 'opaque', id: granted.stream_id });
});

test('the stream API refuses missing and wrong tokens and bad bodies, and changes nothing', async () => {
  const issuer = suite.server.issuer;
  assert.equal((await ssf(issuer, undefined, 'GET', '/ssf/stream')).status, 401);
  assert.equal((await ssf(issuer, 'not-a-token', 'GET', '/ssf/stream')).status, 401);
  const admin = await suite.tokenFor('admin');
  assert.equal((await ssf(issuer, admin, 'GET', '/ssf/stream')).status, 403);
  for (const body of [
    '{not json',
    { stream_id: granted.stream_id, delivery: { method: 'urn:ietf:rfc:8936' } },
    { stream_id: granted.stream_id, delivery: { method: PUSH, endpoint_url: 'http://10.0.0.7/events' } },
    { stream_id: granted.stream_id, delivery: { method: PUSH, endpoint_url: 'ftp://127.0.0.1/x' } },
    { stream_id: granted.stream_id, events_requested: 'all' },
  ]) {
    const res = await ssf(issuer, granted.token, 'PATCH', '/ssf/stream', body);
    assert.ok(res.status === 400, `${JSON.stringify(body)}: ${res.status}`);
    assert.equal(res.headers.get('content-type'), 'application/problem+json');
  }
  assert.equal((await ssf(issuer, granted.token, 'POST', '/ssf/status', { stream_id: granted.stream_id, status: 'sleeping' })).status, 400);
  const kept = await ssf(issuer, granted.token, 'GET', `/ssf/stream?stream_id=${granted.stream_id}`);
  assert.equal(kept.json.delivery.endpoint_url, `${receiver.base}/granted`);
  assert.deepEqual(kept.json.events_requested, ALL_EVENTS);
});

test('privileges PUT, DELETE and bulk PUT: token-claims-change with the new claims, only to the client with a grant', async () => {
  user = await aUser(suite.server.db, PASSWORD);
  await signInTo(suite.server.issuer, granted, user.username, PASSWORD, 'openid privileges organization');

  assert.equal((await suite.api('PUT', `/users/${user.id}/privileges`, { body: { profile: { role: 'editor' }, scope: 'docs:read' } })).status, 200);
  let got = await nextEvent(granted);
  assert.equal(got.type, CLAIMS_CHANGE);
  assert.deepEqual(got.set.sub_id, { format: 'iss_sub', iss: suite.server.issuer, sub: user.id });
  assert.deepEqual(got.event.claims, { user_profile: { role: 'editor' }, user_scope: 'docs:read' });
  assert.equal(typeof got.event.event_timestamp, 'number');

  assert.equal((await suite.api('PUT', '/privileges', { body: { items: [{ user_id: user.id, profile: 'viewer', scope: 'docs:read' }] } })).status, 200);
  got = await nextEvent(granted);
  assert.deepEqual(got.event.claims, { user_profile: 'viewer', user_scope: 'docs:read' });

  assert.equal((await suite.api('DELETE', `/users/${user.id}/privileges`)).status, 204);
  got = await nextEvent(granted);
  assert.deepEqual(got.event.claims, { user_profile: null, user_scope: '' });

  // A refused write (412) records nothing: the next event is the one after it.
  assert.equal((await suite.api('PUT', `/users/${user.id}/privileges`, { body: { profile: 'x', scope: '' }, headers: { 'if-match': '"41"' } })).status, 412);
});

test('membership added, changed, removed, organization renamed and deleted: the organization claim', async () => {
  const alias = unique('org').toLowerCase();
  const created = await suite.api('POST', '/organizations', { body: { alias, name: 'Acme' } });
  assert.equal(created.status, 201, JSON.stringify(created.json));
  const orgId = created.json.id;

  assert.equal((await suite.api('PUT', `/organizations/${alias}/members/${user.id}`, { body: { roles: ['admin'], attributes: { department: 'R&D' } } })).status, 200);
  let got = await nextEvent(granted);
  assert.equal(got.type, CLAIMS_CHANGE);
  assert.deepEqual(got.event.claims, { organization: { [alias]: { id: orgId, name: 'Acme', roles: ['admin'], department: 'R&D' } } });

  assert.equal((await suite.api('PATCH', `/organizations/${alias}`, { body: { name: 'Acme Corp' } })).status, 200);
  got = await nextEvent(granted);
  assert.deepEqual(got.event.claims, { organization: { [alias]: { id: orgId, name: 'Acme Corp', roles: ['admin'], department: 'R&D' } } });

  assert.equal((await suite.api('DELETE', `/organizations/${alias}/members/${user.id}`)).status, 204);
  got = await nextEvent(granted);
  assert.deepEqual(got.event.claims, { organization: { [alias]: null } });

  assert.equal((await suite.api('PUT', `/organizations/${alias}/members/${user.id}`, { body: { roles: ['viewer'] } })).status, 200);
  got = await nextEvent(granted);
  assert.deepEqual(got.event.claims, { organization: { [alias]: { id: orgId, name: 'Acme Corp', roles: ['viewer'] } } });

  assert.equal((await suite.api('DELETE', `/organizations/${alias}`)).status, 204);
  got = await nextEvent(granted);
  assert.deepEqual(got.event.claims, { organization: { [alias]: null } });
});

test('a password change: credential-change and session-revoked; admin logout: session-revoked', async () => {
  assert.equal((await suite.api('PATCH', `/users/${user.id}`, { body: { password: 'a brand new password' } })).status, 200);
  const first = await nextEvent(granted);
  const second = await nextEvent(granted);
  const byType = new Map([first, second].map((e) => [e.type, e]));
  assert.deepEqual(byType.get(CREDENTIAL_CHANGE)?.event.credential_type, 'password');
  assert.deepEqual(byType.get(CREDENTIAL_CHANGE)?.event.change_type, 'update');
  assert.equal(byType.get(SESSION_REVOKED)?.set.sub_id.sub, user.id);
  assert.notEqual(first.set.jti, second.set.jti);

  // The password change revoked the grant; a new sign-in makes one again.
  const newPassword = 'a brand new password';
  await signInTo(suite.server.issuer, granted, user.username, newPassword, 'openid');
  assert.equal((await suite.api('POST', `/users/${user.id}/logout`)).status, 200);
  const revoked = await nextEvent(granted);
  assert.equal(revoked.type, SESSION_REVOKED);
  assert.equal(revoked.event.initiating_entity, 'admin');
  assert.equal(revoked.set.sub_id.sub, user.id);
});

test('RP-initiated logout, disabling and deleting a user: session-revoked', async () => {
  const issuer = suite.server.issuer;
  const someone = await aUser(suite.server.db, PASSWORD);
  const agent = new UserAgent();
  const tokens = await signInTo(issuer, granted, someone.username, PASSWORD, 'openid', agent);
  const page = await agent.follow(`${issuer}/session/end?id_token_hint=${tokens.id_token}`, issuer);
  await agent.submit(page.url, page.body!, /id="op.logoutForm"/, { logout: 'yes' }, issuer);
  let got = await nextEvent(granted);
  assert.equal(got.type, SESSION_REVOKED);
  assert.equal(got.set.sub_id.sub, someone.id);
  assert.equal(got.event.initiating_entity, 'user');

  for (const change of ['disable', 'delete'] as const) {
    const other = await aUser(suite.server.db, PASSWORD);
    await signInTo(issuer, granted, other.username, PASSWORD, 'openid');
    const res = change === 'disable' ? await suite.api('PATCH', `/users/${other.id}`, { body: { enabled: false } }) : await suite.api('DELETE', `/users/${other.id}`);
    assert.ok(res.status === 200 || res.status === 204, `${change}: ${res.status}`);
    got = await nextEvent(granted);
    assert.equal(got.type, SESSION_REVOKED, change);
    assert.equal(got.set.sub_id.sub, other.id, change);
    assert.deepEqual(got.event.reason_admin, { en: change === 'disable' ? 'user disabled' : 'user deleted' });
  }
});

test('a receiver that keeps failing is paused with its status visible; enabled again, it gets what was held', async () => {
  const flaky = await subscriber('Flaky app', '/flaky');
  const someone = await aUser(suite.server.db, PASSWORD);
  await signInTo(suite.server.issuer, flaky, someone.username, PASSWORD, 'openid privileges');
  receiver.failing.add('/flaky');
  assert.equal((await suite.api('PUT', `/users/${someone.id}/privileges`, { body: { profile: 'held', scope: '' } })).status, 200);
  let status;
  for (;;) {
    status = (await ssf(suite.server.issuer, flaky.token, 'GET', `/ssf/status?stream_id=${flaky.stream_id}`)).json;
    if (status.status !== 'enabled') break;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.equal(status.status, 'paused');
  assert.match(status.reason, /3 deliveries failed in a row; last: receiver answered 500/);
  receiver.failing.delete('/flaky');
  const enabled = await ssf(suite.server.issuer, flaky.token, 'POST', '/ssf/status', { stream_id: flaky.stream_id, status: 'enabled' });
  assert.deepEqual(enabled.json, { stream_id: flaky.stream_id, status: 'enabled' });
  const got = await nextEvent(flaky);
  assert.deepEqual(got.event.claims, { user_profile: 'held', user_scope: '' });
});

test('a stream gets only the events it asked for', async () => {
  const picky = await subscriber('Picky app', '/picky', [SESSION_REVOKED]);
  const someone = await aUser(suite.server.db, PASSWORD);
  await signInTo(suite.server.issuer, picky, someone.username, PASSWORD, 'openid privileges');
  assert.equal((await suite.api('PUT', `/users/${someone.id}/privileges`, { body: { profile: 'not asked for', scope: '' } })).status, 200);
  assert.equal((await suite.api('POST', `/users/${someone.id}/logout`)).status, 200);
  const got = await nextEvent(picky);
  assert.equal(got.type, SESSION_REVOKED, 'the claims change before it was never sent');
});

test('remove_subject stops events about a user on that stream; add_subject brings them back', async () => {
  const issuer = suite.server.issuer;
  const someone = await aUser(suite.server.db, PASSWORD);
  await signInTo(issuer, granted, someone.username, PASSWORD, 'openid privileges');
  const subject = { format: 'iss_sub', iss: issuer, sub: someone.id };
  const removed = await ssf(issuer, granted.token, 'POST', '/ssf/subjects/remove', { stream_id: granted.stream_id, subject });
  assert.equal(removed.status, 200);
  assert.equal((await suite.api('PUT', `/users/${someone.id}/privileges`, { body: { profile: 'while removed', scope: '' } })).status, 200);
  assert.equal((await ssf(issuer, granted.token, 'POST', '/ssf/subjects/add', { stream_id: granted.stream_id, subject })).status, 200);
  assert.equal((await suite.api('PUT', `/users/${someone.id}/privileges`, { body: { profile: 'added again', scope: '' } })).status, 200);
  // A stream's events are pushed in order: had the first been recorded, it would arrive first.
  const got = await nextEvent(granted);
  assert.equal(got.set.sub_id.sub, someone.id);
  assert.deepEqual(got.event.claims, { user_profile: 'added again', user_scope: '' });

  for (const bad of [{ ...subject, iss: 'https://elsewhere.example' }, { format: 'email', email: 'a@b.example' }, { format: 'iss_sub', iss: issuer }]) {
    assert.equal((await ssf(issuer, granted.token, 'POST', '/ssf/subjects/remove', { stream_id: granted.stream_id, subject: bad })).status, 400, JSON.stringify(bad));
  }
  assert.equal((await ssf(issuer, granted.token, 'POST', '/ssf/subjects/remove', { stream_id: stranger.stream_id, subject })).status, 404, "another client's stream");
  assert.equal(Number((await suite.server.db('ssf_excluded_subjects').where({ stream_id: granted.stream_id }).count<{ n: number }[]>('* as n'))[0]!.n), 0, 'refused requests excluded nobody');
});

test('nothing about the user ever reached the client they have no grant with; metrics count deliveries', async () => {
  const aboutUser = receiver.received.filter((d) => d.path === '/stranger');
  for (const d of aboutUser) {
    const set = await verifySet(suite.server.issuer, d.token, stranger.client_id);
    assert.notEqual(set.sub_id.sub, user.id);
  }
  assert.equal(aboutUser.length, 0);
  const metrics = await (await fetch(`${suite.server.issuer}/metrics`)).text();
  assert.match(metrics, /tessera_ssf_events_delivered_total\{event="token-claims-change"\} \d+/);
  assert.match(metrics, /tessera_ssf_events_queued_total\{event="session-revoked"\} \d+/);
  assert.match(metrics, /tessera_ssf_delivery_failures_total\{event="token-claims-change"\} [3-9]/);
  assert.match(metrics, /tessera_ssf_delivery_lag_seconds_count \d+/);
});

test('delivered events are purged a day after delivery; undelivered ones never are', async () => {
  const db = suite.server.db;
  const stream = [granted.stream_id];
  const old = (await db('ssf_outbox').whereIn('stream_id', stream).whereNotNull('delivered_at').orderBy('id').first('id'))!;
  await db('ssf_outbox').where({ id: old.id }).update({ delivered_at: db.raw("now() - interval '2 days'") });
  const waiting = await db('ssf_outbox').insert({ jti: `test-${Date.now()}`, stream_id: stranger.stream_id, event_type: VERIFICATION, subject: JSON.stringify({ format: 'opaque', id: 'x' }), event: '{}', next_attempt_at: db.raw("now() + interval '1 hour'"), created_at: db.raw("now() - interval '3 days'") }).returning('id');
  const before = Number((await db('ssf_outbox').count<{ n: number }[]>('* as n'))[0]!.n);
  assert.ok((await purgeDeliveredSignals(db)) >= 1);
  assert.equal(await db('ssf_outbox').where({ id: old.id }).first(), undefined);
  assert.ok(await db('ssf_outbox').where({ id: waiting[0].id }).first(), 'an undelivered event stays, however old');
  assert.ok(Number((await db('ssf_outbox').count<{ n: number }[]>('* as n'))[0]!.n) < before);
  assert.equal(Number((await db('ssf_outbox').whereIn('stream_id', stream).count<{ n: number }[]>('* as n'))[0]!.n) > 0, true, 'recently delivered events are kept');
});
