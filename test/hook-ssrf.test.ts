/**
 * Issue 13 item 5: SSRF through a client's `payload_hook.url`. With TESSERA_HOOK_ALLOWED_HOSTS unset
 * (the default), a client's webhook may only reach public addresses: hostile URLs are refused at
 * registration (admin API and CLI: 422 / exit 2), a hook stored anyway is refused before any
 * connection, and a name that resolves to a private address when the hook is called (DNS
 * rebinding) is refused at connection time. The global hook from the environment stays trusted.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import dns from 'node:dns';
import { startTestServer, testEnv, type TestServer } from './support/server.ts';
import { aClient, aUser, unique } from './support/fixtures.ts';
import { adminApi } from './support/admin.ts';
import { startReceiver, type Receiver } from './support/receiver.ts';
import { runCli } from './support/processes.ts';
import { callWebhook } from '../src/hooks/webhook.ts';
import { guardedLookup } from '../src/hooks/hook-lookup.ts';
import { PUBLIC_ONLY, parseAllowedHosts, type AddressPolicy } from '../src/hooks/address-policy.ts';
import type { HookInput } from '../src/hooks/input.ts';

const SECRET = 'hook-secret-0123456789';

// Every form the attack used, and their relatives: loopback (also as decimal, hex, octal and short
// IPv4, and IPv4-mapped IPv6), unspecified, private, CGNAT, link-local (cloud metadata), multicast,
// IPv6 unique-local and link-local, names that are this host, and credentials in the URL.
const HOSTILE = [
  'http://127.0.0.1:5432/',
  'http://[::1]/',
  'http://0.0.0.0:8080/',
  'http://0/',
  'http://2130706433/',
  'http://0x7f000001/',
  'http://0177.0.0.1/',
  'http://127.1/',
  'http://[::ffff:127.0.0.1]/',
  'http://[::ffff:a00:1]/',
  'http://10.0.0.1/',
  'http://172.16.5.4/',
  'http://192.168.1.1/',
  'http://100.64.0.1/',
  'http://169.254.169.254/latest/meta-data/',
  'http://224.0.0.1/',
  'http://[fd00::1]/',
  'http://[fe80::1]/',
  'http://localhost:8080/',
  'http://admin.localhost/',
  'https://user:password@hook.example.com/p',
];

let server: TestServer;
let api: Awaited<ReturnType<typeof adminApi>>['api'];
let receiver: Receiver;
let received = 0;
before(async () => {
  receiver = await startReceiver((_req, res) => {
    received++;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ internal: 'secret answer' }));
  });
  // The default: nothing exempt. The global hook (from the environment) points at loopback.
  server = await startTestServer({ TESSERA_HOOK_ALLOWED_HOSTS: '', TESSERA_PAYLOAD_HOOK_URL: receiver.url, TESSERA_PAYLOAD_HOOK_SECRET: SECRET });
  ({ api } = await adminApi(server));
});
after(async () => {
  await server.stop();
  await receiver.stop();
});

test('the admin API refuses every hostile hook URL with 422, on create and on PATCH; a public one is accepted', async () => {
  const existing = (await api('POST', '/clients', { body: { client_name: 'Public hook', redirect_uris: ['https://app.example/cb'], payload_hook: { url: 'https://hook.example.com/p', secret: SECRET } } })).json;
  assert.ok(existing.client_id, 'a public hook URL is accepted');
  const publicIp = await api('POST', '/clients', { body: { client_name: 'Public IP hook', redirect_uris: ['https://app.example/cb'], payload_hook: { url: 'https://93.184.215.14/p', secret: SECRET } } });
  assert.equal(publicIp.status, 201, 'a public IP address is accepted');
  const accepted: string[] = [];
  for (const url of HOSTILE) {
    const created = await api('POST', '/clients', { body: { client_name: 'SSRF', redirect_uris: ['https://app.example/cb'], payload_hook: { url, secret: SECRET } } });
    const patched = await api('PATCH', `/clients/${existing.client_id}`, { body: { payload_hook: { url, secret: SECRET } } });
    for (const [what, res] of [['POST', created], ['PATCH', patched]] as const) {
      if (res.status !== 422 || res.json.errors?.[0]?.path !== '/payload_hook/url') accepted.push(`${what} ${url}: ${res.status}`);
    }
  }
  assert.deepEqual(accepted, []);
  assert.equal((await api('GET', `/clients/${existing.client_id}`)).json.payload_hook.url, 'https://hook.example.com/p', 'no PATCH got through');
});

test('the CLI refuses a hostile hook URL (exit 2)', async () => {
  const { env, cleanup } = await testEnv({ TESSERA_HOOK_ALLOWED_HOSTS: '' });
  try {
    await cliRefuses(env);
  } finally {
    cleanup();
  }
});

async function cliRefuses(env: Record<string, string>) {
  const name = unique('cli-ssrf');
  for (const url of ['http://169.254.169.254/latest/meta-data/', 'http://2130706433/', 'http://user:pw@hook.example.com/']) {
    const res = await runCli(['client', 'add', '--name', name, '--redirect-uri', 'https://app.example/cb', '--payload-hook-url', url, '--payload-hook-secret', SECRET], env);
    assert.equal(res.code, 2, `${url}: ${res.stdout}${res.stderr}`);
    assert.match(res.stderr, /--payload-hook-url/);
  }
}

test('a hook stored before the check (or behind the API) is refused when called: the internal service is never reached', async () => {
  const user = await aUser(server.db);
  // Written straight to storage, as a row from an older version would be.
  const client = await aClient(server.db, { payload_hook: { url: receiver.url, secret: SECRET, failure: 'open' } as never });
  const before = received;
  const res = await api('POST', '/token-preview', { body: { client_id: client.client_id, user_id: user.id, scope: 'openid' } });
  assert.equal(res.status, 200, JSON.stringify(res.json));
  assert.deepEqual({ status: res.json.hook.status, cause: res.json.hook.cause }, { status: 'failed', cause: 'address_refused' });
  assert.equal(received, before, 'no request reached the loopback receiver');
  assert.ok(!JSON.stringify(res.json).includes('secret answer'));
});

test('the global hook from the environment is the operator\'s own: it may use loopback', async () => {
  const user = await aUser(server.db);
  const client = await aClient(server.db);
  const before = received;
  const res = await api('POST', '/token-preview', { body: { client_id: client.client_id, user_id: user.id, scope: 'openid' } });
  assert.equal(res.json.hook.status, 'ok', JSON.stringify(res.json.hook));
  assert.equal(received, before + 1);
});

const input: HookInput = { client_id: 'c', request_id: 'r' } as unknown as HookInput;

test('DNS rebinding: a name that resolves to 127.0.0.1 when the hook is called is refused at connection time', async () => {
  const port = new URL(receiver.url).port;
  // A name that was public at registration and now resolves to loopback.
  const rebound = ((_host: string, _opts: unknown, cb: (e: null, a: dns.LookupAddress[]) => void) => cb(null, [{ address: '127.0.0.1', family: 4 }])) as unknown as typeof dns.lookup;
  const url = `http://rebinding.example.com:${port}/payload`;
  const guard = (policy: AddressPolicy) => ({ policy, lookup: guardedLookup(policy, rebound) });
  const before = received;
  const refused = await callWebhook({ url, secret: SECRET, timeout_ms: 5000 }, input, { nowSeconds: 1, guard: guard(PUBLIC_ONLY) });
  assert.deepEqual(refused, { ok: false, cause: 'address_refused' });
  assert.equal(received, before, 'nothing was sent');
  // The same lookup with 127.0.0.1 allowed connects: the guard is what refused it, not the name.
  const allowed = await callWebhook({ url, secret: SECRET, timeout_ms: 5000 }, input, { nowSeconds: 1, guard: guard((parseAllowedHosts('127.0.0.1/32') as { policy: AddressPolicy }).policy) });
  assert.equal(allowed.ok, true, JSON.stringify(allowed));
  assert.equal(received, before + 1);
});

test('TESSERA_HOOK_ALLOWED_HOSTS takes host names, IPs and CIDRs, and refuses anything else', () => {
  const parsed = parseAllowedHosts('hooks.internal, 10.1.0.0/16, ::1, [fd00::5]');
  assert.ok('policy' in parsed);
  const { policy } = parsed as { policy: AddressPolicy };
  assert.ok(policy.allowsName('hooks.internal') && policy.allowsName('HOOKS.internal.'));
  assert.ok(policy.allowsAddress('10.1.200.3') && !policy.allowsAddress('10.2.0.1'));
  assert.ok(policy.allowsAddress('::1') && policy.allowsAddress('fd00::5') && !policy.allowsAddress('127.0.0.1'));
  assert.ok(policy.allowsAddress('93.184.215.14'), 'public addresses stay allowed');
  for (const bad of ['http://x', '10.0.0.0/33', 'a b', '-x.example']) assert.ok('error' in parseAllowedHosts(bad), bad);
});
