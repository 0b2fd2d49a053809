/**
 * `npm run bench`: the bare oidc-provider baseline, then Tessera on PGlite and (with DATABASE_URL)
 * on PostgreSQL, each in a child process on loopback, driven by autocannon at 10 and 50 connections.
 * Prints one table, writes bench/results/<date>-<machine>.json and the generated part of
 * docs/benchmarks.md. See docs/benchmarks.md for the options and what each scenario does.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose';
import { connectDatabase, type DatabaseTarget } from '../src/db/connect.ts';
import { freePort, ROOT, startChild, type Child } from './children.ts';
import { seedStoredTokens, seedTessera, type Seeded } from './seed.ts';
import { BENCH } from './setup.ts';
import { baselineRefreshTokens, basic, clientCredentialsToken, tesseraRefreshTokens, type AppClient } from './tokens.ts';
import { measure, type Load, type LoadRequest, type Measured } from './load.ts';
import { cpuSnapshot } from './cpu.ts';
import { printTable, writeDoc, type Results, type RunRow } from './report.ts';
import type { BaselineSetup } from './baseline-server.ts';

const { values: args } = parseArgs({
  options: {
    duration: { type: 'string' },
    quick: { type: 'boolean', default: false },
    only: { type: 'string', multiple: true },
    'cpu-prof': { type: 'boolean', default: false },
    'stored-tokens': { type: 'string' },
    'no-doc': { type: 'boolean', default: false },
    'skip-pglite': { type: 'boolean', default: false },
    'tessera-root': { type: 'string' },
    label: { type: 'string' },
    before: { type: 'string', default: 'bench/results/2026-11-24-vm-round3.json' },
  },
});

const quick = args.quick;
const durationS = Number(args.duration ?? (quick ? 2 : 8));
const CONNECTIONS = [10, 50];
// The hooks' cost in latency is read at 1 connection too: at 10 and 50 the server is saturated, and
// a p50 there is mostly queueing behind other requests.
const LATENCY_SCENARIOS = new Set(['refresh', 'refresh+module_hook', 'refresh+webhook']);
const storedTokens = Number(args['stored-tokens'] ?? (quick ? 100_000 : 1_000_000));
// `--only refresh` is that scenario; `--only 'refresh*'` every scenario whose name starts so.
const wanted = (scenario: string) => !args.only || args.only.some((o) => (o.endsWith('*') ? scenario.startsWith(o.slice(0, -1)) : scenario === o));
// Another checkout of Tessera to measure (a before/after comparison); the harness and seed stay these.
const tesseraRoot = path.resolve(args['tessera-root'] ?? ROOT);
const runs: RunRow[] = [];
const versions: Record<string, string> = {
  node: process.version,
  'oidc-provider': packageVersion('oidc-provider'),
  '@electric-sql/pglite': packageVersion('@electric-sql/pglite'),
  autocannon: packageVersion('autocannon'),
};
const log = (msg: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);

function packageVersion(name: string): string {
  return (JSON.parse(readFileSync(path.join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
}

async function signingKeys(): Promise<JWK[]> {
  const keys: JWK[] = [];
  for (const alg of ['ES256', 'RS256'] as const) {
    const { privateKey } = await generateKeyPair(alg, { extractable: true });
    const jwk = await exportJWK(privateKey);
    const kid = await calculateJwkThumbprint(jwk);
    keys.push({ ...jwk, kid, alg, use: 'sig' });
  }
  return keys;
}

const form = (client: AppClient, params: Record<string, string>): LoadRequest => ({
  method: 'POST',
  path: '/token',
  headers: { authorization: basic(client), 'content-type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams(params).toString(),
});
const refreshLoad = (client: AppClient, pool: string[]): Load => ({ kind: 'refresh', pool, request: (token) => form(client, { grant_type: 'refresh_token', refresh_token: token }) });
const ccLoad = (): Load => ({ kind: 'fixed', request: form(BENCH.client, { grant_type: 'client_credentials', scope: 'read', resource: BENCH.jwtResource }) });
const introspectionLoad = (token: string): Load => ({
  kind: 'fixed',
  request: { ...form(BENCH.client, { token }), path: '/token/introspection' },
});

/** A short unrecorded load after a start, so the first measurement does not pay for a cold JIT and cold caches. */
async function warmUp(child: Child, load: () => Promise<Load>): Promise<void> {
  await measure(child.url, await load(), 10, quick ? 1 : 3);
}

/**
 * Measures one scenario at each connection count; `load` is built anew for each (fresh refresh
 * chains). With `pair`, its counterpart is measured just before each measurement, so a target's
 * ratio compares two windows a few seconds apart rather than minutes (this VM's speed drifts by
 * tens of percent between minutes): the baseline's scenario, or with `own`, another scenario of the
 * same server (refresh without a hook, for the hook's cost), or with `twin`, the same server's code
 * on another database (the stored tokens' cost).
 *
 * The last two are read as differences of a few percent, less than this machine's drift from one
 * window to the next, so each is measured in several shorter windows alternating as A B B A A B B A
 * (counterpart, scenario, ...), which cancels a drift that is steady over two windows and spreads a
 * burst over both sides; each side's row is the mean of its windows.
 */
type Pair = { scenario: string; load: (connections: number) => Promise<Load>; own?: boolean; twin?: Child };
async function scenario(server: string, child: Child, name: string, load: (connections: number) => Promise<Load>, pair?: Pair): Promise<void> {
  if (!wanted(name)) return;
  for (const connections of LATENCY_SCENARIOS.has(name) ? [1, ...CONNECTIONS] : CONNECTIONS) {
    if (!pair) {
      record(server, name, connections, [await measureOn(server, child, await load(connections), connections)]);
      continue;
    }
    if (!pair.own && !pair.twin) {
      const paired = await pair.load(connections);
      const own = await load(connections);
      record('baseline', pair.scenario, connections, [await measureOn('baseline', baseline!, paired, connections)], server);
      record(server, name, connections, [await measureOn(server, child, own, connections)]);
      continue;
    }
    const other = pair.twin ?? child;
    const windows: { a: Window[]; b: Window[] } = { a: [], b: [] };
    const windowS = Math.max(1, Math.round(durationS / 2));
    for (let round = 0; round < PAIR_ROUNDS; round++) {
      for (const side of round % 2 === 0 ? (['a', 'b'] as const) : (['b', 'a'] as const)) {
        const w = side === 'a' ? await pair.load(connections) : await load(connections);
        windows[side].push(await measureOn(server, side === 'a' ? other : child, w, connections, windowS));
      }
    }
    record(server, pair.scenario, connections, windows.a, name);
    record(server, name, connections, windows.b);
  }
}

/** Rounds of two windows (half a measurement's duration each) for the hook's and stored tokens' pairs. */
const PAIR_ROUNDS = quick ? 2 : 4;

/**
 * Run before each measurement of a Tessera server on PostgreSQL when that server's autovacuum is
 * off: every refresh leaves a dead row version, and without vacuum PostgreSQL's cost per request
 * grows through the run, charging later scenarios for earlier ones.
 */
let tidyUp: (() => Promise<void>) | undefined;
const notes: string[] = [];

/** One autocannon window, with the CPU the server (and PostgreSQL) spent in it. */
type Window = Measured & { serverMs: number; postgresMs: number };

async function measureOn(server: string, child: Child, load: Load, connections: number, seconds = durationS): Promise<Window> {
  if (server !== 'baseline') await tidyUp?.();
  const before = cpuSnapshot(child.pid);
  const m = await measure(child.url, load, connections, seconds);
  const after = cpuSnapshot(child.pid);
  return { ...m, serverMs: after.serverMs - before.serverMs, postgresMs: after.postgresMs - before.postgresMs };
}

/** One row of the results from one or more windows: their mean rate and latencies, CPU over all their requests. */
function record(server: string, name: string, connections: number, windows: Window[], pairedWith?: string): void {
  const mean = (f: (w: Window) => number) => Math.round((windows.reduce((sum, w) => sum + f(w), 0) / windows.length) * 10) / 10;
  const requests = windows.reduce((sum, w) => sum + w.requests, 0);
  const per = (ms: number) => Math.round((ms / Math.max(requests, 1)) * 1000) / 1000;
  const cpu = {
    cpuMsPerRequest: per(windows.reduce((sum, w) => sum + w.serverMs, 0)),
    ...(server.includes('postgresql') ? { postgresCpuMsPerRequest: per(windows.reduce((sum, w) => sum + w.postgresMs, 0)) } : {}),
  };
  const m = { rps: mean((w) => w.rps), p50: mean((w) => w.p50), p99: mean((w) => w.p99), errors: windows.reduce((sum, w) => sum + w.errors, 0), requests };
  runs.push({ server, scenario: name, connections, ...m, ...cpu, ...(pairedWith ? { pairedWith } : {}), ...(windows.length > 1 ? { windows: windows.length } : {}) });
  log(`${server}${pairedWith ? ` (paired with ${pairedWith})` : ''} ${name} ${connections} conn${windows.length > 1 ? ` (mean of ${windows.length})` : ''}: ${m.rps} req/s, p50 ${m.p50} ms, p99 ${m.p99} ms, ${m.errors} errors, CPU ${cpu.cpuMsPerRequest} ms/req (PostgreSQL ${cpu.postgresCpuMsPerRequest ?? '-'})`);
}

/** With --cpu-prof, node's arguments to write a server's CPU profile to bench/profiles/<server>/. */
function profileArgs(server: string): string[] {
  if (!args['cpu-prof']) return [];
  const dir = path.join(ROOT, 'bench', 'profiles', server);
  mkdirSync(dir, { recursive: true });
  return ['--cpu-prof', '--cpu-prof-dir', dir];
}

/** The baseline server, kept running for the whole run: Tessera's target scenarios are paired with it. */
let baseline: Child | undefined;
const baselineCc = { scenario: 'client_credentials', load: async () => ccLoad() };
const baselineRefreshOf = (child: Child) => async (c: number) => refreshLoad(BENCH.client, await baselineRefreshTokens(child.url, c));
const baselineRefresh = { scenario: 'refresh', load: async (c: number) => baselineRefreshOf(baseline!)(c) };

async function startBaseline(keys: JWK[]): Promise<Child> {
  const port = await freePort();
  const setup: BaselineSetup = {
    keys,
    client: { client_id: BENCH.client.id, client_secret: BENCH.client.secret, redirect_uri: BENCH.redirectUri },
    jwtResource: BENCH.jwtResource,
    opaqueResource: BENCH.opaqueResource,
    refreshScope: BENCH.baselineRefreshScope,
    accountId: 'bench-account',
  };
  const child = await startChild('baseline', ['--import', 'tsx', 'bench/baseline-server.ts'], { BENCH_PORT: String(port), BENCH_SETUP: JSON.stringify(setup) }, `http://127.0.0.1:${port}`, { nodeArgs: profileArgs('baseline') });
  await warmUp(child, () => baselineRefreshOf(child)(10));
  await scenario('baseline', child, 'client_credentials', baselineCc.load);
  await scenario('baseline', child, 'refresh', baselineRefreshOf(child));
  const opaque = await clientCredentialsToken(child.url, BENCH.client, { scope: 'read', resource: BENCH.opaqueResource });
  await scenario('baseline', child, 'introspection', async () => introspectionLoad(opaque));
  return child;
}

async function startTessera(name: string, target: DatabaseTarget, extra: Record<string, string> = {}): Promise<Child> {
  const port = await freePort();
  const env = {
    PORT: String(port),
    HOST: '127.0.0.1',
    ISSUER: `http://localhost:${port}`,
    TESSERA_LOG_LEVEL: 'warn',
    TESSERA_ADMIN_CLIENT_ID: BENCH.admin.id,
    TESSERA_ADMIN_CLIENT_SECRET: BENCH.admin.secret,
    // The bench's webhook receiver listens on loopback.
    TESSERA_HOOK_ALLOWED_HOSTS: '127.0.0.1',
    ...('url' in target ? { DATABASE_URL: target.url } : { TESSERA_DATA_DIR: target.dataDir }),
    ...extra,
  };
  return startChild(name, [path.join(tesseraRoot, 'bin/tessera.js'), 'start'], env, `http://127.0.0.1:${port}`, { cwd: tesseraRoot, readyMs: 120_000, nodeArgs: profileArgs(name) });
}

async function runTessera(server: string, target: DatabaseTarget, webhookUrl: string, keys: JWK[]): Promise<void> {
  log(`${server}: seeding`);
  const db = connectDatabase(target);
  let seeded: Seeded;
  try {
    seeded = await seedTessera(db, webhookUrl, keys);
    if ('url' in target) versions.PostgreSQL = String((await db.raw('show server_version')).rows[0].server_version);
    else versions['PGlite PostgreSQL'] = String((await db.raw('show server_version')).rows[0].server_version);
  } finally {
    await db.destroy();
  }
  let vacuumer: ReturnType<typeof connectDatabase> | undefined;
  if ('url' in target) {
    const probe = connectDatabase(target, { poolMax: 1 });
    const autovacuum = String((await probe.raw('show autovacuum')).rows[0].autovacuum);
    if (autovacuum === 'off') {
      vacuumer = probe;
      tidyUp = async () => {
        await probe.raw('vacuum analyze oidc_payloads');
      };
      const note = 'autovacuum is off on this PostgreSQL server: the harness runs `vacuum analyze oidc_payloads` before each Tessera measurement, as autovacuum would between them.';
      if (!notes.includes(note)) notes.push(note);
      log(note);
    } else {
      await probe.destroy();
    }
  }
  try {
    const oneOrg = seeded.usersByOrgCount[1]!;
    const refreshOf = (child: Child, client: AppClient, user = oneOrg, scope: string = BENCH.refreshScope) => async (c: number) =>
      refreshLoad(client, await tesseraRefreshTokens(child.url.replace('127.0.0.1', 'localhost'), client, user, scope, c));

    let child = await startTessera(server, target);
    try {
      await warmUp(child, refreshOf(child, BENCH.client).bind(null, 10));
      await scenario(server, child, 'client_credentials', async () => ccLoad(), baselineCc);
      await scenario(server, child, 'refresh', refreshOf(child, BENCH.client), baselineRefresh);
      // The hook's cost: each measurement paired with one of the same refresh without the hook.
      await scenario(server, child, 'refresh+module_hook', refreshOf(child, BENCH.moduleClient), { scenario: 'refresh', load: refreshOf(child, BENCH.client), own: true });
      // The same pairing of refresh with itself: what such a paired reading shows when there is no
      // difference, against which the hook's and the stored tokens' few percent are read.
      await scenario(server, child, 'refresh_again', refreshOf(child, BENCH.client), { scenario: 'refresh', load: refreshOf(child, BENCH.client), own: true });
      await scenario(server, child, 'refresh+webhook', refreshOf(child, BENCH.webhookClient));
      const opaque = wanted('introspection') ? await clientCredentialsToken(child.url, BENCH.client, { scope: 'read', resource: BENCH.opaqueResource }) : '';
      await scenario(server, child, 'introspection', async () => introspectionLoad(opaque));
      await scenario(server, child, 'admin_privileges_put', async () => {
        const token = await clientCredentialsToken(child.url, BENCH.admin, { scope: 'admin:privileges' });
        return {
          kind: 'varying',
          request: (i) => ({
            method: 'PUT',
            path: `/admin/v1/users/${seeded.privilegeUserIds[i % seeded.privilegeUserIds.length]}/privileges`,
            headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
            body: JSON.stringify({ profile: { role: 'editor', n: i }, scope: 'docs:read docs:write' }),
          }),
        };
      });
      for (const n of [1, 10, 100]) {
        await scenario(server, child, `refresh_orgs_${n}`, refreshOf(child, BENCH.client, seeded.usersByOrgCount[n]!, BENCH.allOrganizationsScope));
      }
    } catch (err) {
      // A failed scenario or setup: what the server said about it.
      log(`${server} failed; its last log lines:\n${child.output().slice(-4000)}`);
      throw err;
    } finally {
      await stopTessera(child);
    }

    if ('url' in target && (!args.only || args.only.includes('workers'))) {
      const workers = `${server}-2-workers`;
      child = await startTessera(workers, target, { TESSERA_WORKERS: '2' });
      try {
        await warmUp(child, refreshOf(child, BENCH.client).bind(null, 10));
        await scenario(workers, child, 'client_credentials', async () => ccLoad(), baselineCc);
        await scenario(workers, child, 'refresh', refreshOf(child, BENCH.client), baselineRefresh);
      } finally {
        await stopTessera(child);
      }
    }

    if (wanted('refresh_1m_tokens')) await storedTokensScenario(server, target, webhookUrl, keys, refreshOf);
  } finally {
    tidyUp = undefined;
    await vacuumer?.destroy();
  }
}

/**
 * `refresh_1m_tokens`: a server on a second database, seeded alike and then given the stored
 * tokens, measured alternately with a server on the first one (both running; the idle one costs
 * nothing), so the cost of the stored tokens is read between two windows seconds apart.
 */
async function storedTokensScenario(server: string, target: DatabaseTarget, webhookUrl: string, keys: JWK[], refreshOf: (child: Child, client: AppClient) => (c: number) => Promise<Load>): Promise<void> {
  await withSecondDatabase(target, async (scaledTarget) => {
    log(`${server}: a second database with ${storedTokens} grants and refresh tokens`);
    const started = Date.now();
    const db = connectDatabase(scaledTarget);
    try {
      await seedTessera(db, webhookUrl, keys);
      await seedStoredTokens(db, storedTokens);
    } finally {
      await db.destroy();
    }
    log(`${server}: stored in ${Math.round((Date.now() - started) / 1000)} s`);
    const plain = await startTessera(server, target);
    let scaled: Child | undefined;
    const previousTidyUp = tidyUp;
    const vacuumer = 'url' in scaledTarget ? connectDatabase(scaledTarget, { poolMax: 1 }) : undefined;
    if (previousTidyUp && vacuumer) {
      tidyUp = async () => {
        await previousTidyUp();
        await vacuumer.raw('vacuum analyze oidc_payloads');
      };
    }
    try {
      scaled = await startTessera(server, scaledTarget);
      await warmUp(plain, refreshOf(plain, BENCH.client).bind(null, 10));
      await warmUp(scaled, refreshOf(scaled, BENCH.client).bind(null, 10));
      await scenario(server, scaled, 'refresh_1m_tokens', refreshOf(scaled, BENCH.client), { scenario: 'refresh', load: refreshOf(plain, BENCH.client), twin: plain });
    } finally {
      tidyUp = previousTidyUp;
      await vacuumer?.destroy();
      if (scaled) await stopTessera(scaled);
      await stopTessera(plain);
    }
  });
}

/** Another database of the same kind as `target`, removed afterwards. */
async function withSecondDatabase(target: DatabaseTarget, fn: (target: DatabaseTarget) => Promise<void>): Promise<void> {
  if ('url' in target) return withThrowawayDatabase(target.url, (url) => fn({ url }));
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'tessera-bench-'));
  try {
    await fn({ dataDir });
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function stopTessera(child: Child) {
  const code = await child.stop();
  if (code !== 0) log(`${child.name} exited ${code}\n${child.output().slice(-3000)}`);
}

/** A throwaway database inside the given server, dropped at the end. */
async function withThrowawayDatabase(url: string, fn: (url: string) => Promise<void>): Promise<void> {
  const name = `tessera_bench_${Date.now()}`;
  const admin = connectDatabase({ url }, { poolMax: 1 });
  await admin.raw(`create database ${name}`);
  try {
    const u = new URL(url);
    u.pathname = `/${name}`;
    await fn(u.href);
  } finally {
    await admin.raw(`drop database if exists ${name} with (force)`);
    await admin.destroy();
  }
}

async function main() {
  const started = Date.now();
  const keys = await signingKeys();
  log(`duration ${durationS} s per measurement, connections ${CONNECTIONS.join(' and ')} (and 1 for ${[...LATENCY_SCENARIOS].join(', ')})`);
  baseline = await startBaseline(keys);

  const hookPort = await freePort();
  const receiver = await startChild('webhook receiver', ['--import', 'tsx', 'hooks/example-webhook-receiver.ts'], { PORT: String(hookPort), TESSERA_PAYLOAD_HOOK_SECRET: BENCH.webhookSecret }, `http://127.0.0.1:${hookPort}`, {
    readyPath: '/healthz',
  });
  const webhookUrl = `http://127.0.0.1:${hookPort}/payload`;
  try {
    if (!args['skip-pglite']) {
      const dataDir = mkdtempSync(path.join(os.tmpdir(), 'tessera-bench-'));
      try {
        await runTessera('tessera-pglite', { dataDir }, webhookUrl, keys);
      } finally {
        rmSync(dataDir, { recursive: true, force: true });
      }
    }
    if (process.env.DATABASE_URL) await withThrowawayDatabase(process.env.DATABASE_URL, (url) => runTessera('tessera-postgresql', { url }, webhookUrl, keys));
    else log('no DATABASE_URL: PostgreSQL skipped');
  } finally {
    await receiver.stop();
    await baseline.stop();
  }

  const results: Results = {
    date: new Date().toISOString(),
    machine: { cpu: os.cpus()[0]?.model ?? 'unknown', cores: os.cpus().length, memoryGiB: Math.round(os.totalmem() / 2 ** 30), os: `${os.type()} ${os.release()}` },
    versions,
    options: { durationS, connections: [1, ...CONNECTIONS], quick, storedTokens },
    notes,
    runs,
  };
  printTable(results);
  const machine = os.hostname().replace(/[^A-Za-z0-9-]/g, '') || 'machine';
  const file = `bench/results/${results.date.slice(0, 10)}-${machine}${quick ? '-quick' : ''}${args.only ? '-partial' : ''}${args.label ? `-${args.label.replace(/[^A-Za-z0-9-]/g, '')}` : ''}.json`;
  mkdirSync(path.join(ROOT, 'bench/results'), { recursive: true });
  writeFileSync(path.join(ROOT, file), JSON.stringify(results, null, 2) + '\n');
  log(`results in ${file}`);
  if (!args['no-doc'] && !args.only) {
    const before = args.before ? { file: args.before, results: JSON.parse(readFileSync(path.join(ROOT, args.before), 'utf8')) as Results } : undefined;
    writeDoc(path.join(ROOT, 'docs/benchmarks.md'), results, file, before);
    log('docs/benchmarks.md updated');
  }
  log(`done in ${Math.round((Date.now() - started) / 1000)} s`);
}

const watchdog = setTimeout(() => {
  log('the run took more than 40 minutes; stopping');
  process.exit(2);
}, 40 * 60_000).unref();

main().then(
  () => clearTimeout(watchdog),
  (err: Error) => {
    log(`failed: ${err.stack ?? err.message}`);
    process.exitCode = 1;
  },
);
