/**
 * Turns a run into its results file and the generated part of docs/benchmarks.md: the table with
 * ratios to the baseline, and each target with pass or miss. Nothing here is typed by hand.
 */
import { readFileSync, writeFileSync } from 'node:fs';

export type RunRow = {
  server: string;
  scenario: string;
  connections: number;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  requests: number;
  /** CPU of the server's processes per request, from /proc (older results files lack it). */
  cpuMsPerRequest?: number;
  /** CPU of all PostgreSQL processes per request, for servers on PostgreSQL. */
  postgresCpuMsPerRequest?: number;
  /**
   * Measured just before another measurement, to be compared with it: on a baseline row, the
   * Tessera server measured next; on a Tessera row, the scenario it is compared with (the hook's
   * cost, the stored tokens' cost).
   */
  pairedWith?: string;
  /** How many windows this row is the mean of (A B B A pairs: 2); absent for one. */
  windows?: number;
};

export type Results = {
  date: string;
  machine: { cpu: string; cores: number; memoryGiB: number; os: string };
  versions: Record<string, string>;
  options: { durationS: number; connections: number[]; quick: boolean; storedTokens: number };
  /** What the harness did differently on this machine, and why. */
  notes?: string[];
  runs: RunRow[];
};

/** The baseline scenario a Tessera scenario is compared with. */
const BASELINE_OF: Record<string, string> = {
  client_credentials: 'client_credentials',
  refresh: 'refresh',
  'refresh+module_hook': 'refresh',
  refresh_again: 'refresh',
  'refresh+webhook': 'refresh',
  refresh_1m_tokens: 'refresh',
  refresh_orgs_1: 'refresh',
  refresh_orgs_10: 'refresh',
  refresh_orgs_100: 'refresh',
  introspection: 'introspection',
};

const find = (r: Results, server: string, scenario: string, connections: number) => r.runs.find((x) => x.server === server && x.scenario === scenario && x.connections === connections && !x.pairedWith);

/** The baseline row a Tessera row is compared with: the one measured just before it, if any. */
function baselineFor(r: Results, row: RunRow): RunRow | undefined {
  const scenario = BASELINE_OF[row.scenario];
  if (!scenario) return undefined;
  const paired = row.scenario === scenario ? r.runs.find((x) => x.server === 'baseline' && x.pairedWith === row.server && x.scenario === scenario && x.connections === row.connections) : undefined;
  return paired ?? find(r, 'baseline', scenario, row.connections);
}

export function ratioToBaseline(r: Results, row: RunRow): number | undefined {
  const b = baselineFor(r, row);
  return b && b.rps > 0 ? row.rps / b.rps : undefined;
}

/** A target and where this run puts it; `pass` undefined: not a target, a reading to judge others by. */
export type TargetCheck = { target: string; server: string; connections: number; value: string; pass: boolean | undefined };

/** Every target of issue 5 that this run has the numbers for. */
export function checkTargets(r: Results): TargetCheck[] {
  const out: TargetCheck[] = [];
  const servers = [...new Set(r.runs.map((x) => x.server))].filter((s) => s.startsWith('tessera') && !s.includes('workers'));
  for (const c of r.options.connections) {
    for (const server of servers) {
      const cc = find(r, server, 'client_credentials', c);
      const bcc = cc && baselineFor(r, cc);
      if (cc && bcc) {
        out.push({ target: 'client_credentials JWT: ≥ 0.9× baseline req/s', server, connections: c, value: `${(cc.rps / bcc.rps).toFixed(2)}×${cpuRatio(cc, bcc)}`, pass: cc.rps >= 0.9 * bcc.rps });
        out.push({ target: 'client_credentials JWT: p99 ≤ 1.5× baseline', server, connections: c, value: `${(cc.p99 / Math.max(bcc.p99, 1)).toFixed(2)}×`, pass: cc.p99 <= 1.5 * Math.max(bcc.p99, 1) });
      }
      const refresh = find(r, server, 'refresh', c);
      const brefresh = refresh && baselineFor(r, refresh);
      if (refresh && brefresh && server === 'tessera-postgresql') {
        out.push({ target: 'refresh with organization + privileges (PostgreSQL): ≥ 0.6× baseline refresh', server, connections: c, value: `${(refresh.rps / brefresh.rps).toFixed(2)}×${cpuRatio(refresh, brefresh)}`, pass: refresh.rps >= 0.6 * brefresh.rps });
      }
      if (refresh && brefresh && server === 'tessera-pglite' && c === 50) {
        const pass = refresh.rps >= 0.3 * brefresh.rps && refresh.p99 <= 150;
        out.push({ target: 'refresh on the embedded database: ≥ 0.3× baseline refresh, p99 ≤ 150 ms', server, connections: c, value: `${(refresh.rps / brefresh.rps).toFixed(2)}×, p99 ${refresh.p99} ms`, pass });
      }
      const mod = find(r, server, 'refresh+module_hook', c);
      // The refresh measured just before it (older results files have none: the scenario's own row).
      const plain = r.runs.find((x) => x.server === server && x.scenario === 'refresh' && x.pairedWith === 'refresh+module_hook' && x.connections === c) ?? refresh;
      if (plain && mod) {
        const cost = 1 - mod.rps / plain.rps;
        const cpu = mod.cpuMsPerRequest && plain.cpuMsPerRequest ? ` (CPU per request: ${cpuCost(mod, plain)})` : '';
        out.push({ target: 'module hook: ≤ 5% fewer req/s than refresh without it', server, connections: c, value: `${(cost * 100).toFixed(1)}%${cpu}`, pass: cost <= 0.05 });
      }
      const again = find(r, server, 'refresh_again', c);
      const first = r.runs.find((x) => x.server === server && x.scenario === 'refresh' && x.pairedWith === 'refresh_again' && x.connections === c);
      if (again && first) {
        out.push({ target: 'paired reading of refresh against itself (the noise of the two above)', server, connections: c, value: `${((1 - again.rps / first.rps) * 100).toFixed(1)}%`, pass: undefined });
      }
      const hook = find(r, server, 'refresh+webhook', c);
      if (refresh && hook) {
        const added = hook.p50 - refresh.p50;
        out.push({ target: 'loopback webhook: ≤ +1 ms at p50', server, connections: c, value: `${added >= 0 ? '+' : ''}${added.toFixed(1)} ms`, pass: added <= 1 });
      }
      const scaled = find(r, server, 'refresh_1m_tokens', c);
      // The refresh measured just before it on a database without the stored tokens (older results files have none).
      const unscaled = r.runs.find((x) => x.server === server && x.scenario === 'refresh' && x.pairedWith === 'refresh_1m_tokens' && x.connections === c) ?? refresh;
      if (unscaled && scaled) {
        const cost = 1 - scaled.rps / unscaled.rps;
        out.push({ target: `${r.options.storedTokens.toLocaleString('en')} stored tokens: ≤ 10% fewer refresh req/s`, server, connections: c, value: `${(cost * 100).toFixed(1)}%`, pass: cost <= 0.1 });
      }
    }
  }
  return out;
}

/** How much more CPU (server + PostgreSQL) a request of `row` takes than one of `plain`, as a signed percentage. */
function cpuCost(row: RunRow, plain: RunRow): string {
  const own = (x: RunRow) => x.cpuMsPerRequest! + (x.postgresCpuMsPerRequest ?? 0);
  const added = own(row) / own(plain) - 1;
  return `${added >= 0 ? '+' : ''}${(added * 100).toFixed(1)}%`;
}

/** The baseline's CPU per request over Tessera's (its own process, plus PostgreSQL's): the same ratio, less exposed to noise. */
function cpuRatio(row: RunRow, base: RunRow): string {
  if (!row.cpuMsPerRequest || !base.cpuMsPerRequest) return '';
  const own = row.cpuMsPerRequest + (row.postgresCpuMsPerRequest ?? 0);
  return ` (CPU: ${(base.cpuMsPerRequest / own).toFixed(2)}×)`;
}

const cpuCell = (ms: number | undefined) => (ms === undefined ? '—' : ms.toFixed(2));
const fmt = (n: number, digits = 0) => n.toLocaleString('en', { maximumFractionDigits: digits, minimumFractionDigits: digits });

/** Each Tessera measurement of this run beside the same one in an earlier run (`--before`). */
function comparison(before: { file: string; results: Results }, r: Results): string[] {
  const lines = [`Against [${before.file}](../${before.file}) (${before.results.date.slice(0, 10)}): ratio to the baseline of each run, and CPU per request (server + PostgreSQL).`, ''];
  lines.push('| server | scenario | connections | × baseline before | × baseline now | CPU ms/req before | CPU ms/req now |');
  lines.push('|---|---|--:|--:|--:|--:|--:|');
  const cpu = (row: RunRow) => (row.cpuMsPerRequest === undefined ? '—' : (row.cpuMsPerRequest + (row.postgresCpuMsPerRequest ?? 0)).toFixed(2));
  for (const row of r.runs) {
    if (row.server === 'baseline' || row.pairedWith) continue;
    const old = find(before.results, row.server, row.scenario, row.connections);
    if (!old) continue;
    lines.push(`| ${row.server} | ${row.scenario} | ${row.connections} | ${ratioToBaseline(before.results, old)?.toFixed(2) ?? '—'} | ${ratioToBaseline(r, row)?.toFixed(2) ?? '—'} | ${cpu(old)} | ${cpu(row)} |`);
  }
  return lines;
}

export function markdown(r: Results, before?: { file: string; results: Results }): string {
  const lines: string[] = [];
  lines.push(`Run of ${r.date}${r.options.quick ? ' (`--quick`: short, for direction only)' : ''}, ${r.options.durationS} s per measurement.`);
  lines.push('');
  lines.push(`- Machine: ${r.machine.cpu}, ${r.machine.cores} cores, ${r.machine.memoryGiB} GiB, ${r.machine.os}`);
  lines.push(`- Versions: ${Object.entries(r.versions).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  for (const note of r.notes ?? []) lines.push(`- Note: ${note}`);
  lines.push('');
  lines.push('| server | scenario | connections | req/s | p50 ms | p99 ms | errors | × baseline req/s | server CPU ms/req | PostgreSQL CPU ms/req |');
  lines.push('|---|---|--:|--:|--:|--:|--:|--:|--:|--:|');
  for (const row of r.runs) {
    const ratio = row.server === 'baseline' ? '1.00' : ratioToBaseline(r, row)?.toFixed(2) ?? '—';
    lines.push(`| ${row.pairedWith ? `${row.server}, paired with ${row.pairedWith}` : row.server} | ${row.scenario} | ${row.connections} | ${fmt(row.rps, 1)} | ${row.p50} | ${row.p99} | ${row.errors} | ${ratio} | ${cpuCell(row.cpuMsPerRequest)} | ${cpuCell(row.postgresCpuMsPerRequest)} |`);
  }
  lines.push('');
  lines.push('| target | server | connections | measured | |');
  lines.push('|---|---|--:|--:|---|');
  for (const t of checkTargets(r)) lines.push(`| ${t.target} | ${t.server} | ${t.connections} | ${t.value} | ${t.pass === undefined ? '(reading)' : t.pass ? 'pass' : '**miss**'} |`);
  if (before) lines.push('', ...comparison(before, r));
  return lines.join('\n');
}

export const START = '<!-- bench:generated:start (written by `npm run bench`; do not edit by hand) -->';
export const END = '<!-- bench:generated:end -->';

/** Replaces the generated part of the doc, between the markers. */
export function writeDoc(docPath: string, r: Results, resultsFile: string, before?: { file: string; results: Results }): void {
  const doc = readFileSync(docPath, 'utf8');
  const a = doc.indexOf(START);
  const b = doc.indexOf(END);
  if (a < 0 || b < a) throw new Error(`${docPath} has no generated section markers`);
  const generated = `${START}\n\nFrom [${resultsFile}](../${resultsFile}).\n\n${markdown(r, before)}\n\n${END}`;
  writeFileSync(docPath, doc.slice(0, a) + generated + doc.slice(b + END.length));
}

export function printTable(r: Results): void {
  const rows = r.runs.map((row) => ({
    server: row.pairedWith ? `${row.server}~${row.pairedWith}` : row.server,
    scenario: row.scenario,
    conn: row.connections,
    'req/s': row.rps,
    p50: row.p50,
    p99: row.p99,
    errors: row.errors,
    'x base': row.server === 'baseline' ? '1.00' : (ratioToBaseline(r, row)?.toFixed(2) ?? '-'),
    'cpu ms/req': cpuCell(row.cpuMsPerRequest),
    'pg cpu ms/req': cpuCell(row.postgresCpuMsPerRequest),
  }));
  console.table(rows);
  for (const t of checkTargets(r)) console.log(`${t.pass === undefined ? 'read' : t.pass ? 'pass' : 'MISS'}  ${t.target}  [${t.server}, ${t.connections} conn]  ${t.value}`);
}
