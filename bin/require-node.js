// Stops a process on a Node.js older than package.json's `engines` at once, with one line, before
// anything newer (tsx, oidc-provider 9) fails somewhere deeper. Plain JavaScript that old Node parses.
import { readFileSync } from 'node:fs';

/** The message for `found` (a process.versions.node) against an `engines.node` of the form ">=22.12", or null when it fits. */
export function unsupportedNode(found, range) {
  const want = /^>=\s*(\d+)(?:\.(\d+))?/.exec(range);
  if (!want) return null;
  const [major, minor] = found.split('.').map(Number);
  const [wantMajor, wantMinor] = [Number(want[1]), Number(want[2] || 0)];
  if (major > wantMajor || (major === wantMajor && minor >= wantMinor)) return null;
  return (
    'Tessera needs Node.js ' + range + ' but this is Node.js v' + found + ' (' + process.execPath + '); ' +
    'install Node.js 22 LTS from https://nodejs.org (or `nvm install 22`) and put it first on PATH.'
  );
}

const engines = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).engines;
const message = unsupportedNode(process.versions.node, engines.node);
if (message) {
  process.stderr.write(message + '\n');
  process.exit(1);
}
