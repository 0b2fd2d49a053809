import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { startTestServer, type TestServer } from './support/server.ts';
import { aClient, aUser, unique } from './support/fixtures.ts';
import { adminApi } from './support/admin.ts';
import { createOrganization, putMembership } from '../src/storage/organizations.ts';
import { putPrivileges } from '../src/storage/privileges.ts';

let server: TestServer;
let api: Awaited<ReturnType<typeof adminApi>>['api'];
let hook: http.Server;
let hookUrl: string;
before(async () => {
  server = await startTestServer();
  ({ api } = await adminApi(server));
  hook = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ scope: 'from hook', tier: 'gold' }));
  });
  await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
  hookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/`;
});
after(async () => {
  await server.stop();
  hook.close();
});

test("the preview shows each token's claims, the renames and the hook answer, and issues nothing", async () => {
  const user = await aUser(server.db);
  const org = await createOrganization(server.db, { alias: unique('acme'), name: 'Acme' });
  await putMembership(server.db, org.id, user.id, { roles: ['admin'] });
  await putPrivileges(server.db, user.id, { profile: 'editor', scope: 'docs:read' });
  const client = await aClient(server.db, { scope: 'openid email organization privileges', payload_hook: { url: hookUrl, secret: 'preview-secret-0123456789' } as never });
  const tokensBefore = Number((await server.db('oidc_payloads').count('* as n').first())!.n);

  const res = await api('POST', '/token-preview', { body: { client_id: client.client_id, user_id: user.id, scope: 'openid email organization privileges' } });
  assert.equal(res.status, 200);
  assert.equal(res.json.id_token.sub, user.id);
  assert.equal(res.json.id_token.email, 'someone@example.com');
  assert.deepEqual(Object.keys(res.json.id_token.organization), [org.alias]);
  assert.equal(res.json.id_token.user_scope, 'docs:read');
  assert.equal(res.json.id_token.extra_scope, 'from hook');
  assert.equal(res.json.access_token.tier, 'gold');
  assert.equal(res.json.access_token.scope, 'openid email organization privileges');
  assert.equal('tier' in res.json.userinfo, false, 'hook claims are not in userinfo');
  assert.deepEqual(res.json.renamed, [{ from: 'scope', to: 'extra_scope' }]);
  assert.deepEqual(res.json.hook, { status: 'ok', source: 'webhook', cached: false, claims: { scope: 'from hook', tier: 'gold' } });
  assert.equal(Number((await server.db('oidc_payloads').count('* as n').first())!.n), tokensBefore, 'nothing issued');

  const outsider = await api('POST', '/token-preview', { body: { client_id: client.client_id, user_id: user.id, scope: 'openid organization', organization: 'nowhere' } });
  assert.equal(outsider.status, 422);
  assert.equal((await api('POST', '/token-preview', { body: { client_id: 'nope', scope: 'openid' } })).status, 422);
});
