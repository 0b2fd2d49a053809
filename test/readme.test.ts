/**
 * The README, executed: its ```sh blocks run in order with bash, as a newcomer would type them, on a
 * fresh embedded data folder and free ports. Variables carry from block to block as in one terminal
 * (every block runs with `set -a -e -u`, so an unset variable or a failing command fails the block).
 * HTML comments before a block say what a person does around it:
 *   <!-- readme-test: background URL -->  runs it in the background (a second terminal) until URL answers 200;
 *                                          the `export` lines it prints are pasted into the shell
 *   <!-- readme-test: stop -->            first stops what runs in the background (Ctrl-C)
 *   <!-- readme-test: sign-in USER -->    first signs in through the demo app's page, as in a browser,
 *                                          and pastes the `export REFRESH_TOKEN=…` line the page shows
 *   <!-- readme-test: check NAME -->      checks the answer the README promises (CHECKS below)
 *   <!-- readme-test: skip (why) -->      not run (Docker, the test suite itself)
 * `npm install` is left out (node_modules exist) and so is `npm test` (this test is part of it).
 * On PostgreSQL (TEST_DATABASE_URL) too, this runs on the embedded database: the README's walkthrough does.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { childEnv, ROOT } from './support/processes.ts';
import { freePort } from './support/server.ts';
import { UserAgent } from './support/browserless.ts';

export type ReadmeBlock = { line: number; code: string; directives: string[] };

/** The README's sh/bash blocks in order, each with the readme-test directives written just before it. */
export function readmeBlocks(markdown: string): ReadmeBlock[] {
  const blocks: ReadmeBlock[] = [];
  const lines = markdown.split('\n');
  let directives: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const directive = /^<!-- readme-test: (.*?) -->$/.exec(line);
    if (directive) directives.push(directive[1]!);
    else if (/^```(sh|bash)\s*$/.test(line)) {
      const start = i + 1;
      while (i + 1 < lines.length && lines[i + 1] !== '```') i++;
      blocks.push({ line: start, code: lines.slice(start, i + 1).join('\n'), directives });
      i++;
      directives = [];
    } else if (line.startsWith('```')) {
      while (i + 1 < lines.length && lines[i + 1] !== '```') i++;
      i++;
      directives = [];
    } else if (line.trim() !== '') directives = [];
  }
  return blocks;
}

const PASSWORD = 'correct horse battery'; // alice's, as the README's walkthrough sets it
const jwtClaims = (jwt: unknown) => JSON.parse(Buffer.from(String(jwt).split('.')[1]!, 'base64url').toString('utf8')) as Record<string, any>;

/** The answers the README promises, by the name a `check` directive gives. */
const CHECKS: Record<string, (stdout: string) => void> = {
  // The refresh with organization=beta: the new ID token names beta, with alice's role there.
  switch(stdout) {
    const answer = JSON.parse(stdout) as Record<string, unknown>;
    assert.ok(answer.refresh_token, stdout);
    assert.deepEqual(Object.keys(jwtClaims(answer.id_token).organization), ['beta']);
    assert.deepEqual(jwtClaims(answer.id_token).organization.beta.roles, ['viewer']);
  },
  // The privileges PUT: stored, with a version to send back as If-Match.
  privileges(stdout) {
    const answer = JSON.parse(stdout) as Record<string, any>;
    assert.deepEqual(answer.profile, { role: 'editor' });
    assert.equal(answer.scope, 'docs:read docs:write');
    assert.ok(answer.version, stdout);
  },
  // Client credentials for the API: a JWT whose aud is the API.
  'api-token'(stdout) {
    const answer = JSON.parse(stdout) as Record<string, unknown>;
    assert.equal(jwtClaims(answer.access_token).aud, 'https://api.example.com');
  },
  // The token preview: bob's organization, roles and attribute, as the README says.
  admin(stdout) {
    const preview = stdout.trimEnd().split('\n').at(-1)!;
    assert.match(preview, /"globex"/);
    assert.match(preview, /"department":"R&D"/);
    assert.match(preview, /"roles":\["admin"\]/);
  },
};

type Background = { child: ChildProcess; output: { out: string; err: string }; code: string };

const work = mkdtempSync(path.join(os.tmpdir(), 'tessera-readme-'));
const running: Background[] = [];
after(async () => {
  await stopAll();
  rmSync(work, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function stopAll() {
  for (const bg of running.splice(0)) {
    if (bg.child.exitCode !== null || bg.child.signalCode !== null) continue;
    const exited = new Promise((r) => bg.child.once('exit', r));
    process.kill(-bg.child.pid!, 'SIGINT'); // Ctrl-C: the whole foreground process group
    if (!(await Promise.race([exited.then(() => true), sleep(30_000).then(() => false)]))) {
      process.kill(-bg.child.pid!, 'SIGKILL');
      await exited;
    }
  }
}

test('every shell block of the README runs as written, in order, and answers what the README says', { timeout: 20 * 60_000 }, async () => {
  const [port, demoPort] = [await freePort(), await freePort()];
  const envFile = path.join(work, 'shell.env');
  writeFileSync(envFile, '');
  const env = childEnv({ PORT: String(port), HOST: '127.0.0.1', DEMO_PORT: String(demoPort), TESSERA_DATA_DIR: path.join(work, 'data'), TESSERA_LOG_LEVEL: 'warn' });
  const local = (text: string) => text.replaceAll('localhost:3000', `localhost:${port}`).replaceAll('localhost:8080', `localhost:${demoPort}`);
  // Each block sees the variables and functions of the ones before, and leaves its own for the next.
  const script = (code: string, save: boolean) =>
    `set -a -e -u\n. "${envFile}"\n${code}\n` + (save ? `{ export -p; declare -f; } > "${envFile}.next" && mv "${envFile}.next" "${envFile}"\n` : '');

  const blocks = readmeBlocks(readFileSync(path.join(ROOT, 'README.md'), 'utf8'));
  assert.ok(blocks.length >= 10, 'the README has its shell blocks');
  let ran = 0;
  for (const block of blocks) {
    const where = `README.md line ${block.line}:\n${block.code}`;
    if (block.directives.some((d) => d.startsWith('skip'))) continue;
    const code = local(block.code.replace(/^npm install && /gm, '').replace(/^npm test\b.*$/gm, ''));
    if (block.directives.includes('stop')) await stopAll();
    const signIn = block.directives.find((d) => d.startsWith('sign-in '));
    if (signIn) appendFileSync(envFile, `\n${await signInThroughDemo(signIn.slice('sign-in '.length), `http://localhost:${demoPort}`, `http://localhost:${port}`)}\n`);

    const background = block.directives.find((d) => d.startsWith('background '));
    if (background) {
      const bg = start(script(code, false), env);
      running.push(bg);
      await waitFor(local(background.slice('background '.length)), bg, where);
      // What a person pastes from that terminal: the export lines it printed (the bootstrap admin client).
      const exports = bg.output.out.split('\n').filter((l) => /^export [A-Za-z_]\w*=\S+$/.test(l));
      if (exports.length) appendFileSync(envFile, `\n${exports.join('\n')}\n`);
    } else {
      const r = await run(script(code, true), env);
      assert.equal(r.code, 0, `${where}\nexited ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
      assert.doesNotMatch(r.stdout, /"status":\s*[45]\d\d|"error":\s*"/, `${where}\nan error answer: ${r.stdout}`);
      const check = block.directives.find((d) => d.startsWith('check '));
      if (check) {
        const name = check.slice('check '.length);
        assert.ok(CHECKS[name], `no check named ${name}`);
        try {
          CHECKS[name]!(r.stdout);
        } catch (err) {
          throw new Error(`${where}\ncheck ${name}: ${(err as Error).message}\nstdout: ${r.stdout}`);
        }
      }
    }
    ran++;
  }
  assert.ok(ran >= 10, `${ran} blocks ran`);
  // The first start printed the bootstrap admin client, and the README's snippets used it.
  assert.match(readFileSync(envFile, 'utf8'), /TESSERA_ADMIN_CLIENT_SECRET=/);
});

test('the extractor keeps directives with their block and ignores other fences', () => {
  const md = ['<!-- readme-test: stop -->', '```sh', 'a', '```', 'text', '<!-- readme-test: skip -->', '', '```json', '{}', '```', '```bash', 'b', 'c', '```'].join('\n');
  assert.deepEqual(readmeBlocks(md), [
    { line: 2, code: 'a', directives: ['stop'] },
    { line: 11, code: 'b\nc', directives: [] },
  ]);
});

function start(script: string, env: NodeJS.ProcessEnv): Background {
  // Its own process group, so a Ctrl-C (SIGINT to the group) reaches npm and what npm started.
  const child = spawn('bash', ['-c', script], { cwd: ROOT, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const output = { out: '', err: '' };
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (output.out += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (output.err += d));
  return { child, output, code: script };
}

function run(script: string, env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const bg = start(script, env);
  running.push(bg);
  return new Promise((resolve) => {
    const timer = setTimeout(() => process.kill(-bg.child.pid!, 'SIGKILL'), 5 * 60_000);
    bg.child.once('close', (code) => {
      clearTimeout(timer);
      running.splice(running.indexOf(bg), 1);
      resolve({ code, stdout: bg.output.out, stderr: bg.output.err });
    });
  });
}

/** Waits (bounded) until `url` answers 200; fails with the output if the process ends first. */
async function waitFor(url: string, bg: Background, where: string) {
  for (let i = 0; i < 600; i++) {
    if (bg.child.exitCode !== null) break;
    try {
      if ((await fetch(url, { signal: AbortSignal.timeout(2000) })).status === 200) return;
    } catch {
      // not listening yet
    }
    await sleep(250);
  }
  assert.fail(`${where}\n${url} did not answer 200\nstdout: ${bg.output.out}\nstderr: ${bg.output.err}`);
}

/** The person at the browser: sign in through the demo, pick Acme, allow; returns the line the page shows to paste. */
async function signInThroughDemo(username: string, demo: string, issuer: string): Promise<string> {
  const agent = new UserAgent();
  const login = await agent.request(`${demo}/login`);
  assert.equal(login.status, 302, 'the demo sends the browser to Tessera');
  let step = await agent.follow(login.headers.get('location')!, issuer);
  step = await agent.submit(step.url, step.body!, /\/login"/, { username, password: PASSWORD }, issuer);
  step = await agent.submit(step.url, step.body!, /\/organization"/, { organization: 'acme' }, issuer);
  if (step.body && /\/confirm"/.test(step.body)) step = await agent.submit(step.url, step.body, /\/confirm"/, {}, issuer);
  const page = (await agent.follow(step.url, demo)).body ?? '';
  const unescape = (s: string) => s.replace(/&#39;/g, "'").replace(/&quot;/g, '"').replace(/&amp;/g, '&');
  // What the README's walkthrough says the demo shows.
  assert.match(page, /id="organization">Organization: <strong>Acme \(acme\), as admin/, page);
  const idToken = JSON.parse(unescape(/id="id-token">([\s\S]*?)<\/pre>/.exec(page)![1]!));
  assert.equal(idToken.user_profile.role, 'editor');
  assert.ok(idToken['https://hasura.io/jwt/claims'], 'the Hasura claims');
  const line = unescape(/id="refresh-token">([^<]*)<\/pre>/.exec(page)?.[1] ?? '');
  assert.match(line, /^export REFRESH_TOKEN='[^']+'$/, page);
  return line;
}
