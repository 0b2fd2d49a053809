/** `tessera client add --logo-uri --client-uri --policy-uri --tos-uri`: checked as the admin API checks them. */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { testEnv } from './support/server.ts';
import { REDIRECT_URI, unique } from './support/fixtures.ts';
import { cliJson, runCli } from './support/processes.ts';

let env: Record<string, string>;
let cleanup = () => {};

before(async () => {
  ({ env, cleanup } = await testEnv());
  const migrated = await runCli(['migrate'], env);
  assert.equal(migrated.code, 0, migrated.stderr);
});
after(() => cleanup());

test('client add stores the logo, home page, policy and terms', async () => {
  const client = await cliJson(
    ['client', 'add', '--name', 'Shop', '--redirect-uri', REDIRECT_URI, '--logo-uri', 'https://shop.example/logo.png', '--client-uri', 'https://shop.example/', '--policy-uri', 'https://shop.example/privacy', '--tos-uri', 'http://localhost:8080/terms'],
    env,
  );
  assert.equal(client.logo_uri, 'https://shop.example/logo.png');
  assert.equal(client.client_uri, 'https://shop.example/');
  assert.equal(client.policy_uri, 'https://shop.example/privacy');
  assert.equal(client.tos_uri, 'http://localhost:8080/terms');
});

test('a link that is not https is refused in one clear line naming the option, and no client is created', async () => {
  const clientId = unique('shop');
  const bad = await runCli(['client', 'add', '--client-id', clientId, '--name', 'Shop', '--redirect-uri', REDIRECT_URI, '--policy-uri', 'http://shop.example/privacy'], env);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /policy_uri: http is only allowed on loopback/);
  assert.equal(bad.stdout, '');
  // The same client id is still free: the refused command stored nothing.
  const good = await cliJson(['client', 'add', '--client-id', clientId, '--name', 'Shop', '--redirect-uri', REDIRECT_URI, '--policy-uri', 'https://shop.example/privacy'], env);
  assert.equal(good.client_id, clientId);
});

test('resource-server add --description stores what its scopes give, in words', async () => {
  const rs = await cliJson(['resource-server', 'add', '--identifier', `https://${unique('orders')}.example.test`, '--name', 'Orders API', '--description', 'see your orders', '--scopes', 'orders:read'], env);
  assert.equal(rs.description, 'see your orders');
});

test('client add --help describes the new options', async () => {
  const help = await runCli(['client', 'add', '--help'], env);
  assert.equal(help.code, 0);
  for (const option of ['--logo-uri', '--client-uri', '--policy-uri', '--tos-uri']) assert.match(help.stdout, new RegExp(`${option} <url>\\s+\\S`), option);
});
