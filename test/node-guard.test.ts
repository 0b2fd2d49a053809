/**
 * On a Node.js older than package.json's `engines`, `tessera` (npm start, npx tessera) and `npm test`
 * stop at once with one line: the version found, the versions supported and how to get one.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
// @ts-expect-error plain JavaScript module without types (it must parse on any Node.js)
import { unsupportedNode } from '../bin/require-node.js';
import { ROOT } from './support/processes.ts';

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
