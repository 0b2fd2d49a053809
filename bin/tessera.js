#!/usr/bin/env node
// Loads the TypeScript sources through tsx, so there is no build step between a clone and a start.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
