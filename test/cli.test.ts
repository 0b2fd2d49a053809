/**
 * The CLI as a person at a terminal uses it: `node bin/tessera.js ...` in a child process, judged by
 * its exit code and what it prints. Commands that touch the database run one at a time (PGlite
 * allows one process per data folder).
 */
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import { testEnv } from './support/server.ts';
import { authorizationRequest, relyingParty, REDIRECT_URI, unique } from './support/fixtures.ts';
import { signIn } from './support/browserless.ts';
import { cliJson, runCli, startServerProcess, type ServerProcess } from './support/processes.ts';

const STACK_FRAME = /^\s+at\s/m;

let env: Record<string, string>;
let cleanup = () => {};
const servers: ServerProcess[] = [];

before(async () => {
  ({ env, cleanup } = await testEnv());
  // Pays for creating the embedded database once, outside the tests' own timings.
  const migrated = await runCli(['migrate'], env);
  assert.equal(migrated.code, 0, migrated.stderr);
  assert.match(migrated.stdout, /applied: |already up to date/);
});

after(async () => {
  await Promise.all(servers.map((s) => s.kill()));
  cleanup();
});

describe('user add', () => {
  test('without --username: exit 2, "--username is required"', async () => {
    const r = await runCli(['user', 'add', '--password', 'long enough password'], env);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--username is required/);
    assert.match(r.stderr, /usage: tessera user add/);
    assert.equal(r.stdout, '');
  });

  test('a duplicate username: exit 1 with one clear line, no stack trace', async () => {
    const username = unique('dup');
    const first = await runCli(['user', 'add', '--username', username, '--password', 'long enough password'], env);
    assert.equal(first.code, 0, first.stderr);
    const second = await runCli(['user', 'add', '--username', username, '--password', 'another password'], env);
    assert.equal(second.code, 1);
    assert.match(second.stderr, /already exists/);
    assert.doesNotMatch(second.stderr, STACK_FRAME, 'no stack trace');
    assert.doesNotMatch(second.stderr, /\b\w*Error\b/, 'no error class names');
    assert.equal(second.stdout, '');
  });

  test('--password-stdin: the password comes from stdin, and the output never shows it or a hash', async () => {
    const password = 'piped-in passphrase 42';
    const username = unique('stdin');

    // As `echo "$PASSWORD" | tessera user add ...` sends it: with a trailing newline.
    const r = await runCli(['user', 'add', '--username', username, '--password-stdin', '--email', 'stdin@example.com'], env, { input: `${password}\n` });
    assert.equal(r.code, 0, r.stderr);
    const user = JSON.parse(r.stdout) as Record<string, unknown>;
    assert.equal(user.username, username);
    assert.ok(!r.stdout.includes(password) && !r.stderr.includes(password), 'the password is not echoed');
    assert.ok(!r.stdout.includes('passphrase'), 'not even part of it');
    assert.doesNotMatch(r.stdout, /password|hash|scrypt/i, 'no password field and no hash');

    // And it is the password: the user signs in with it (the newline was not part of it).
    const client = await cliJson<{ client_id: string; client_secret: string }>(['client', 'add', '--name', 'Stdin check', '--redirect-uri', REDIRECT_URI], env);
    const server = await startServerProcess(env);
    servers.push(server);
    try {
      const config = await relyingParty(server.issuer, client.client_id, client.client_secret);
      const req = await authorizationRequest(config, { scope: 'openid' });
      const landed = await signIn(req.url, server.issuer, username, password);
      assert.ok(landed.url.startsWith(REDIRECT_URI), `signed in with the piped password, got ${landed.url}`);
      const tokens = await oidc.authorizationCodeGrant(config, new URL(landed.url), { pkceCodeVerifier: req.verifier, expectedState: req.state });
      assert.equal(tokens.claims()!.sub, user.id);
    } finally {
      await server.stop();
    }
  });
});

describe('organizations', () => {
  test('org add, then org member add --roles admin,editor prints the two roles', async () => {
    const username = unique('member');
    const user = await cliJson<{ id: string }>(['user', 'add', '--username', username, '--password', 'long enough password'], env);
    const alias = unique('acme').toLowerCase();
    const org = await cliJson<{ id: string; alias: string; name: string }>(['org', 'add', '--alias', alias, '--name', 'Acme Corp'], env);
    assert.equal(org.alias, alias);
    assert.equal(org.name, 'Acme Corp');

    const membership = await cliJson<{ organization_id: string; user_id: string; roles: string[] }>(
      ['org', 'member', 'add', '--org', alias, '--user', username, '--roles', 'admin,editor'],
      env,
    );
    assert.deepEqual(membership.roles, ['admin', 'editor']);
    assert.equal(membership.organization_id, org.id);
    assert.equal(membership.user_id, user.id);
  });

  test('org member add without --roles keeps the roles and attributes; --attributes sets them; --roles alone keeps the attributes', async () => {
    const username = unique('keep');
    await cliJson(['user', 'add', '--username', username, '--password', 'long enough password'], env);
    const alias = unique('keep').toLowerCase();
    await cliJson(['org', 'add', '--alias', alias, '--name', 'Keep'], env);
    const member = (extra: string[]) => cliJson<{ roles: string[]; attributes: Record<string, unknown> }>(['org', 'member', 'add', '--org', alias, '--user', username, ...extra], env);
    assert.deepEqual(await member(['--roles', 'admin,editor', '--attributes', '{"department":"R&D"}']), { ...(await member([])), roles: ['admin', 'editor'], attributes: { department: 'R&D' } });
    const again = await member([]);
    assert.deepEqual([again.roles, again.attributes], [['admin', 'editor'], { department: 'R&D' }], 'adding again without --roles changes nothing');
    const viewer = await member(['--roles', 'viewer']);
    assert.deepEqual([viewer.roles, viewer.attributes], [['viewer'], { department: 'R&D' }]);
    const bad = await runCli(['org', 'member', 'add', '--org', alias, '--user', username, '--attributes', '{department: R&D}'], env);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--attributes must be JSON/);
    const notObject = await runCli(['org', 'member', 'add', '--org', alias, '--user', username, '--attributes', '["R&D"]'], env);
    assert.equal(notObject.code, 2);
    assert.match(notObject.stderr, /attributes: /);
  });

  test('org member add for an organization that does not exist: exit 1, says so', async () => {
    const r = await runCli(['org', 'member', 'add', '--org', 'no-such-org-here', '--user', 'nobody', '--roles', 'admin'], env);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /no organization no-such-org-here/);
    assert.doesNotMatch(r.stderr, STACK_FRAME);
  });
});

describe('privileges set', () => {
  test('without --profile and --scope it refuses; with one of them it keeps the other', async () => {
    const username = unique('priv');
    await cliJson(['user', 'add', '--username', username, '--password', 'long enough password'], env);
    await cliJson(['privileges', 'set', '--user', username, '--profile', '{"role":"editor"}', '--scope', 'docs:read docs:write'], env);
    const none = await runCli(['privileges', 'set', '--user', username], env);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /give --profile, --scope or both/);
    const scoped = await cliJson<{ profile: unknown; scope: string }>(['privileges', 'set', '--user', username, '--scope', 'docs:read'], env);
    assert.deepEqual([scoped.profile, scoped.scope], [{ role: 'editor' }, 'docs:read']);
    const profiled = await cliJson<{ profile: unknown; scope: string }>(['privileges', 'set', '--user', username, '--profile', '"viewer"'], env);
    assert.deepEqual([profiled.profile, profiled.scope], ['viewer', 'docs:read']);
  });

  test('--scope is checked as the admin API checks it (scope tokens only)', async () => {
    const username = unique('privbad');
    await cliJson(['user', 'add', '--username', username, '--password', 'long enough password'], env);
    const r = await runCli(['privileges', 'set', '--user', username, '--scope', 'docs:read "quoted"'], env);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /scope: space-separated scope tokens/);
    assert.equal(r.stdout, '');
  });
});

describe('resource-server add', () => {
  test('--identifier not-a-url: exit 2 with a validation message', async () => {
    const r = await runCli(['resource-server', 'add', '--identifier', 'not-a-url'], env);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /invalid input/);
    assert.match(r.stderr, /identifier: .*URL/i);
    assert.doesNotMatch(r.stderr, STACK_FRAME);
    assert.equal(r.stdout, '');
  });

  test('--audience takes a plain name, --signing-alg RS256', async () => {
    const audience = unique('openfga');
    const r = await runCli(['resource-server', 'add', '--identifier', `urn:${audience}`, '--audience', audience, '--signing-alg', 'RS256', '--scopes', 'check'], env);
    assert.equal(r.code, 0, r.stderr);
    const rs = JSON.parse(r.stdout);
    assert.equal(rs.audience, audience);
    assert.equal(rs.signing_alg, 'RS256');
  });
});

describe('client add', () => {
  test('--public: client_secret is null, and there is no secret to warn about', async () => {
    const r = await runCli(['client', 'add', '--name', 'SPA', '--redirect-uri', REDIRECT_URI, '--public'], env);
    assert.equal(r.code, 0, r.stderr);
    const client = JSON.parse(r.stdout) as Record<string, unknown>;
    assert.equal(client.client_secret, null);
    assert.equal(client.token_endpoint_auth_method, 'none');
    assert.deepEqual(client.redirect_uris, [REDIRECT_URI]);
    assert.doesNotMatch(r.stderr, /secret/i);
  });

  test('the admin API rules hold here too: an unknown scope or a javascript: redirect is refused, naming the field', async () => {
    const scope = await runCli(['client', 'add', '--name', 'App', '--redirect-uri', REDIRECT_URI, '--scope', 'openid read'], env);
    assert.equal(scope.code, 2);
    assert.match(scope.stderr, /scope: read is neither/);
    const redirect = await runCli(['client', 'add', '--name', 'App', '--redirect-uri', 'javascript:alert(1)'], env);
    assert.equal(redirect.code, 2);
    assert.match(redirect.stderr, /redirect_uris\.0: the javascript scheme is not allowed/);
    assert.equal(scope.stdout + redirect.stdout, '');
  });

  test('a native app, an RS256 web app with an extra CORS origin, a first-party app', async () => {
    const native = await runCli(['client', 'add', '--name', 'Phone', '--redirect-uri', 'com.example.phone:/cb', '--public'], env);
    assert.equal(native.code, 0, native.stderr);
    assert.equal(JSON.parse(native.stdout).application_type, 'native');
    const web = await runCli(['client', 'add', '--name', 'Web', '--redirect-uri', REDIRECT_URI, '--id-token-signed-response-alg', 'RS256', '--allowed-origin', 'https://spa.example.test', '--first-party'], env);
    assert.equal(web.code, 0, web.stderr);
    const client = JSON.parse(web.stdout);
    assert.equal(client.id_token_signed_response_alg, 'RS256');
    assert.deepEqual(client.allowed_origins, ['https://spa.example.test']);
    assert.equal(client.first_party, true);
    const ps = await runCli(['client', 'add', '--name', 'Web', '--redirect-uri', REDIRECT_URI, '--id-token-signed-response-alg', 'PS256'], env);
    assert.equal(ps.code, 2);
    assert.match(ps.stderr, /id_token_signed_response_alg/);
  });

  test('--backchannel-logout-uri registers back-channel logout (sid by default); a non-public address is refused', async () => {
    const on = await runCli(['client', 'add', '--name', 'RP', '--redirect-uri', REDIRECT_URI, '--backchannel-logout-uri', 'http://127.0.0.1:9/logout'], env);
    assert.equal(on.code, 0, on.stderr);
    assert.equal(JSON.parse(on.stdout).backchannel_logout_uri, 'http://127.0.0.1:9/logout');
    assert.equal(JSON.parse(on.stdout).backchannel_logout_session_required, true);
    const noSid = await runCli(['client', 'add', '--name', 'RP', '--redirect-uri', REDIRECT_URI, '--backchannel-logout-uri', 'http://127.0.0.1:9/logout', '--backchannel-logout-without-sid'], env);
    assert.equal(noSid.code, 0, noSid.stderr);
    assert.equal(JSON.parse(noSid.stdout).backchannel_logout_session_required, false);
    const refused = await runCli(['client', 'add', '--name', 'RP', '--redirect-uri', REDIRECT_URI, '--backchannel-logout-uri', 'http://10.0.0.1/logout'], env);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /--backchannel-logout-uri points to 10\.0\.0\.1/);
  });

  test('--allowed-resources is checked as the admin API checks it: URLs of registered resource servers', async () => {
    const notUrl = await runCli(['client', 'add', '--name', 'App', '--grant-types', 'client_credentials', '--allowed-resources', 'not-a-url'], env);
    assert.equal(notUrl.code, 2);
    assert.match(notUrl.stderr, /allowed_resources\.0/);
    const unknown = await runCli(['client', 'add', '--name', 'App', '--grant-types', 'client_credentials', '--allowed-resources', 'https://unregistered.example.test/api'], env);
    assert.notEqual(unknown.code, 0);
    assert.match(unknown.stderr, /unregistered\.example\.test/);
    assert.doesNotMatch(notUrl.stderr + unknown.stderr, STACK_FRAME);
  });

  test('confidential: prints a secret and warns on stderr that it is shown once', async () => {
    const r = await runCli(['client', 'add', '--name', 'Web app', '--redirect-uri', REDIRECT_URI], env);
    assert.equal(r.code, 0, r.stderr);
    const client = JSON.parse(r.stdout) as Record<string, unknown>;
    assert.equal(typeof client.client_secret, 'string');
    assert.ok((client.client_secret as string).length >= 32, 'a long secret');
    assert.equal(typeof client.client_id, 'string');
    assert.match(r.stderr, /client_secret.*shown only now/);
    assert.ok(!r.stderr.includes(client.client_secret as string), 'the warning does not repeat the secret');
  });
});
