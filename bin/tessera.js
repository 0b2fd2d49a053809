#!/usr/bin/env node
// First, before anything an older Node.js cannot run: stop with one line on an unsupported version.
import './require-node.js';
// Loads the TypeScript sources through tsx, so there is no build step between a clone and a start.
const { register } = await import('tsx/esm/api');
register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
