/**
 * Password reset by mail (issue 18): "Forgot your password?" sends a single-use link through SMTP
 * (an in-process smtp-server receives it here); setting the new password ends the user's sessions
 * and refresh tokens. The admin API and the CLI issue a link too.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import * as oidc from 'openid-client';
import { SMTPServer } from 'smtp-server';
import { startTestServer, type TestServer } from './support/server.ts';
import { aClient, aUser, authorizationRequest, relyingParty, unique, REDIRECT_URI } from './support/fixtures.ts';
import { signIn, UserAgent } from './support/browserless.ts';
import { adminApi } from './support/admin.ts';
import { runCli } from './support/processes.ts';

type Mail = { to: string; raw: string };
let server: TestServer;
let smtp: SMTPServer;
const mails: Mail[] = [];
let mailArrived: (() => void) | undefined;

before(async () => {
  smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    onData(stream, session, done) {
      let raw = '';
      stream.setEncoding('utf8');
      stream.on('data', (d: string) => (raw += d));
      stream.on('end', () => {
        mails.push({ to: session.envelope.rcptTo.map((r) => r.address).join(','), raw });
        mailArrived?.();
        done();
      });
    },
  });
  await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
  const { port } = smtp.server.address() as AddressInfo;
  server = await startTestServer({ TESSERA_SMTP_URL: `smtp://127.0.0.1:${port}`, TESSERA_MAIL_FROM: 'Tessera <id@example.test>' });
});
after(async () => {
  await server?.stop();
  await new Promise<void>((resolve) => smtp.close(() => resolve()));
});

const nextMail = () => new Promise<void>((resolve) => (mailArrived = resolve));
/** Resolves once `count` mails in all have arrived. */
const mailsUntil = (count: number) =>
  new Promise<void>((resolve) => {
    const check = () => (mails.length >= count ? resolve() : void (mailArrived = check));
    check();
  });
/** The link in a mail (quoted-printable soft line breaks undone). */
const linkIn = (raw: string) => raw.replace(/=\r?\n/g, '').replace(/=3D/g, '=').match(/https?:\/\/\S+\/reset\?token=[A-Za-z0-9_-]+/)![0];

test('forgotten password: the same answer for anyone, a single-use link by mail, sessions and refresh tokens ended', async () => {
  const user = await aUser(server.db, 'correct horse battery', { email: `${unique('reset')}@example.test` });
  const client = await aClient(server.db, { first_party: true, scope: 'openid offline_access' });
  const config = await relyingParty(server.issuer, client.client_id, client.client_secret);
  let req = await authorizationRequest(config, { scope: 'openid offline_access' });
  const before = await signIn(req.url, server.issuer, user.username, 'correct horse battery');
  const tokens = await oidc.authorizationCodeGrant(config, new URL(before.url), { pkceCodeVerifier: req.verifier, expectedState: req.state });
  assert.ok(tokens.refresh_token);

  // The sign-in page offers the link; the forgot page answers the same for a real and an unknown account.
  req = await authorizationRequest(config, { scope: 'openid' });
  const agent = new UserAgent();
  const login = await agent.follow(req.url, server.issuer);
  const forgotPath = login.body!.match(/href="(\/interaction\/[^"]+\/forgot)"/)![1]!;
  const forgot = await agent.follow(new URL(forgotPath, server.issuer).href, server.issuer);
  const arrived = nextMail();
  const known = await agent.submit(forgot.url, forgot.body!, /\/forgot"/, { name: user.email! }, server.issuer);
  const unknown = await agent.submit(forgot.url, forgot.body!, /\/forgot"/, { name: unique('nobody') }, server.issuer);
  assert.equal(known.res!.status, 200);
  assert.equal(unknown.res!.status, 200);
  assert.equal(known.body, unknown.body, 'the page says nothing about whether the account exists');
  assert.match(known.body!, /a link is on its way/);
  await arrived;
  assert.equal(mails.length, 1);
  assert.equal(mails[0]!.to, user.email);
  const link = linkIn(mails[0]!.raw);
  const token = new URL(link).searchParams.get('token')!;
  assert.ok(!server.logs.some((l) => l.includes(token)), 'the link is never logged');
  const stored = await server.db('password_resets').where({ user_id: user.id });
  assert.equal(stored.length, 1);
  assert.notEqual(stored[0].token_hash, token, 'only a hash is stored');

  // The link's page: mismatched or short passwords are refused and spend nothing.
  const page = await agent.follow(link, server.issuer);
  assert.equal(page.res!.status, 200);
  for (const [fields, status] of [[{ password: 'a new long password', confirm: 'another one' }, 400], [{ password: 'short', confirm: 'short' }, 400]] as const) {
    const r = await agent.submit(page.url, page.body!, /action="\/reset"/, fields, server.issuer);
    assert.equal(r.res!.status, status);
  }
  const done = await agent.submit(page.url, page.body!, /action="\/reset"/, { password: 'a new long password', confirm: 'a new long password' }, server.issuer);
  assert.equal(done.res!.status, 200);
  assert.match(done.body!, /Your password is changed/);
  // Used once: the link no longer works, for a post or a visit.
  assert.equal((await agent.submit(page.url, page.body!, /action="\/reset"/, { password: 'yet another password', confirm: 'yet another password' }, server.issuer)).res!.status, 410);
  assert.equal((await agent.follow(link, server.issuer)).res!.status, 410);

  // The refresh token from before is ended; the old password fails, the new one works.
  await assert.rejects(oidc.refreshTokenGrant(config, tokens.refresh_token!), (err: { error?: string }) => err.error === 'invalid_grant');
  req = await authorizationRequest(config, { scope: 'openid' });
  const old = await signIn(req.url, server.issuer, user.username, 'correct horse battery');
  assert.match(old.body ?? '', /Wrong username or password/);
  req = await authorizationRequest(config, { scope: 'openid' });
  const fresh = await signIn(req.url, server.issuer, user.username, 'a new long password');
  assert.equal(new URL(fresh.url).origin, new URL(REDIRECT_URI).origin);
});

test('admin API and CLI issue a reset link (without mail), audited; a bad token is refused', async () => {
  const { api } = await adminApi(server);
  const user = await aUser(server.db);
  const issued = await api('POST', `/users/${user.id}/password-reset`);
  assert.equal(issued.status, 201);
  assert.ok(new Date(issued.json.expires_at).getTime() > Date.now());
  assert.equal((await new UserAgent().follow(issued.json.url, server.issuer)).res!.status, 200);
  assert.ok(server.logs.some((l) => l.includes('"user.password_reset_link"') && l.includes(user.id)));
  assert.equal((await api('POST', `/users/${crypto.randomUUID()}/password-reset`)).status, 404);
  assert.equal((await new UserAgent().follow(`${server.issuer}/reset?token=not-a-token`, server.issuer)).res!.status, 410);

  const db = server.settings.database;
  const env: Record<string, string> = { ISSUER: server.issuer, ...('url' in db ? { DATABASE_URL: db.url } : { TESSERA_DATA_DIR: db.dataDir }) };
  const cli = await runCli(['user', 'reset-link', '--user', user.username], env);
  assert.equal(cli.code, 0, cli.stderr);
  const url = JSON.parse(cli.stdout).url as string;
  assert.ok(url.startsWith(`${server.issuer}/reset?token=`));
  assert.match(cli.stderr, /"action":"user.password_reset_link"/);
  assert.equal((await new UserAgent().follow(url, server.issuer)).res!.status, 200);
});

test('reset requests for one name are limited like sign-ins: past the limit no link is made, and the answer is the same', async () => {
  const user = await aUser(server.db, 'correct horse battery', { email: `${unique('flood')}@example.test` });
  const client = await aClient(server.db, { first_party: true });
  const config = await relyingParty(server.issuer, client.client_id, client.client_secret);
  const req = await authorizationRequest(config, { scope: 'openid' });
  const agent = new UserAgent();
  const login = await agent.follow(req.url, server.issuer);
  const forgot = await agent.follow(new URL(login.body!.match(/href="(\/interaction\/[^"]+\/forgot)"/)![1]!, server.issuer).href, server.issuer);
  const before = mails.length;
  const answers: string[] = [];
  // TESSERA_LOGIN_MAX_FAILURES is 5: five requests for this name get a link each.
  for (let i = 0; i < 5; i++) answers.push((await agent.submit(forgot.url, forgot.body!, /\/forgot"/, { name: user.username }, server.issuer)).body!);
  await mailsUntil(before + 5);
  const limited = await agent.submit(forgot.url, forgot.body!, /\/forgot"/, { name: user.username }, server.issuer);
  assert.equal(limited.res!.status, 200);
  assert.equal(limited.body, answers[0]);
  assert.ok(server.logs.some((l) => l.includes('password reset requests limited')));
  // The limited request scheduled nothing: the five links are all there is.
  assert.equal((await server.db('password_resets').where({ user_id: user.id })).length, 5);
});

test('email verification: an operator or the user asks for a link; confirming it sets email_verified, once, for that address only', async () => {
  const { api } = await adminApi(server);
  const user = await aUser(server.db, 'correct horse battery', { email: `${unique('verify')}@example.test`, email_verified: false });
  const verified = async () => (await server.db('users').where({ id: user.id }).first('email_verified')).email_verified as boolean;
  let arrived = mailsUntil(mails.length + 1);
  const sent = await api('POST', `/users/${user.id}/verify-email`);
  assert.equal(sent.status, 202);
  await arrived;
  const link = mails.at(-1)!.raw.replace(/=\r?\n/g, '').replace(/=3D/g, '=').match(/https?:\/\/\S+\/verify-email\?token=[A-Za-z0-9_-]+/)![0];
  assert.equal(mails.at(-1)!.to, user.email);
  assert.ok(server.logs.some((l) => l.includes('"user.verify_email"') && l.includes(user.id)));
  // Opening the link (a mail scanner does) changes nothing; its button does.
  const agent = new UserAgent();
  const page = await agent.follow(link, server.issuer);
  assert.equal(page.res!.status, 200);
  assert.equal(await verified(), false);
  const done = await agent.submit(page.url, page.body!, /action="\/verify-email"/, {}, server.issuer);
  assert.equal(done.res!.status, 200);
  assert.equal(await verified(), true);
  assert.equal((await agent.submit(page.url, page.body!, /action="\/verify-email"/, {}, server.issuer)).res!.status, 410, 'once');

  // From /account: the user asks for the link; the address changes before it is used, so it verifies nothing.
  await server.db('users').where({ id: user.id }).update({ email_verified: false });
  const client = await aClient(server.db, { first_party: true });
  const config = await relyingParty(server.issuer, client.client_id, client.client_secret);
  const req = await authorizationRequest(config, { scope: 'openid' });
  const signedIn = await signIn(req.url, server.issuer, user.username, 'correct horse battery');
  const account = await signedIn.agent.follow(`${server.issuer}/account`, server.issuer);
  assert.match(account.body!, /is not verified yet/);
  arrived = mailsUntil(mails.length + 1);
  const asked = await signedIn.agent.submit(account.url, account.body!, /\/account\/verify-email"/, {}, server.issuer);
  assert.match(asked.body!, /A link is on its way/);
  await arrived;
  const second = mails.at(-1)!.raw.replace(/=\r?\n/g, '').replace(/=3D/g, '=').match(/https?:\/\/\S+\/verify-email\?token=[A-Za-z0-9_-]+/)![0];
  const secondPage = await agent.follow(second, server.issuer);
  await server.db('users').where({ id: user.id }).update({ email: `${unique('moved')}@example.test` });
  assert.equal((await agent.submit(secondPage.url, secondPage.body!, /action="\/verify-email"/, {}, server.issuer)).res!.status, 410);
  assert.equal(await verified(), false);
});

test('a changed email address is not verified: the admin API and the CLI reset email_verified unless the change sets it', async () => {
  const { api } = await adminApi(server);
  const user = await aUser(server.db);
  const verified = () => server.db('users').where({ id: user.id }).first('email', 'email_verified');
  const address = () => `${unique('mail')}@example.test`;
  await server.db('users').where({ id: user.id }).update({ email: 'first@example.test', email_verified: true });

  // Another field, or the same address again, keeps the proof.
  assert.equal((await api('PATCH', `/users/${user.id}`, { body: { name: 'Renamed' } })).json.email_verified, true);
  assert.equal((await api('PATCH', `/users/${user.id}`, { body: { email: 'first@example.test' } })).json.email_verified, true);
  // A new address: false, in the answer and stored.
  const moved = address();
  const changed = await api('PATCH', `/users/${user.id}`, { body: { email: moved } });
  assert.equal(changed.status, 200);
  assert.equal(changed.json.email_verified, false);
  assert.deepEqual(await verified(), { email: moved, email_verified: false });
  // Set in the same request, it is what the request says.
  const vouched = address();
  assert.equal((await api('PATCH', `/users/${user.id}`, { body: { email: vouched, email_verified: true } })).json.email_verified, true);
  // A bad address is refused and changes nothing.
  assert.equal((await api('PATCH', `/users/${user.id}`, { body: { email: 'not an address' } })).status, 422);
  assert.deepEqual(await verified(), { email: vouched, email_verified: true });

  const db = server.settings.database;
  const env: Record<string, string> = 'url' in db ? { DATABASE_URL: db.url } : { TESSERA_DATA_DIR: db.dataDir };
  const byCli = address();
  const cli = await runCli(['user', 'email', '--user', user.username, '--email', byCli], env);
  assert.equal(cli.code, 0, cli.stderr);
  assert.equal(JSON.parse(cli.stdout).email_verified, false);
  assert.match(cli.stderr, /"action":"user.update"/);
  assert.deepEqual(await verified(), { email: byCli, email_verified: false });
  const bad = await runCli(['user', 'email', '--user', user.username, '--email', 'not an address'], env);
  assert.notEqual(bad.code, 0);
  assert.deepEqual(await verified(), { email: byCli, email_verified: false });
  const vouchedByCli = address();
  const cliVerified = await runCli(['user', 'email', '--user', user.username, '--email', vouchedByCli, '--email-verified'], env);
  assert.equal(cliVerified.code, 0, cliVerified.stderr);
  assert.deepEqual(await verified(), { email: vouchedByCli, email_verified: true });
});
