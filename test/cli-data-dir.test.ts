/**
 * The embedded database is the project's, wherever in the project the CLI runs: a command from a
 * sub-folder uses (and says it uses) the project's data folder instead of making a second database
 * where it happens to be. Always on PGlite: the data folder is what is tested.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCli } from './support/processes.ts';

const project = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'tessera-project-')));
after(() => rmSync(project, { recursive: true, force: true }));

// Only what the CLI needs; no DATABASE_URL and no TESSERA_DATA_DIR, so the defaults apply.
const env = { TESSERA_LOG_LEVEL: 'silent' };

test('from a sub-folder, the CLI uses the project folder\'s data/ and says so; from the project folder, the same database', async () => {
  writeFileSync(path.join(project, 'package.json'), '{"name":"my-app","private":true}\n');
  const deep = path.join(project, 'src', 'deeper');
  mkdirSync(deep, { recursive: true });

  const fromDeep = await runCli(['org', 'add', '--alias', 'acme', '--name', 'Acme'], env, { cwd: deep });
  assert.equal(fromDeep.code, 0, fromDeep.stderr);
  assert.equal(fromDeep.stderr.trim(), `using the embedded database in ${path.join(project, 'data')}`);
  assert.ok(existsSync(path.join(project, 'data')), 'the database is in the project folder');
  assert.ok(!existsSync(path.join(deep, 'data')), 'no second database where the command ran');

  const fromRoot = await runCli(['org', 'add', '--alias', 'acme', '--name', 'Acme'], env, { cwd: project });
  assert.equal(fromRoot.code, 1, 'the same database: acme is already there');
  assert.match(fromRoot.stderr, /organization acme already exists/);
  assert.doesNotMatch(fromRoot.stderr, /using the embedded database/, 'from the project folder itself there is nothing to point out');
});
