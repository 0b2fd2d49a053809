/**
 * `npm run demo`: the demo relying party signs a user in through Tessera (code + PKCE), shows the
 * organization claim, and switches organization with its button (a refresh with organization=<alias>).
 * Tessera and the demo run as child processes, as a person at a terminal starts them.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { isolatedTestEnv, freePort } from './support/server.ts';
import { childEnv, ROOT, runCli, startServerProcess, type ServerProcess } from './support/processes.ts';
import { UserAgent } from './support/browserless.ts';

let env: Record<string, string>;
let cleanup: () => Promise<void> = async () => {};
let server: ServerProcess | undefined;
let demo: ChildProcess | undefined;
let demoUrl = '';
let demoOutput = '';

async function cli(...args: string[]) {
  const r = await runCli(args, env);
  assert.equal(r.code, 0, `tessera ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

before(async () => {
  // A database of its own on PostgreSQL too: the walkthrough's names (alice, acme, beta) are fixed.
  ({ env, cleanup } = await isolatedTestEnv());
  await cli('user', 'add', '--username', 'alice', '--password', 'correct horse battery', '--email', 'alice@example.com', '--name', 'Alice');
  await cli('org', 'add', '--alias', 'acme', '--name', 'Acme');
  await cli('org', 'add', '--alias', 'beta', '--name', 'Beta');
  await cli('org', 'member', 'add', '--org', 'acme', '--user', 'alice', '--roles', 'admin');
  await cli('org', 'member', 'add', '--org', 'beta', '--user', 'alice', '--roles', 'viewer');
  await cli('privileges', 'set', '--user', 'alice', '--profile', '{"role":"editor"}', '--scope', 'docs:read docs:write');
  const port = await freePort();
  const exported = await cli('client', 'add', '--name', 'Demo app', '--redirect-uri', `http://localhost:${port}/callback`, '--scope', 'openid profile email offline_access organization privileges hasura', '--output', 'env');
  const vars = Object.fromEntries([...exported.matchAll(/^export (\w+)='([^']*)'$/gm)].map((m) => [m[1]!, m[2]!]));
  assert.deepEqual(Object.keys(vars), ['CLIENT_ID', 'CLIENT_SECRET']);
  server = await startServerProcess(env);
  // The demo listens where its redirect URI points; it finds the issuer as Tessera does (ISSUER, or PORT).
  const demoPort = port;
  demo = spawn(process.execPath, ['--import', 'tsx', 'demo/server.ts'], {
    cwd: ROOT,
    env: childEnv({ ...vars, ISSUER: env.ISSUER!, DEMO_PORT: String(demoPort) }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  demoUrl = `http://localhost:${demoPort}`;
  demo.stdout!.setEncoding('utf8').on('data', (d: string) => (demoOutput += d));
  demo.stderr!.setEncoding('utf8').on('data', (d: string) => (demoOutput += d));
  for (let i = 0; i < 300 && !demoOutput.includes('demo app on'); i++) await new Promise((r) => setTimeout(r, 100));
  assert.match(demoOutput, /demo app on/, demoOutput);
});

after(async () => {
  demo?.kill('SIGKILL');
  await server?.kill();
  await cleanup();
});

/** The text of the element with this id on the demo page. */
const element = (page: string, id: string) => new RegExp(`id="${id}"[^>]*>([\\s\\S]*?)</(?:p|pre)>`).exec(page)?.[1]?.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&');

test('signing in through the demo shows the organization in the ID token, access token and userinfo; the switch button changes it', async () => {
  const agent = new UserAgent();
  const issuer = env.ISSUER!;
  let page = await agent.follow(`${demoUrl}/`, demoUrl);
  assert.match(page.body!, /id="sign-in"/);

  // The demo sends the browser to Tessera: sign-in, organization and consent pages.
  const toTessera = await agent.request(`${demoUrl}/login`);
  assert.equal(toTessera.status, 302);
  const authUrl = new URL(toTessera.headers.get('location')!);
  assert.equal(authUrl.origin, new URL(issuer).origin);
  assert.equal(authUrl.searchParams.get('code_challenge_method'), 'S256');
  let step = await agent.follow(authUrl.href, issuer);
  step = await agent.submit(step.url, step.body!, /\/login"/, { username: 'alice', password: 'correct horse battery' }, issuer);
  step = await agent.submit(step.url, step.body!, /\/organization"/, { organization: 'acme' }, issuer);
  if (step.body && /\/confirm"/.test(step.body)) step = await agent.submit(step.url, step.body, /\/confirm"/, {}, issuer);
  assert.ok(step.url.startsWith(`${demoUrl}/callback?`), step.url);

  page = await agent.follow(step.url, demoUrl);
  assert.equal(page.res?.status, 200);
  const body = page.body!;
  assert.equal(element(body, 'error'), undefined, body);
  assert.match(element(body, 'organization')!, /Acme \(acme\), as admin/);
  const idToken = JSON.parse(element(body, 'id-token')!);
  assert.deepEqual(idToken.organization.acme.roles, ['admin']);
  assert.equal(idToken.user_profile.role, 'editor');
  assert.equal(idToken['https://hasura.io/jwt/claims']['x-hasura-default-role'], 'admin');
  const userinfo = JSON.parse(element(body, 'userinfo')!);
  assert.deepEqual(Object.keys(userinfo.organization), ['acme']);
  assert.equal(userinfo.user_scope, 'docs:read docs:write');
  assert.match(element(body, 'refresh-token')!, /^export REFRESH_TOKEN='[^']+'$/);

  // The switch button: a refresh with organization=beta.
  const switched = await agent.follow(`${demoUrl}/refresh`, demoUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'organization=beta',
  });
  assert.equal(element(switched.body!, 'error'), undefined, switched.body);
  assert.match(element(switched.body!, 'organization')!, /Beta \(beta\), as viewer/);
  assert.deepEqual(Object.keys(JSON.parse(element(switched.body!, 'id-token')!).organization), ['beta']);
  assert.deepEqual(Object.keys(JSON.parse(element(switched.body!, 'userinfo')!).organization), ['beta']);

  // The plain refresh button keeps the active organization.
  const refreshed = await agent.follow(`${demoUrl}/refresh`, demoUrl, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: '' });
  assert.match(element(refreshed.body!, 'organization')!, /Beta \(beta\)/);

  // An organization alice is not a member of: the page says why, and the tokens shown stay.
  const refused = await agent.follow(`${demoUrl}/refresh`, demoUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'organization=nowhere',
  });
  assert.match(element(refused.body!, 'error')!, /invalid_request|invalid_scope/);
  assert.match(element(refused.body!, 'organization')!, /Beta \(beta\)/);
});

test('without CLIENT_ID the demo stops with one line saying how to register it', async () => {
  const child = spawn(process.execPath, ['--import', 'tsx', 'demo/server.ts'], { cwd: ROOT, env: childEnv({}), stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  const code = await new Promise((resolve) => child.once('close', resolve));
  assert.equal(code, 2);
  assert.equal(err.trimEnd().split('\n').length, 1, err);
  assert.match(err, /CLIENT_ID is not set: .*tessera client add .*--output env/);
});
