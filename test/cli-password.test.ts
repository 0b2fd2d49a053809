/**
 * `tessera user password`: an operator who resets a password from the command line also ends what the
 * old password opened (sessions and refresh tokens), as the admin API does. And `user add` refuses a
 * username with invisible characters.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import { testEnv } from './support/server.ts';
import { authorizationRequest, relyingParty, REDIRECT_URI, unique } from './support/fixtures.ts';
import { signIn } from './support/browserless.ts';
import { cliJson, runCli, startServerProcess } from './support/processes.ts';

const PASSWORD = 'correct horse battery';

test('user password: the new password works, the old one does not, and the refresh token and session are ended', async () => {
  const { env, cleanup } = await testEnv();
  const username = unique('cli-reset');
  let server = undefined as Awaited<ReturnType<typeof startServerProcess>> | undefined;
  try {
    await cliJson(['user', 'add', '--username', username, '--password', PASSWORD], env);
    const app = await cliJson<{ client_id: string; client_secret: string }>(['client', 'add', '--name', 'Web', '--redirect-uri', REDIRECT_URI, '--scope', 'openid offline_access'], env);
    server = await startServerProcess(env);
    const config = await relyingParty(env.ISSUER!, app.client_id, app.client_secret);
    const req = await authorizationRequest(config, { scope: 'openid offline_access', prompt: 'consent' });
    const landed = await signIn(req.url, env.ISSUER!, username, PASSWORD);
    const tokens = await oidc.authorizationCodeGrant(config, new URL(landed.url), { pkceCodeVerifier: req.verifier, expectedState: req.state });
    assert.ok(tokens.refresh_token);
    // The embedded database belongs to one process: the operator stops the server for the CLI.
    await server.stop();
    server = undefined;

    const reset = await cliJson<{ revoked: number }>(['user', 'password', '--user', username, '--password-stdin'], env, { input: 'a brand new password\n' });
    assert.ok(reset.revoked > 0);

    server = await startServerProcess(env);
    await assert.rejects(oidc.refreshTokenGrant(config, tokens.refresh_token), { error: 'invalid_grant' });
    const silent = await authorizationRequest(config, { scope: 'openid', prompt: 'none' });
    const back = await landed.agent.follow(silent.url, env.ISSUER!);
    assert.equal(new URL(back.url).searchParams.get('error'), 'login_required');
    const again = await signIn((await authorizationRequest(config, { scope: 'openid' })).url, env.ISSUER!, username, 'a brand new password');
    assert.ok(new URL(again.url).searchParams.has('code'), 'the new password signs in');
    const old = await signIn((await authorizationRequest(config, { scope: 'openid' })).url, env.ISSUER!, username, PASSWORD);
    assert.equal(old.res?.status, 401, 'the old one does not');
  } finally {
    await server?.kill();
    cleanup();
  }
});

test('user add refuses a username with a zero-width space, saying why', async () => {
  const { env, cleanup } = await testEnv();
  try {
    const r = await runCli(['user', 'add', '--username', `victim\u200b${unique('x')}`, '--password', PASSWORD], env);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /invisible/);
  } finally {
    cleanup();
  }
});
