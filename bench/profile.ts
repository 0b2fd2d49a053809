/**
 * `npm run bench:profile -- <file.cpuprofile>`: where a server's CPU went, from a V8 CPU profile that
 * `npm run bench -- --cpu-prof` wrote (bench/profiles/<server>/). Self time is grouped by area (the
 * package or Tessera folder a function lives in, signing, garbage collection...) and printed as a
 * markdown table of the busy time (idle left out), then the heaviest functions.
 */
import { readFileSync } from 'node:fs';

type Profile = {
  nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number } }>;
  samples: number[];
  timeDeltas: number[];
};

const file = process.argv[2];
if (!file) {
  console.error('usage: npm run bench:profile -- <file.cpuprofile>');
  process.exit(2);
}
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const nodes = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));

/** The area a function belongs to: a package, a Tessera folder, Node's own parts, or V8's. */
function area(frame: { functionName: string; url: string }): string {
  const url = frame.url;
  if (!url) {
    if (frame.functionName === '(garbage collector)') return 'garbage collection';
    if (frame.functionName === 'writev' || frame.functionName === 'writeUtf8String' || frame.functionName === 'writeLatin1String') return 'socket writes (HTTP answers, database messages)';
    return `V8/native: ${frame.functionName || '(anonymous)'}`;
  }
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1]!;
  if (url.startsWith('node:internal/crypto') || url.includes('crypto')) return 'node: crypto (signatures, hashes, random ids)';
  if (/node:(_http|internal\/http|http)/.test(url)) return 'node: http';
  if (/node:(internal\/streams|stream|net|internal\/net)/.test(url)) return 'node: streams and sockets';
  if (url.startsWith('node:')) return `node: ${url.slice(5).split('/').slice(0, 2).join('/')}`;
  const own = /\/(src\/[^/]+|bin|hooks)\//.exec(url);
  return own ? `tessera ${own[1]}` : url;
}

const self = new Map<number, number>();
profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
const byArea = new Map<string, number>();
const byFunction = new Map<string, number>();
let busy = 0;
for (const [id, us] of self) {
  const frame = nodes.get(id)!;
  if (frame.functionName === '(idle)') continue;
  busy += us;
  const a = area(frame);
  byArea.set(a, (byArea.get(a) ?? 0) + us);
  const where = frame.url ? `${frame.url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*?\/(src|bin|hooks)\//, '$1/')}:${frame.lineNumber + 1}` : '';
  const fn = `${frame.functionName || '(anonymous)'} ${where}`.trim();
  byFunction.set(fn, (byFunction.get(fn) ?? 0) + us);
}

const top = (m: Map<string, number>, n: number) => [...m].sort((a, b) => b[1] - a[1]).slice(0, n);
console.log(`Busy CPU in the profile: ${(busy / 1e6).toFixed(1)} s (idle left out).\n`);
console.log('| area | share of busy CPU |\n|---|--:|');
for (const [a, us] of top(byArea, 15)) console.log(`| ${a} | ${((100 * us) / busy).toFixed(1)}% |`);
console.log('\n| function (self time) | share |\n|---|--:|');
for (const [f, us] of top(byFunction, 15)) console.log(`| \`${f.replaceAll('|', '\\|')}\` | ${((100 * us) / busy).toFixed(1)}% |`);
