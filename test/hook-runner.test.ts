/**
 * The payload hook runner against real loopback HTTP servers and real module files: every answer a
 * hook can give, the failure causes and policies, metrics, logs, the cache and the circuit breaker.
 * Time-dependent behaviour (cache TTL, cool-down) runs on an injected clock; only timeouts use real time.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync, mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createHookRunner, type HookOutcome } from '../src/hooks/runner.ts';
import { parseAllowedHosts, type AddressPolicy } from '../src/hooks/address-policy.ts';
import { hookFromEnv, PayloadHookConfig, type PayloadHookConfigInput } from '../src/hooks/config.ts';
import type { HookInput } from '../src/hooks/input.ts';
import { verifyWebhookSignature } from '../src/hooks/signature.ts';
import { CircuitBreakers } from '../src/hooks/circuit-breaker.ts';
import { HookCache, inputFingerprint } from '../src/hooks/cache.ts';
import { createMetrics } from '../src/metrics.ts';
import { createLogger } from '../src/log.ts';
import { SettingsError } from '../src/config.ts';
import { createReceiver } from '../hooks/example-webhook-receiver.ts';
import examplePayload from '../hooks/example-payload.ts';

const SECRET = 'test-webhook-secret-0123456789';
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const T = { timeout: 15_000 };

let seq = 0;
const input = (over: Partial<HookInput> = {}): HookInput => ({
  client_id: 'billing-app',
  sub: 'user-1',
  scope: 'openid organization',
  requested_scope: 'openid organization offline_access',
  grant_type: 'authorization_code',
  organization: { id: 'org-1', alias: 'acme', roles: ['admin'] },
  resource: 'https://api.example.com',
  request_id: `req-${++seq}`,
  ...over,
});

// ---------------------------------------------------------------- loopback servers

type Server = { url: string; port: number; requests: number; connections: number; close(): Promise<void> };
const servers = new Set<Server>();
after(async () => {
  await Promise.all([...servers].map((s) => s.close()));
});

async function serve(handler: http.RequestListener): Promise<Server> {
  const server = http.createServer((req, res) => {
    s.requests++;
    handler(req, res);
  });
  server.on('connection', () => s.connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const s: Server = {
    url: `http://127.0.0.1:${port}/payload`,
    port,
    requests: 0,
    connections: 0,
    close: () =>
      new Promise<void>((resolve) => {
        servers.delete(s);
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
  servers.add(s);
  return s;
}

const readBody = (req: http.IncomingMessage) =>
  new Promise<Buffer>((resolve) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
  });

/** Answers every request with `status` and `body` (a string is sent as is). */
const answering = (status: number, body?: unknown, headers: Record<string, string> = {}) =>
  serve(async (req, res) => {
    await readBody(req);
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body));
  });

/** A port nobody listens on. */
async function closedPort(): Promise<number> {
  const s = await serve(() => {});
  await s.close();
  return s.port;
}

// ---------------------------------------------------------------- the runner under test

function setup(options: { hooksDir?: string } = {}) {
  const clock = { t: Date.now() };
  const lines: string[] = [];
  const metrics = createMetrics();
  const runner = createHookRunner({
    hooksDir: options.hooksDir ?? repoRoot,
    log: createLogger('debug', {}, (l) => lines.push(l)),
    metrics,
    now: () => clock.t,
    // The receivers here listen on loopback.
    addressPolicy: (parseAllowedHosts('127.0.0.1') as { policy: AddressPolicy }).policy,
  });
  const failures = (source: string, cause: string) => metrics.hookFailures.get({ source, cause });
  const calls = (source: string, outcome: string) => metrics.hookCalls.get({ source, outcome });
  const logs = () => lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  return { clock, lines, logs, metrics, runner, failures, calls };
}

const webhook = (url: string, over: Partial<Extract<PayloadHookConfigInput, { url: string }>> = {}): PayloadHookConfigInput => ({ url, secret: SECRET, timeout_ms: 1500, ...over });

/** Runs once and checks the common shape of a failure: cause, policy, counted, logged, secret absent. */
async function expectFailure(ctx: ReturnType<typeof setup>, config: PayloadHookConfigInput, cause: string, policy: 'open' | 'closed', source: 'webhook' | 'module' = 'webhook'): Promise<HookOutcome> {
  const outcome = await ctx.runner.run(config, input(), 'client:billing-app');
  assert.deepEqual(outcome, { status: 'failed', cause, policy, source });
  assert.equal(ctx.failures(source, cause), 1, `hookFailures{${source},${cause}}`);
  assert.equal(ctx.calls(source, 'failed'), 1);
  const entry = ctx.logs().find((l) => l.msg === 'payload hook failed');
  assert.ok(entry, 'the failure is logged');
  assert.equal(entry.cause, cause);
  assert.equal(entry.client_id, 'billing-app');
  assert.equal(entry.source, source);
  assert.ok(!ctx.lines.join('\n').includes(SECRET), 'the secret is never logged');
  assert.ok(ctx.metrics.registry.render().includes(`tessera_payload_hook_failures_total{cause="${cause}",source="${source}"} 1`));
  return outcome;
}

// ---------------------------------------------------------------- webhook answers

test('webhook 200 with a JSON object: claims; the receiver verifies the signature with the secret', T, async () => {
  const ctx = setup();
  const seen: Array<{ method?: string; type?: string; verified: boolean; body: HookInput }> = [];
  const s = await serve(async (req, res) => {
    const raw = await readBody(req);
    const verdict = verifyWebhookSignature(SECRET, req.headers['tessera-signature'], raw, ctx.clock.t / 1000);
    seen.push({ method: req.method, type: req.headers['content-type'], verified: verdict.ok, body: JSON.parse(raw.toString()) });
    res.writeHead(verdict.ok ? 200 : 401, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ tenant_tier: 'gold', permissions: ['a', 'b'], nested: { x: 1 } }));
  });
  const sent = input();
  const outcome = await ctx.runner.run(webhook(s.url), sent, 'global');
  assert.deepEqual(outcome, { status: 'ok', claims: { tenant_tier: 'gold', permissions: ['a', 'b'], nested: { x: 1 } }, source: 'webhook', cached: false });
  assert.equal(seen.length, 1);
  assert.equal(seen[0]!.method, 'POST');
  assert.equal(seen[0]!.type, 'application/json');
  assert.equal(seen[0]!.verified, true);
  assert.deepEqual(seen[0]!.body, sent, 'the body is the SPEC 5 input, as given');
  assert.equal(ctx.calls('webhook', 'ok'), 1);
  assert.equal([...ctx.metrics.hookLatency.series.values()][0]?.count, 1);
  assert.ok(!ctx.lines.join('\n').includes(SECRET));
});

test('a client_credentials input has no sub member at all', T, async () => {
  const ctx = setup();
  let body: Record<string, unknown> = {};
  const s = await serve(async (req, res) => {
    body = JSON.parse((await readBody(req)).toString());
    res.writeHead(204).end();
  });
  const { sub: _none, ...cc } = input({ grant_type: 'client_credentials', organization: null, resource: null });
  const outcome = await ctx.runner.run(webhook(s.url), cc, 'global');
  assert.equal(outcome.status, 'ok');
  assert.equal('sub' in body, false);
  assert.equal(body.organization, null);
  assert.equal(body.resource, null);
});

test('webhook 204: no claims', T, async () => {
  const ctx = setup();
  const s = await answering(204);
  assert.deepEqual(await ctx.runner.run(webhook(s.url), input(), 'global'), { status: 'ok', claims: undefined, source: 'webhook', cached: false });
  assert.equal(ctx.calls('webhook', 'ok'), 1);
});

test('webhook that never answers: timeout within timeout_ms, policy from the config', T, async () => {
  const ctx = setup();
  const s = await serve(() => {}); // reads nothing, answers nothing
  await expectFailure(ctx, webhook(s.url, { timeout_ms: 300, failure: 'open' }), 'timeout', 'open');
});

test('webhook that sends headers then streams slowly forever: timeout within timeout_ms', T, async () => {
  const ctx = setup();
  const timers = new Set<NodeJS.Timeout>();
  const s = await serve(async (req, res) => {
    await readBody(req);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write('{"a":"');
    const timer = setInterval(() => res.write('x'), 20);
    timers.add(timer);
    res.on('close', () => clearInterval(timer));
  });
  await expectFailure(ctx, webhook(s.url, { timeout_ms: 400 }), 'timeout', 'closed');
  for (const t of timers) clearInterval(t);
});

test('webhook 500: status_500', T, async () => {
  const ctx = setup();
  const s = await answering(500, { error: 'boom' });
  await expectFailure(ctx, webhook(s.url), 'status_500', 'closed');
});

test('webhook 200 with other 2xx or 4xx statuses: status_<code>', T, async () => {
  for (const status of [201, 401]) {
    const ctx = setup();
    const s = await answering(status, { a: 1 });
    await expectFailure(ctx, webhook(s.url), `status_${status}`, 'closed');
  }
});

test('webhook 200 with invalid JSON or an empty body: invalid_json', T, async () => {
  for (const body of ['{"tenant_tier": gold}', '']) {
    const ctx = setup();
    const s = await answering(200, body);
    await expectFailure(ctx, webhook(s.url, { failure: 'open' }), 'invalid_json', 'open');
  }
});

test('webhook 200 with JSON that is not an object (array, string, number, null): not_an_object', T, async () => {
  for (const body of ['["a","b"]', '"gold"', '42', 'null']) {
    const ctx = setup();
    const s = await answering(200, body);
    await expectFailure(ctx, webhook(s.url), 'not_an_object', 'closed');
  }
});

test('webhook with a 1 MiB body, declared or streamed: body_too_large', T, async () => {
  const big = JSON.stringify({ blob: 'x'.repeat(1024 * 1024) });
  // With content-length: refused on the headers.
  {
    const ctx = setup();
    const s = await answering(200, big);
    await expectFailure(ctx, webhook(s.url), 'body_too_large', 'closed');
  }
  // Chunked, no content-length: cut off while streaming.
  {
    const ctx = setup();
    let written = 0;
    const s = await serve(async (req, res) => {
      await readBody(req);
      res.writeHead(200, { 'content-type': 'application/json' });
      const chunk = 'x'.repeat(16 * 1024);
      const pump = () => {
        while (written < 1024 * 1024 && !res.destroyed) {
          written += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        if (!res.destroyed) res.end();
      };
      res.on('error', () => {});
      pump();
    });
    await expectFailure(ctx, webhook(s.url), 'body_too_large', 'closed');
  }
  // Exactly 64 KiB is still fine.
  {
    const ctx = setup();
    const exact = JSON.stringify({ blob: 'y'.repeat(64 * 1024 - 11) });
    assert.equal(Buffer.byteLength(exact), 64 * 1024);
    const s = await answering(200, exact);
    const outcome = await ctx.runner.run(webhook(s.url), input(), 'global');
    assert.equal(outcome.status, 'ok');
  }
});

test('webhook redirect: not followed, failure redirect; the target never gets a request', T, async () => {
  const ctx = setup();
  const target = await answering(200, { stolen: true });
  const s = await serve(async (req, res) => {
    await readBody(req);
    res.writeHead(307, { location: target.url }).end();
  });
  await expectFailure(ctx, webhook(s.url), 'redirect', 'closed');
  assert.equal(s.requests, 1);
  assert.equal(target.requests, 0);
});

test('webhook on a closed port: connection_refused', T, async () => {
  const ctx = setup();
  const port = await closedPort();
  await expectFailure(ctx, webhook(`http://127.0.0.1:${port}/payload`, { failure: 'open' }), 'connection_refused', 'open');
});

test('a stored setting that no longer validates: bad_config, policy kept, nothing called', T, async () => {
  const ctx = setup();
  const s = await answering(200, { a: 1 });
  await expectFailure(ctx, { url: s.url, secret: 'short', failure: 'open' }, 'bad_config', 'open');
  assert.equal(s.requests, 0);
  const ctx2 = setup();
  await expectFailure(ctx2, { module: '../outside.mjs' }, 'bad_config', 'closed', 'module');
});

test('a kept (frozen) setting is checked once, yet every call answers by it; a replaced or edited setting counts at once', T, async () => {
  const ctx = setup();
  const s = await answering(200, { a: 1 });
  // As a kept client row hands it out: frozen.
  const bad = Object.freeze({ url: s.url, secret: 'short', failure: 'open' as const });
  for (let i = 0; i < 3; i++) assert.deepEqual(await ctx.runner.run(bad, input(), 'client:billing-app'), { status: 'failed', cause: 'bad_config', policy: 'open', source: 'webhook' });
  assert.equal(ctx.failures('webhook', 'bad_config'), 3, 'every call is counted');
  assert.equal(ctx.logs().filter((l) => l.msg === 'payload hook failed').length, 3, 'and logged');
  assert.equal(s.requests, 0);

  // The client's setting fixed through the admin API arrives as a new object.
  const fixed = Object.freeze(webhook(s.url));
  for (let i = 0; i < 2; i++) assert.deepEqual(await ctx.runner.run(fixed, input(), 'client:billing-app'), { status: 'ok', claims: { a: 1 }, source: 'webhook', cached: false });
  assert.equal(s.requests, 2);

  // A setting that is not frozen may change under the runner: it is checked at every call.
  const editable = webhook(s.url) as { secret: string };
  assert.equal((await ctx.runner.run(editable as PayloadHookConfigInput, input(), 'client:billing-app')).status, 'ok');
  editable.secret = 'short';
  assert.equal((await ctx.runner.run(editable as PayloadHookConfigInput, input(), 'client:billing-app')).status, 'failed');
  assert.equal(ctx.failures('webhook', 'bad_config'), 4);
});

// ---------------------------------------------------------------- module hooks

// Module paths are written as SPEC 5 does (`hooks/x.ts`), relative to the hooks directory setting.
const hooksDir = mkdtempSync(path.join(tmpdir(), 'tessera-hooks-'));
mkdirSync(path.join(hooksDir, 'hooks'));
after(() => rmSync(hooksDir, { recursive: true, force: true }));
writeFileSync(
  path.join(hooksDir, 'hooks', 'good.ts'),
  `import type { HookInput } from ${JSON.stringify(path.join(repoRoot, 'src/hooks/input.ts'))};
   export default async function (input: HookInput) {
     input.client_id = 'mutated';
     return { tier: 'gold', org: input.organization?.alias ?? null, when: new Date(0), gone: undefined };
   }`,
);
writeFileSync(path.join(hooksDir, 'hooks', 'throws.mjs'), `export default async () => { throw new Error('database down'); };`);
writeFileSync(path.join(hooksDir, 'hooks', 'array.mjs'), `export default async () => ['a', 'b'];`);
writeFileSync(path.join(hooksDir, 'hooks', 'string.js'), `export default () => 'gold';`);
writeFileSync(path.join(hooksDir, 'hooks', 'nothing.mjs'), `export default async () => null;`);
writeFileSync(path.join(hooksDir, 'hooks', 'hangs.mjs'), `export let aborted = false; export default (input, { signal }) => { signal.addEventListener('abort', () => { aborted = true; }); return new Promise(() => {}); };`);
writeFileSync(path.join(hooksDir, 'hooks', 'no-default.mjs'), `export const payload = async () => ({ a: 1 });`);
writeFileSync(path.join(hooksDir, 'hooks', 'bigint.mjs'), `export default () => ({ n: 10n });`);
writeFileSync(path.join(hooksDir, 'hooks', 'hangs-counted.mjs'), `export default () => { globalThis.__tesseraHangingCalls = (globalThis.__tesseraHangingCalls ?? 0) + 1; return new Promise(() => {}); };`);
writeFileSync(path.join(hooksDir, 'hooks', 'counted.mjs'), `globalThis.__tesseraHookImports = (globalThis.__tesseraHookImports ?? 0) + 1; export default () => ({ ok: true });`);

test('module hook: claims from the default export, normalised as JSON, input passed as a copy', T, async () => {
  const ctx = setup({ hooksDir });
  const sent = input();
  const outcome = await ctx.runner.run({ module: 'hooks/good.ts' }, sent, 'global');
  assert.deepEqual(outcome, { status: 'ok', claims: { tier: 'gold', org: 'acme', when: '1970-01-01T00:00:00.000Z' }, source: 'module', cached: false });
  assert.equal(sent.client_id, 'billing-app', 'the hook cannot mutate the caller input');
  assert.equal(ctx.calls('module', 'ok'), 1);
  assert.deepEqual(await ctx.runner.run({ module: 'hooks/nothing.mjs' }, input(), 'global'), { status: 'ok', claims: undefined, source: 'module', cached: false });
});

// Node's module cache already runs a module's top-level code once; this guards against loading it
// afresh per call (a cache-busting URL, say), which would rerun a deployer's set-up at every token.
test("a module hook's top-level code runs once, however many tokens call it", T, async () => {
  const ctx = setup({ hooksDir });
  for (let i = 0; i < 3; i++) assert.equal((await ctx.runner.run({ module: 'hooks/counted.mjs' }, input(), 'global')).status, 'ok');
  assert.equal((globalThis as Record<string, unknown>).__tesseraHookImports, 1);
});

// The runner keeps each import it made (an import() per token costs about 12 µs under tsx); one that
// failed because the file was missing is not kept, so a module deployed after the start is found.
test('a module hook missing at first is found once the file is there', T, async () => {
  const ctx = setup({ hooksDir });
  const config = { module: 'hooks/deployed-later.mjs' };
  await expectFailure(ctx, config, 'bad_module', 'closed', 'module');
  writeFileSync(path.join(hooksDir, 'hooks', 'deployed-later.mjs'), `export default () => ({ deployed: true });`);
  assert.deepEqual(await ctx.runner.run(config, input(), 'global'), { status: 'ok', claims: { deployed: true }, source: 'module', cached: false });
});

test('module hook that throws: threw (with the message in the log)', T, async () => {
  const ctx = setup({ hooksDir });
  await expectFailure(ctx, { module: 'hooks/throws.mjs', failure: 'open' }, 'threw', 'open', 'module');
  assert.match(String(ctx.logs().find((l) => l.msg === 'payload hook failed')?.detail), /database down/);
});

test('module hook returning an array or a string: not_an_object', T, async () => {
  await expectFailure(setup({ hooksDir }), { module: 'hooks/array.mjs' }, 'not_an_object', 'closed', 'module');
  await expectFailure(setup({ hooksDir }), { module: 'hooks/string.js' }, 'not_an_object', 'closed', 'module');
  await expectFailure(setup({ hooksDir }), { module: 'hooks/bigint.mjs' }, 'not_serializable', 'closed', 'module');
});

test('module hook that never resolves: timeout within timeout_ms, and its signal is aborted', T, async () => {
  const ctx = setup({ hooksDir });
  await expectFailure(ctx, { module: 'hooks/hangs.mjs', timeout_ms: 200 }, 'timeout', 'closed', 'module');
  const mod = (await import(path.join(hooksDir, 'hooks', 'hangs.mjs'))) as { aborted: boolean };
  assert.equal(mod.aborted, true);
});

test('module without a default export, or missing: bad_module', T, async () => {
  await expectFailure(setup({ hooksDir }), { module: 'hooks/no-default.mjs' }, 'bad_module', 'closed', 'module');
  await expectFailure(setup({ hooksDir }), { module: 'hooks/missing.mjs', failure: 'open' }, 'bad_module', 'open', 'module');
});

test('the example module and the example receiver answer the same claims', T, async () => {
  const ctx = setup();
  const s = await serve(createReceiver(SECRET));
  const sent = input({ organization: { id: 'o', alias: 'acme', roles: ['editor', 'viewer'] } });
  const viaModule = await ctx.runner.run({ module: 'hooks/example-payload.ts' }, sent, 'module');
  const viaWebhook = await ctx.runner.run(webhook(s.url), sent, 'webhook');
  const expected = { tenant_tier: 'gold', permissions: ['projects:read', 'projects:write'], api: 'https://api.example.com' };
  assert.deepEqual(viaModule, { status: 'ok', claims: expected, source: 'module', cached: false });
  assert.deepEqual(viaWebhook, { status: 'ok', claims: expected, source: 'webhook', cached: false });
  assert.deepEqual(await examplePayload(sent), expected);
  // Without a user: nothing for a client without the reports scope, hence 204.
  const { sub: _none, ...cc } = input({ grant_type: 'client_credentials', organization: null, scope: 'api' });
  assert.deepEqual(await ctx.runner.run(webhook(s.url), cc, 'webhook'), { status: 'ok', claims: undefined, source: 'webhook', cached: false });
});

test('the example receiver refuses a wrong secret and a replayed (old) signature with 401', T, async () => {
  const s = await serve(createReceiver(SECRET));
  const wrong = setup();
  await expectFailure(wrong, webhook(s.url, { secret: 'not-the-receiver-secret' }), 'status_401', 'closed');
  // The runner's clock is 6 minutes behind the receiver's: its timestamp is a replay.
  const old = setup();
  old.clock.t -= 6 * 60 * 1000;
  await expectFailure(old, webhook(s.url), 'status_401', 'closed');
  // Answering directly shows the reason.
  const res = await fetch(s.url, { method: 'POST', body: '{}', headers: { 'tessera-signature': 't=1,v1=' + '0'.repeat(64) } });
  assert.equal(res.status, 401);
  assert.deepEqual(await res.json(), { error: 'invalid_signature', reason: 'timestamp_out_of_tolerance' });
});

// ---------------------------------------------------------------- cache

test('cache: the same input (another request_id) within the TTL is answered once; after the TTL, again', T, async () => {
  const ctx = setup();
  let n = 0;
  const s = await serve(async (req, res) => {
    await readBody(req);
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ n: ++n }));
  });
  const config = webhook(s.url, { cache_ttl_s: 60 });
  const first = await ctx.runner.run(config, input(), 'global');
  const second = await ctx.runner.run(config, input(), 'global');
  assert.deepEqual(first, { status: 'ok', claims: { n: 1 }, source: 'webhook', cached: false });
  assert.deepEqual(second, { status: 'ok', claims: { n: 1 }, source: 'webhook', cached: true });
  assert.equal(s.requests, 1);
  assert.equal(ctx.calls('webhook', 'cached'), 1);
  // A cached answer handed out is a copy: changing it does not change the cache.
  if (second.status === 'ok') second.claims!.n = 99;
  assert.deepEqual((await ctx.runner.run(config, input(), 'global') as { claims: unknown }).claims, { n: 1 });

  // Another input, or another hook key, is another entry.
  assert.equal(((await ctx.runner.run(config, input({ scope: 'openid' }), 'global')) as { cached: boolean }).cached, false);
  assert.equal(((await ctx.runner.run(config, input(), 'client:other')) as { cached: boolean }).cached, false);
  assert.equal(s.requests, 3);

  ctx.clock.t += 59_999;
  assert.equal(((await ctx.runner.run(config, input(), 'global')) as { cached: boolean }).cached, true);
  ctx.clock.t += 1;
  const expired = await ctx.runner.run(config, input(), 'global');
  assert.deepEqual(expired, { status: 'ok', claims: { n: 4 }, source: 'webhook', cached: false });
  assert.equal(s.requests, 4);
});

test('cache: failures are not cached; "no claims" is; no TTL means no cache', T, async () => {
  const ctx = setup();
  let fail = true;
  const s = await serve(async (req, res) => {
    await readBody(req);
    if (fail) return void res.writeHead(500).end();
    res.writeHead(204).end();
  });
  const config = webhook(s.url, { cache_ttl_s: 30, failure: 'open' });
  assert.equal((await ctx.runner.run(config, input(), 'global')).status, 'failed');
  fail = false;
  assert.deepEqual(await ctx.runner.run(config, input(), 'global'), { status: 'ok', claims: undefined, source: 'webhook', cached: false });
  assert.deepEqual(await ctx.runner.run(config, input(), 'global'), { status: 'ok', claims: undefined, source: 'webhook', cached: true });
  assert.equal(s.requests, 2);

  const uncached = webhook(s.url);
  await ctx.runner.run(uncached, input(), 'global');
  await ctx.runner.run(uncached, input(), 'global');
  assert.equal(s.requests, 4);
});

test('cache key: request_id ignored, member order ignored, everything else counts', () => {
  const a = input();
  assert.equal(inputFingerprint(a), inputFingerprint({ ...a, request_id: 'other' }));
  const reordered = Object.fromEntries(Object.entries(a).reverse()) as HookInput;
  assert.equal(inputFingerprint(a), inputFingerprint(reordered));
  for (const change of [{ sub: 'user-2' }, { scope: 'openid' }, { requested_scope: 'openid' }, { grant_type: 'refresh_token' }, { resource: null }, { organization: null }, { organization: { id: 'org-1', alias: 'acme', roles: ['viewer'] } }, { client_id: 'x' }]) {
    assert.notEqual(inputFingerprint(a), inputFingerprint({ ...a, ...change }), JSON.stringify(change));
  }
  const cache = new HookCache({ now: () => 0, maxEntries: 3 });
  for (const k of ['a', 'b', 'c', 'd']) cache.set(k, { k }, 1000);
  assert.equal(cache.size, 3);
  assert.equal(cache.get('a'), undefined, 'the oldest entry was evicted');
  assert.deepEqual(cache.get('d'), { claims: { k: 'd' } });
});

// ---------------------------------------------------------------- circuit breaker

test('circuit breaker: after 5 failures the 6th run is not sent (circuit_open); after the cool-down a success closes it', T, async () => {
  const ctx = setup();
  let healthy = false;
  const s = await serve(async (req, res) => {
    await readBody(req);
    if (!healthy) return void res.writeHead(500).end();
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
  });
  const config = webhook(s.url, { failure: 'open' });
  for (let i = 0; i < 5; i++) assert.deepEqual(await ctx.runner.run(config, input(), 'client:billing-app'), { status: 'failed', cause: 'status_500', policy: 'open', source: 'webhook' });
  assert.equal(s.requests, 5);
  assert.ok(ctx.logs().some((l) => l.msg === 'payload hook circuit opened'));

  assert.deepEqual(await ctx.runner.run(config, input(), 'client:billing-app'), { status: 'failed', cause: 'circuit_open', policy: 'open', source: 'webhook' });
  assert.equal(s.requests, 5, 'the open circuit did not call the hook');
  assert.equal(ctx.failures('webhook', 'circuit_open'), 1);
  assert.equal(ctx.calls('webhook', 'short_circuited'), 1);
  // The policy is the hook's: closed when configured closed.
  assert.deepEqual(await ctx.runner.run({ ...config, failure: 'closed' }, input(), 'client:billing-app'), { status: 'failed', cause: 'circuit_open', policy: 'closed', source: 'webhook' });
  // Another client's hook (even to the same URL) has its own circuit.
  assert.equal((await ctx.runner.run(config, input(), 'client:other')).status, 'failed');
  assert.equal(s.requests, 6);

  ctx.clock.t += 29_999;
  assert.equal(((await ctx.runner.run(config, input(), 'client:billing-app')) as { cause: string }).cause, 'circuit_open');
  assert.equal(s.requests, 6);

  healthy = true;
  ctx.clock.t += 1;
  assert.deepEqual(await ctx.runner.run(config, input(), 'client:billing-app'), { status: 'ok', claims: { ok: true }, source: 'webhook', cached: false });
  assert.equal(s.requests, 7);
  assert.ok(ctx.logs().some((l) => l.msg === 'payload hook circuit closed'));
  assert.equal((await ctx.runner.run(config, input(), 'client:billing-app')).status, 'ok');
  assert.equal(s.requests, 8);
});

test('circuit breaker: a failed half-open probe opens it again; one probe at a time; success resets the count', () => {
  let t = 0;
  const b = new CircuitBreakers({ now: () => t });
  for (let i = 0; i < 4; i++) b.failure('k');
  b.success('k');
  for (let i = 0; i < 4; i++) b.failure('k');
  assert.equal(b.state('k'), 'closed', 'successes reset the consecutive count');
  assert.equal(b.failure('k'), 'opened');
  assert.equal(b.state('k'), 'open');
  assert.equal(b.admit('k').allowed, false);
  t += 30_000;
  assert.equal(b.state('k'), 'half_open');
  assert.deepEqual(b.admit('k'), { allowed: true, probe: true });
  assert.equal(b.admit('k').allowed, false, 'only one probe in flight');
  assert.equal(b.failure('k'), 'opened');
  t += 29_999;
  assert.equal(b.admit('k').allowed, false);
  t += 1;
  assert.deepEqual(b.admit('k'), { allowed: true, probe: true });
  assert.equal(b.success('k'), 'closed');
  assert.equal(b.state('k'), 'closed');
  // A probe that never reports does not block the hook forever.
  for (let i = 0; i < 5; i++) b.failure('p');
  t += 30_000;
  assert.equal(b.admit('p').allowed, true);
  t += 30_000;
  assert.equal(b.admit('p').allowed, true);
});

test('circuit breaker with a module hook that times out', T, async () => {
  const ctx = setup({ hooksDir });
  const config = { module: 'hooks/hangs-counted.mjs', timeout_ms: 20 } as const;
  const calls = () => (globalThis as Record<string, unknown>).__tesseraHangingCalls;
  for (let i = 0; i < 5; i++) assert.equal(((await ctx.runner.run(config, input(), 'global')) as { cause: string }).cause, 'timeout');
  assert.equal(calls(), 5);
  assert.deepEqual(await ctx.runner.run(config, input(), 'global'), { status: 'failed', cause: 'circuit_open', policy: 'closed', source: 'module' });
  assert.equal(calls(), 5, 'the open circuit answers without calling the hook (so without waiting for it)');
});

// ---------------------------------------------------------------- settings

test('hook settings: schema defaults and refusals', () => {
  assert.deepEqual(PayloadHookConfig.parse({ url: 'https://h.example/p', secret: SECRET }), { url: 'https://h.example/p', secret: SECRET, timeout_ms: 1500, failure: 'closed' });
  assert.deepEqual(PayloadHookConfig.parse({ module: 'hooks/x.ts', cache_ttl_s: 60, failure: 'open' }), { module: 'hooks/x.ts', timeout_ms: 1500, failure: 'open', cache_ttl_s: 60 });
  for (const bad of [
    { url: 'ftp://h.example/p', secret: SECRET },
    { url: 'not a url', secret: SECRET },
    { url: 'https://h.example/p', secret: 'short' },
    { url: 'https://h.example/p', secret: SECRET, timeout_ms: 0 },
    { url: 'https://h.example/p', secret: SECRET, timeout_ms: 10_001 },
    { url: 'https://h.example/p', secret: SECRET, failure: 'maybe' },
    { url: 'https://h.example/p', secret: SECRET, cache_ttl_s: 3601 },
    { url: 'https://h.example/p', secret: SECRET, module: 'hooks/x.ts' },
    { module: '/etc/passwd.js' },
    { module: '../x.ts' },
    { module: 'hooks/../../x.ts' },
    { module: 'hooks\\x.ts' },
    { module: 'C:/x.ts' },
    { module: 'hooks/x.py' },
    { module: 'node_modules/some-package/index.js' },
    {},
  ]) {
    assert.equal(PayloadHookConfig.safeParse(bad).success, false, JSON.stringify(bad));
  }
});

test('hookFromEnv: module, webhook, none, and clear refusals', () => {
  assert.equal(hookFromEnv({}), undefined);
  assert.deepEqual(hookFromEnv({ TESSERA_PAYLOAD_HOOK: 'hooks/my-payload.ts' }), { module: 'hooks/my-payload.ts', timeout_ms: 1500, failure: 'closed' });
  assert.deepEqual(
    hookFromEnv({ TESSERA_PAYLOAD_HOOK_URL: 'http://hook:4000/payload', TESSERA_PAYLOAD_HOOK_SECRET: SECRET, TESSERA_PAYLOAD_HOOK_TIMEOUT_MS: '800', TESSERA_PAYLOAD_HOOK_FAILURE: 'open', TESSERA_PAYLOAD_HOOK_CACHE_TTL_S: '30' }),
    { url: 'http://hook:4000/payload', secret: SECRET, timeout_ms: 800, failure: 'open', cache_ttl_s: 30 },
  );
  assert.throws(() => hookFromEnv({ TESSERA_PAYLOAD_HOOK_URL: 'http://hook/p' }), /TESSERA_PAYLOAD_HOOK_SECRET/);
  assert.throws(() => hookFromEnv({ TESSERA_PAYLOAD_HOOK: 'hooks/a.ts', TESSERA_PAYLOAD_HOOK_URL: 'http://hook/p', TESSERA_PAYLOAD_HOOK_SECRET: SECRET }), /not both/);
  assert.throws(() => hookFromEnv({ TESSERA_PAYLOAD_HOOK: '../a.ts' }), (err: Error) => err instanceof SettingsError && /TESSERA_PAYLOAD_HOOK: must not contain \.\./.test(err.message));
  assert.throws(() => hookFromEnv({ TESSERA_PAYLOAD_HOOK: 'hooks/a.ts', TESSERA_PAYLOAD_HOOK_TIMEOUT_MS: 'fast' }), /TESSERA_PAYLOAD_HOOK_TIMEOUT_MS/);
  assert.throws(() => hookFromEnv({ TESSERA_PAYLOAD_HOOK_FAILURE: 'open' }), /need/);
  const secretError = (() => {
    try {
      hookFromEnv({ TESSERA_PAYLOAD_HOOK_URL: 'gopher://x', TESSERA_PAYLOAD_HOOK_SECRET: 'tiny-secret' });
    } catch (err) {
      return (err as Error).message;
    }
  })();
  assert.match(secretError ?? '', /TESSERA_PAYLOAD_HOOK_URL: must be an http/);
  assert.match(secretError ?? '', /TESSERA_PAYLOAD_HOOK_SECRET: must be at least 16/);
  assert.ok(!secretError?.includes('tiny-secret'), 'the secret value is not echoed');
});

test('webhook calls reuse one keep-alive connection; an answer cut short is not reused', T, async () => {
  let answer: 'claims' | 'empty' | 'too large' = 'claims';
  const s = await serve(async (req, res) => {
    await readBody(req);
    if (answer === 'empty') return res.writeHead(204).end();
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(answer === 'claims' ? '{"tier":"gold"}' : JSON.stringify({ big: 'x'.repeat(70_000) }));
  });
  const ctx = setup();
  for (const a of ['claims', 'claims', 'empty', 'claims'] as const) {
    answer = a;
    const outcome = await ctx.runner.run(webhook(s.url), input(), 'global');
    assert.equal(outcome.status, 'ok', `${a}: ${JSON.stringify(outcome)}`);
  }
  assert.equal(s.connections, 1, 'four answered calls, one connection');
  answer = 'too large';
  assert.equal((await ctx.runner.run(webhook(s.url), input(), 'global')).status, 'failed');
  answer = 'claims';
  assert.equal((await ctx.runner.run(webhook(s.url), input(), 'global')).status, 'ok');
  assert.equal(s.connections, 2, 'the cut-short answer closed its connection; the next call opened another');
});
