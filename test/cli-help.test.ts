/**
 * The CLI's help and usage errors, as a person at a terminal sees them: `node bin/tessera.js ...` in a
 * child process, judged by its exit code and what it prints. None of it touches the database; it
 * is a file of its own because it starts many processes (each command's --help).
 */
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { testEnv } from './support/server.ts';
import { REDIRECT_URI } from './support/fixtures.ts';
import { runCli } from './support/processes.ts';
import { commands } from '../src/cli/commands.ts';

// Every command the CLI has, from its own table: a command added there is checked here too.
const COMMANDS = commands.map((c) => c.path.join(' '));
const STACK_FRAME = /^\s+at\s/m;

let env: Record<string, string>;
let cleanup = () => {};

before(async () => {
  ({ env, cleanup } = await testEnv());
});

after(() => cleanup());

describe('help', () => {
  test('--help lists every command and exits 0', async () => {
    const r = await runCli(['--help'], env);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /usage: tessera <command>/);
    assert.ok(COMMANDS.includes('privileges set') && COMMANDS.length >= 11, `the command table: ${COMMANDS.join(', ')}`);
    for (const command of COMMANDS) assert.match(r.stdout, new RegExp(`^  ${command} `, 'm'), `lists ${command}`);
    assert.equal(r.stderr, '');
  });

  test('each command takes --help: usage on stdout, exit 0, nothing touched', async () => {
    // A few at a time: eleven Node processes starting at once can take minutes on a loaded 2-core machine.
    const results: Awaited<ReturnType<typeof runCli>>[] = [];
    for (let i = 0; i < COMMANDS.length; i += 3) results.push(...(await Promise.all(COMMANDS.slice(i, i + 3).map((command) => runCli([...command.split(' '), '--help'], env)))));
    results.forEach((r, i) => {
      const command = COMMANDS[i]!;
      assert.equal(r.code, 0, `${command} --help: ${r.stderr}`);
      assert.match(r.stdout, new RegExp(`^usage: tessera ${command}\\b`, 'm'), `${command} --help shows its usage`);
      assert.match(r.stdout, /--help/);
      assert.equal(r.stderr, '', `${command} --help prints nothing on stderr`);
      // Every option has a line of its own with a description; required ones say so, and so do the allowed values.
      for (const [name, o] of Object.entries(commands[i]!.options)) {
        const line = r.stdout.split('\n').find((l) => new RegExp(`^  --${name}\\b`).test(l));
        assert.ok(line, `${command} --help lists --${name}`);
        const description = line.replace(/^\s+--\S+( <[^>]+>)?\s+/, '');
        assert.ok(description.length >= 10, `${command} --${name} has a description: ${line}`);
        // The marker, not the word: `--mfa` takes the value `required`.
        assert.equal(/\(required\)$/.test(line), o.required === true, `${command} --${name}: required marked iff required: ${line}`);
        for (const v of o.values ?? []) assert.ok(line.includes(v), `${command} --${name} names the allowed value ${v}`);
        if (o.unit) assert.ok(line.includes(o.unit), `${command} --${name} names its unit`);
        if (o.separator) assert.ok(line.includes(`${o.separator}-separated`), `${command} --${name} names its separator`);
      }
    });
  });

  test('tessera user --help (a group of commands) lists the commands under it, like user add --help lists options', async () => {
    const r = await runCli(['user', '--help'], env);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /usage: tessera user <command>/);
    assert.match(r.stdout, /^  user add\s+create a user/m);
    const org = await runCli(['org', 'member', '--help'], env);
    assert.equal(org.code, 0, org.stderr);
    assert.match(org.stdout, /^  org member add /m);
    const bare = await runCli(['keys'], env);
    assert.equal(bare.code, 2);
    assert.match(bare.stderr, /tessera keys needs a command/);
    assert.match(bare.stderr, /keys rotate/);
  });

  test('a misspelled command gets a suggestion', async () => {
    const r = await runCli(['usr', 'add'], env);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /did you mean tessera user add\?/);
  });

  test('an option given twice is an error, not a silent last-one-wins (repeatable ones excepted)', async () => {
    const r = await runCli(['org', 'member', 'add', '--org', 'a', '--user', 'x', '--roles', 'admin', '--roles', 'viewer'], env);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--roles is given more than once/);
    assert.equal(r.stdout, '');
    const repeated = await runCli(['client', 'add', '--name', 'Two', '--redirect-uri', REDIRECT_URI, '--redirect-uri', 'https://app.test/cb2', '--public'], env);
    assert.equal(repeated.code, 0, repeated.stderr);
    assert.deepEqual(JSON.parse(repeated.stdout).redirect_uris, [REDIRECT_URI, 'https://app.test/cb2']);
  });

  test('an unknown command exits 2, names it, and shows the commands', async () => {
    const r = await runCli(['frobnicate', '--now'], env);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown command: frobnicate/);
    assert.match(r.stderr, /user add/);
    assert.equal(r.stdout, '');
  });

  test('an unknown option exits 2 with the command usage', async () => {
    const r = await runCli(['user', 'add', '--usernme', 'typo'], env);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown option --usernme; did you mean --username\?/);
    assert.match(r.stderr, /usage: tessera user add/);
    assert.doesNotMatch(r.stderr, STACK_FRAME);
  });
});
