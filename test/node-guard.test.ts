/**
 * On a Node.js older than package.json's `engines`, `tessera` (npm start, npx tessera) and `npm test`
 * stop at once with one line: the version found, the versions supported and how to get one.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
// @ts-expect-error plain JavaScript module without types (it must parse on any Node.js)
import { unsupportedNode } from '../bin/require-node.js';
import { ROOT } from './support/processes.ts';
import { testEnv } from './support/server.ts';

const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { engines: { node: string }; scripts: Record<string, string> };
// Debian's Node.js, older than Tessera supports, where the machine has it.
const OLD_NODE = '/usr/bin/node';
const oldVersion = spawnSync(OLD_NODE, ['-p', 'process.versions.node'], { encoding: 'utf8' }).stdout?.trim();
const noOldNode = oldVersion && unsupportedNode(oldVersion, pkg.engines.node) ? false : `no Node.js older than ${pkg.engines.node} at ${OLD_NODE}`;

test('the check accepts the supported versions and names found, supported and how to get one otherwise', () => {
  assert.equal(unsupportedNode('22.12.0', '>=22.12'), null);
  assert.equal(unsupportedNode('23.1.0', '>=22.12'), null);
  assert.equal(unsupportedNode('24.0.0', '>=22.12'), null);
  const message = unsupportedNode('22.11.0', '>=22.12') as string;
  assert.match(message, /v22\.11\.0/);
  assert.match(message, />=22\.12/);
  assert.match(message, /nodejs\.org/);
  assert.ok(unsupportedNode('20.19.0', '>=22.12'));
  assert.equal(unsupportedNode(process.versions.node, pkg.engines.node), null, 'the Node.js running the tests is supported');
});

for (const [what, args] of [
  ['tessera start (npm start)', ['bin/tessera.js', 'start']],
  ['tessera --help (npx tessera)', ['bin/tessera.js', '--help']],
  ['the pretest step of npm test', pkg.scripts.pretest!.split(' ').slice(1)],
  ['the first step of npm run demo', pkg.scripts.demo!.split(' && ')[0]!.split(' ').slice(1)],
] as const) {
  test(`on an unsupported Node.js, ${what} stops at once with one line`, { skip: noOldNode }, () => {
    const r = spawnSync(OLD_NODE, args, { cwd: ROOT, encoding: 'utf8', timeout: 30_000, env: { PATH: process.env.PATH, HOME: process.env.HOME } });
    assert.equal(r.status, 1, r.stderr);
    assert.equal(r.stdout, '');
    const lines = r.stderr.trimEnd().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0]!, new RegExp(`v${oldVersion!.replace(/\./g, '\\.')}`));
    assert.ok(lines[0]!.includes(pkg.engines.node), lines[0]);
    assert.match(lines[0]!, /install Node\.js 22/);
  });
}

test('npm test runs the check first', () => {
  assert.equal(pkg.scripts.pretest, 'node bin/require-node.js');
  assert.match(readFileSync(path.join(ROOT, 'bin/tessera.js'), 'utf8'), /^#!.*\n(\/\/.*\n)*import '\.\/require-node\.js';/);
});

// The README's two commands on a machine whose own Node.js is too old: npm puts node_modules/.bin
// first on PATH for its scripts and `npm exec`, and the node-<platform> optional dependency puts a
// supported Node.js there, so they run on it rather than stop.
test('on a machine whose Node.js is too old, npm start runs the provider and npx tessera answers', { skip: noOldNode, timeout: 120_000 }, async () => {
  const { env, cleanup } = await testEnv();
  const oldFirst = { ...env, PATH: `${path.dirname(OLD_NODE)}:/bin`, HOME: process.env.HOME! };
  const help = spawnSync(path.join(path.dirname(OLD_NODE), 'npx'), ['tessera', '--help'], { cwd: ROOT, encoding: 'utf8', timeout: 60_000, env: oldFirst });
  assert.equal(help.status, 0, help.stderr);
  assert.match(help.stdout, /usage: tessera/);

  const child = spawn(path.join(path.dirname(OLD_NODE), 'npm'), ['start'], { cwd: ROOT, env: oldFirst, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (output += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (output += d));
  try {
    let ready = false;
    for (let i = 0; i < 300 && !ready && child.exitCode === null; i++) {
      await new Promise((r) => setTimeout(r, 200));
      ready = await fetch(`http://127.0.0.1:${env.PORT}/readyz`).then((r) => r.ok, () => false);
    }
    assert.ok(ready, `npm start did not serve:\n${output}`);
    const versions = await fetch(`http://127.0.0.1:${env.PORT}/.well-known/openid-configuration`);
    assert.equal(versions.status, 200);
  } finally {
    if (child.exitCode === null) process.kill(-child.pid!, 'SIGTERM');
    await new Promise((r) => (child.exitCode === null ? child.once('exit', r) : r(null)));
    cleanup();
  }
});
