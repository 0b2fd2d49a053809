/**
 * The token path's unit of work at the storage level: inside a token request the adapter writes
 * nothing until the commit, which spends the code or refresh token and stores everything else in
 * one statement, or nothing when another request spent the token first.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { AdapterPayload } from 'oidc-provider';
import { startTestServer, type TestServer } from './support/server.ts';
import { aUser, unique } from './support/fixtures.ts';
import { createAdapterClass } from '../src/storage/oidc-adapter.ts';
import { UnitOfWork, withUnitOfWork } from '../src/storage/unit-of-work.ts';
import { commitUnit, spentByUnit } from '../src/storage/unit-of-work-commit.ts';
import { findGrantContext, saveCodeGrantContext, saveGrantContext } from '../src/storage/grant-context.ts';
import { createOrganization } from '../src/storage/organizations.ts';

let server: TestServer;
let Adapter: ReturnType<typeof createAdapterClass>;
let userId: string;
before(async () => {
  server = await startTestServer();
  Adapter = createAdapterClass(server.db);
  userId = (await aUser(server.db)).id;
});
after(async () => server.stop());

async function aRefreshToken() {
  const grantId = randomUUID();
  const id = randomUUID();
  await new Adapter('Grant').upsert(grantId, { jti: grantId, kind: 'Grant', accountId: userId, clientId: 'app', openid: { scope: 'openid offline_access' } } as AdapterPayload, 3600);
  await new Adapter('RefreshToken').upsert(id, { jti: id, kind: 'RefreshToken', accountId: userId, grantId, clientId: 'app', scope: 'openid offline_access' } as AdapterPayload, 3600);
  return { id, grantId };
}

/** What a refresh does through the adapter: find, spend, store the successor and an access token. */
async function rotate(unit: UnitOfWork, old: string, grantId: string) {
  const next = randomUUID();
  const at = randomUUID();
  await withUnitOfWork(unit, async () => {
    assert.ok(await new Adapter('RefreshToken').find(old));
    await new Adapter('RefreshToken').consume(old);
    await new Adapter('RefreshToken').upsert(next, { jti: next, kind: 'RefreshToken', accountId: userId, grantId, clientId: 'app' } as AdapterPayload, 3600);
    await new Adapter('AccessToken').upsert(at, { jti: at, kind: 'AccessToken', accountId: userId, grantId, clientId: 'app' } as AdapterPayload, 600);
  });
  return { next, at };
}

test('nothing is written before the commit; the commit spends the token and stores its successors together', async () => {
  const t = await aRefreshToken();
  const unit = new UnitOfWork();
  const { next, at } = await rotate(unit, t.id, t.grantId);
  assert.equal((await new Adapter('RefreshToken').find(t.id))?.consumed, undefined, 'not spent before the commit');
  assert.equal(await new Adapter('RefreshToken').find(next), undefined, 'its successor not stored either');

  assert.deepEqual(await commitUnit(server.db, unit), { committed: true });
  assert.equal(typeof (await new Adapter('RefreshToken').find(t.id))?.consumed, 'number');
  assert.ok(await new Adapter('RefreshToken').find(next));
  assert.ok(await new Adapter('AccessToken').find(at));
});

test('a second request spending the same token stores nothing; consumed_by tells the request that spent it from the other', async () => {
  const t = await aRefreshToken();
  const first = new UnitOfWork();
  const second = new UnitOfWork();
  await rotate(first, t.id, t.grantId);
  const lost = await rotate(second, t.id, t.grantId);
  assert.deepEqual(await commitUnit(server.db, first), { committed: true });
  assert.deepEqual(await commitUnit(server.db, second), { committed: false });
  assert.equal(await new Adapter('RefreshToken').find(lost.next), undefined, 'the loser stored no refresh token');
  assert.equal(await new Adapter('AccessToken').find(lost.at), undefined, 'nor an access token');
  // After a commit whose answer was lost, this is how a request learns whether it went in.
  assert.equal(await spentByUnit(server.db, first), true);
  assert.equal(await spentByUnit(server.db, second), false);
});

test('a code carries its authorization’s organization and scope to the grant only when it is redeemed', async () => {
  const org = await createOrganization(server.db, { alias: unique('beta'), name: 'Beta' });
  const grantId = randomUUID();
  const code = randomUUID();
  await saveGrantContext(server.db, grantId, { organization_id: null, requested_scope: 'openid' });
  await new Adapter('AuthorizationCode').upsert(code, { jti: code, kind: 'AuthorizationCode', accountId: userId, grantId, clientId: 'app', scope: 'openid organization' } as AdapterPayload, 60);
  await saveCodeGrantContext(server.db, code, { organization_id: org.id, requested_scope: `openid organization:${org.alias}` });
  assert.deepEqual(await findGrantContext(server.db, grantId), { organization_id: null, requested_scope: 'openid' }, 'an unredeemed code changes nothing');

  const unit = new UnitOfWork();
  await withUnitOfWork(unit, async () => {
    assert.ok(await new Adapter('AuthorizationCode').find(code));
    await new Adapter('AuthorizationCode').consume(code);
  });
  assert.equal(unit.spendable?.sources?.grant?.organization_id, org.id, 'the exchange’s claims see the code’s organization');
  assert.deepEqual(await commitUnit(server.db, unit), { committed: true });
  assert.deepEqual(await findGrantContext(server.db, grantId), { organization_id: org.id, requested_scope: `openid organization:${org.alias}` });
});
