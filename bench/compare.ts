/**
 * Before/after: two results files (from runs made back to back, e.g. with --tessera-root) as one
 * Markdown table, each Tessera figure also as a ratio to the baseline of its own run, since the
 * machine may have been busier during one of them.
 *
 *   node --import tsx bench/compare.ts bench/results/<before>.json bench/results/<after>.json [--server <name>]…
 *
 * `--server` (repeatable) keeps only that server's rows.
 */
import { readFileSync } from 'node:fs';
import { ratioToBaseline, type Results } from './report.ts';

const args = process.argv.slice(2);
const servers = new Set<string>();
for (let i = args.indexOf('--server'); i !== -1; i = args.indexOf('--server')) {
  const [, name] = args.splice(i, 2);
  if (name) servers.add(name);
}
const [beforeFile, afterFile] = args;
if (!beforeFile || !afterFile) {
  console.error('usage: bench/compare.ts <before.json> <after.json> [--server <name>]…');
  process.exit(2);
}
const before = JSON.parse(readFileSync(beforeFile, 'utf8')) as Results;
const after = JSON.parse(readFileSync(afterFile, 'utf8')) as Results;

const lines = [
  `Before: ${beforeFile} (${before.date}); after: ${afterFile} (${after.date}).`,
  '',
  '| server | scenario | conn | before req/s | × baseline | p99 ms | after req/s | × baseline | p99 ms |',
  '|---|---|--:|--:|--:|--:|--:|--:|--:|',
];
for (const a of after.runs) {
  if (a.server === 'baseline' || a.pairedWith || (servers.size > 0 && !servers.has(a.server))) continue;
  const b = before.runs.find((x) => x.server === a.server && x.scenario === a.scenario && x.connections === a.connections);
  if (!b) continue;
  const r = (res: Results, row: typeof a) => ratioToBaseline(res, row)?.toFixed(2) ?? '—';
  lines.push(`| ${a.server} | ${a.scenario} | ${a.connections} | ${b.rps} | ${r(before, b)} | ${b.p99} | ${a.rps} | ${r(after, a)} | ${a.p99} |`);
}
console.log(lines.join('\n'));
