/**
 * The user's own sign-in changes reach their apps as Shared Signals (issue 14 with issue 18): a
 * password reset through the link is a credential-change and a session-revoked initiated by the
 * user, in the transaction of the change; removing the user's second factors is a credential-change
 * of kind `app` (an authenticator) per removal; signing out another browser from /account is a
 * session-revoked to that session's apps.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { adminSuite } from './support/admin.ts';
import { aUser } from './support/fixtures.ts';
import { UserAgent } from './support/browserless.ts';
import { addConfirmedTotp } from '../src/signin/storage.ts';
import { ALL_EVENTS, CREDENTIAL_CHANGE, PUSH, SESSION_REVOKED, receiverClient, signInTo, ssf, ssfToken, startSetReceiver, verifySet } from './support/signals.ts';

const PASSWORD = 'correct horse battery';
const suite = adminSuite({ TESSERA_SSF_POLL_MS: '50', TESSERA_SSF_RETRY_BASE_MS: '50' });
let receiver: Awaited<ReturnType<typeof startSetReceiver>>;

before(async () => {
  receiver = await startSetReceiver();
});
after(async () => receiver?.stop());

test('a password reset by link and removed factors reach the apps the user signed in to', async () => {
  const created = await suite.api('POST', '/clients', { body: receiverClient('Signin signals app') });
  assert.equal(created.status, 201);
  const client = created.json as { client_id: string; client_secret: string };
  const token = await ssfToken(suite.server.issuer, client);
  const stream = await ssf(suite.server.issuer, token, 'POST', '/ssf/stream', { delivery: { method: PUSH, endpoint_url: `${receiver.base}/signin` }, events_requested: ALL_EVENTS });
  assert.equal(stream.status, 201, JSON.stringify(stream.json));
  const next = async () => {
    const set = await verifySet(suite.server.issuer, (await receiver.next('/signin')).token, client.client_id);
    const [type] = Object.keys(set.events);
    const { event_timestamp: at, ...event } = set.events[type!]!;
    assert.equal(typeof at, 'number');
    return { type: type!, event, sub: set.sub_id.sub };
  };

  const user = await aUser(suite.server.db, PASSWORD);
  await signInTo(suite.server.issuer, client, user.username, PASSWORD, 'openid');

  // The user resets their password with a link the admin API issued.
  const issued = await suite.api('POST', `/users/${user.id}/password-reset`);
  const agent = new UserAgent();
  const page = await agent.follow((issued.json as { url: string }).url, suite.server.issuer);
  const done = await agent.submit(page.url, page.body!, /action="\/reset"/, { password: 'a new long password', confirm: 'a new long password' }, suite.server.issuer);
  assert.equal(done.res!.status, 200);
  const events = new Map((await Promise.all([next(), next()])).map((e) => [e.type, e]));
  assert.deepEqual(events.get(CREDENTIAL_CHANGE)?.event, { credential_type: 'password', change_type: 'update', initiating_entity: 'user' });
  assert.equal(events.get(SESSION_REVOKED)?.event.initiating_entity, 'user');
  assert.equal(events.get(SESSION_REVOKED)?.sub, user.id);

  // Signed in again (the reset ended the grant), the user's authenticator is removed by an admin.
  await signInTo(suite.server.issuer, client, user.username, 'a new long password', 'openid');
  assert.ok(await addConfirmedTotp(suite.server.db, user.id, 'JBSWY3DPEHPK3PXP', 'phone', 1));
  const added = await next();
  assert.deepEqual([added.type, added.event], [CREDENTIAL_CHANGE, { credential_type: 'app', change_type: 'create' }]);
  assert.equal((await suite.api('DELETE', `/users/${user.id}/factors`)).status, 200);
  const removed = await next();
  assert.deepEqual([removed.type, removed.event], [CREDENTIAL_CHANGE, { credential_type: 'app', change_type: 'delete' }]);

  // Signed in on two browsers; on the second, the user signs the first out from /account.
  const first = new UserAgent();
  const second = new UserAgent();
  await signInTo(suite.server.issuer, client, user.username, 'a new long password', 'openid', first);
  await signInTo(suite.server.issuer, client, user.username, 'a new long password', 'openid', second);
  const account = await second.follow(`${suite.server.issuer}/account`, suite.server.issuer);
  const ended = await second.submit(account.url, account.body!, /action="\/account\/sessions\/end"/, {}, suite.server.issuer);
  assert.equal(ended.res!.status, 200);
  const revoked = await next();
  assert.deepEqual([revoked.type, revoked.event], [SESSION_REVOKED, { initiating_entity: 'user', reason_user: { en: 'signed out from the account page' } }]);
});
