import type { Command } from './command.ts';
import { jsonOption, list, required, text, texts, UsageError, type Io } from './command.ts';
import { loadSettings } from '../config.ts';
import { hookUrlProblem } from '../hooks/address-policy.ts';
import { createLogger } from '../log.ts';
import { connectDatabase, type Database } from '../db/connect.ts';
import { migrateLatest } from '../db/migrate.ts';
import { createUser, updateUser, type HashPassword } from '../storage/users.ts';
import { createPasswords } from '../auth/passwords.ts';
import { createClient } from '../storage/clients.ts';
import { createOrganization, findMembership, findOrganization, putMembership } from '../storage/organizations.ts';
import { createResourceServer } from '../storage/resource-servers.ts';
import { ensureProviderSecrets, loadSigningKeys, removeSigningKey, rotateSigningKeys } from '../storage/keys.ts';
import { findUserForLogin, findUserById } from '../storage/users.ts';
import { NotFound } from '../errors.ts';
import { findPrivileges, putPrivileges } from '../storage/privileges.ts';
import { PrivilegesInput, profileBudgetProblem } from '../model/privileges.ts';
import { findProjectRoot } from '../project-root.ts';
import { listSigningKeys } from '../storage/keys.ts';
import { ApplicationType, GrantType, AuthMethod, MfaPolicy, type NewClient } from '../model/client.ts';
import type { NewResourceServer } from '../model/resource-server.ts';
import { envLines, outputOf, outputOption } from './output.ts';
import { SigningAlg } from '../model/signing-alg.ts';
import { listFactors, remainingRecoveryCodes, removeFactor, resetFactors } from '../signin/storage.ts';
import { issueResetLink } from '../signin/password-reset.ts';

/** A write made from the command line, audited as the admin API audits its own (one JSON line, on stderr). */
function cliAudit(io: Io, action: string, fields: Record<string, unknown>): void {
  createLogger('info', {}, (line) => io.err(line)).info('admin write', { actor: 'cli', action, ...fields });
}

const ALGS = SigningAlg.options;

/** Opens the configured database, brings the schema up to date, runs `fn`, and closes it. */
async function withDatabase<T>(io: Io, fn: (db: Database, hashPassword: HashPassword) => Promise<T>): Promise<T> {
  const settings = loadSettings();
  sayDataDir(settings.database, io);
  const db = connectDatabase(settings.database, { poolMax: 2, joinRunning: true });
  try {
    await migrateLatest(db);
    return await fn(db, createPasswords(settings.passwords).hash);
  } finally {
    await db.destroy();
  }
}

/**
 * From a sub-folder of the project the embedded database is still the project's (config.ts); say
 * which folder that is, so nobody wonders whether a second one was made here.
 */
function sayDataDir(database: { url: string } | { dataDir: string }, io: Io) {
  if ('dataDir' in database && findProjectRoot() !== process.cwd()) io.err(`using the embedded database in ${database.dataDir}`);
}

const json = (value: unknown) => JSON.stringify(value, null, 2);

async function resolveUser(db: Database, ref: string) {
  const user = (await findUserById(db, ref)) ?? (await findUserForLogin(db, ref));
  if (!user) throw new NotFound(`no user ${ref}`);
  return user;
}

export const commands: Command[] = [
  {
    path: ['start'],
    summary: 'run the provider (what `npm start` does)',
    usage: 'tessera start',
    options: {},
    async run() {
      // The provider (oidc-provider, Koa) is loaded only to run it: it is most of the CLI's start-up
      // cost, and every other command (and every --help) would pay it.
      const [{ startServer }, { letWorkerExitWhenStopped, superviseWorkers, supervises, workerLogFields }] = await Promise.all([import('../server.ts'), import('../cluster.ts')]);
      const settings = loadSettings();
      const log = createLogger(settings.logLevel, workerLogFields());
      // TESSERA_WORKERS > 1: this process forks and supervises; each worker runs the code below.
      if (supervises(settings)) return superviseWorkers(settings, log);
      letWorkerExitWhenStopped();
      const server = await startServer(settings, log);
      const failed = await new Promise<boolean>((resolve) => {
        const stop = (signal: string) => {
          log.info('shutting down', { signal, grace_s: settings.shutdownGraceS });
          server.close().then(
            () => resolve(false),
            (err: Error) => {
              log.error('shutdown failed', { err: err.message });
              resolve(true);
            },
          );
        };
        process.once('SIGTERM', () => stop('SIGTERM'));
        process.once('SIGINT', () => stop('SIGINT'));
      });
      log.info('stopped');
      // Everything is closed; should a stray handle still hold the event loop, do not hang on it.
      setTimeout(() => process.exit(process.exitCode ?? 0), 2000).unref();
      return failed ? 1 : 0;
    },
  },
  {
    path: ['migrate'],
    summary: 'apply database migrations and exit',
    usage: 'tessera migrate',
    options: {},
    async run(_v, _p, io) {
      const settings = loadSettings();
      const db = connectDatabase(settings.database, { poolMax: 2, joinRunning: true });
      try {
        const applied = await migrateLatest(db);
        io.out(applied.length ? `applied: ${applied.join(', ')}` : 'already up to date');
      } finally {
        await db.destroy();
      }
      return 0;
    },
  },
  {
    path: ['user', 'add'],
    summary: 'create a user',
    usage: 'tessera user add --username alice [--password-stdin | --password <p>] [--email a@example.com] [--name "Alice"] [--output json|env]',
    options: {
      username: { type: 'string', value: '<name>', required: true, description: 'the name the user signs in with' },
      password: { type: 'string', value: '<password>', description: 'their password (visible in the process list and shell history: prefer --password-stdin)' },
      'password-stdin': { type: 'boolean', description: 'read the password from standard input (one line)' },
      email: { type: 'string', value: '<address>', description: 'their email address (the email claim)' },
      'email-verified': { type: 'boolean', description: 'mark the email address as verified (email_verified: true)' },
      name: { type: 'string', value: '<text>', description: 'their full name (the name claim)' },
      'given-name': { type: 'string', value: '<text>', description: 'their given name (the given_name claim)' },
      'family-name': { type: 'string', value: '<text>', description: 'their family name (the family_name claim)' },
      'external-id': { type: 'string', value: '<id>', description: "their id in another system (unique), to find them by it" },
      disabled: { type: 'boolean', description: 'create the user unable to sign in until enabled' },
      ...outputOption,
    },
    async run(v, _p, io) {
      const username = required(v, 'username');
      const output = outputOf(v);
      const password = v['password-stdin'] ? (await readStdin()).replace(/\r?\n$/, '') : (v.password as string | undefined);
      const user = await withDatabase(io, (db, hashPassword) =>
        createUser(
          db,
          {
            username,
            password,
            email: v.email as string | undefined,
            email_verified: v['email-verified'] === true ? true : undefined,
            name: v.name as string | undefined,
            given_name: v['given-name'] as string | undefined,
            family_name: v['family-name'] as string | undefined,
            external_id: v['external-id'] as string | undefined,
            enabled: v.disabled ? false : undefined,
          },
          hashPassword,
        ),
      );
      io.out(output === 'env' ? envLines({ USER_ID: user.id }) : json(user));
      return 0;
    },
  },
  {
    path: ['user', 'password'],
    summary: "set a user's password; signs them out everywhere (sessions and refresh tokens)",
    usage: 'tessera user password --user <id or username> [--password-stdin | --password <p>]',
    options: {
      user: { type: 'string', value: '<username|id>', required: true, description: 'the user, by username or id' },
      password: { type: 'string', value: '<password>', description: 'the new password (visible in the process list and shell history: prefer --password-stdin)' },
      'password-stdin': { type: 'boolean', description: 'read the new password from standard input (one line)' },
    },
    async run(v, _p, io) {
      const ref = required(v, 'user');
      const password = v['password-stdin'] ? (await readStdin()).replace(/\r?\n$/, '') : required(v, 'password');
      const revoked = await withDatabase(io, async (db, hashPassword) => {
        const user = await resolveUser(db, ref);
        // Whoever knew the old password is signed out, as with the admin API, and Shared Signals
        // streams and back-channel logout URIs hear it (the rows wait in the outbox for a running server to deliver them).
        const hash = await hashPassword(password);
        // Back-channel logout tokens are recorded in the same transaction, from the sessions as they are deleted.
        const { signOutInTransaction } = await import('../oidc/backchannel-logout.ts');
        const { recordOnly, CREDENTIAL_CHANGE } = await import('../signals/index.ts');
        return db.transaction(async (trx) => {
          await updateUser(trx, user.id, { password }, async () => hash);
          await recordOnly.forGrants(trx, CREDENTIAL_CHANGE, [{ user_id: user.id, event: { credential_type: 'password', change_type: 'update', initiating_entity: 'admin' } }]);
          return (await signOutInTransaction(trx, recordOnly, user.id, 'password changed')).revoked;
        });
      });
      io.out(json({ revoked }));
      return 0;
    },
  },
  {
    path: ['user', 'email'],
    summary: "change a user's email address; it counts as not verified unless --email-verified says it is",
    usage: 'tessera user email --user <id or username> --email <address> [--email-verified]',
    options: {
      user: { type: 'string', value: '<username|id>', required: true, description: 'the user, by username or id' },
      email: { type: 'string', value: '<address>', required: true, description: 'the new email address' },
      'email-verified': { type: 'boolean', description: 'mark the new address as verified (without it, email_verified becomes false when the address changes)' },
    },
    async run(v, _p, io) {
      const [ref, email] = [required(v, 'user'), required(v, 'email')];
      const user = await withDatabase(io, async (db, hashPassword) => {
        const found = await resolveUser(db, ref);
        const patch = { email, ...(v['email-verified'] === true ? { email_verified: true } : {}) };
        const updated = (await updateUser(db, found.id, patch, hashPassword))!;
        cliAudit(io, 'user.update', { user_id: found.id, fields: Object.keys(patch) });
        return updated;
      });
      io.out(json({ id: user.id, username: user.username, email: user.email, email_verified: user.email_verified }));
      return 0;
    },
  },
  {
    path: ['user', 'factors', 'list'],
    summary: "list a user's second factors (never their secrets) and how many recovery codes are left",
    usage: 'tessera user factors list --user <id or username>',
    options: { user: { type: 'string', value: '<username|id>', required: true, description: 'the user, by username or id' } },
    async run(v, _p, io) {
      const ref = required(v, 'user');
      const answer = await withDatabase(io, async (db) => {
        const user = await resolveUser(db, ref);
        return { items: await listFactors(db, user.id), recovery_codes_left: await remainingRecoveryCodes(db, user.id) };
      });
      io.out(json(answer));
      return 0;
    },
  },
  {
    path: ['user', 'factors', 'remove'],
    summary: "remove one of a user's second factors",
    usage: 'tessera user factors remove --user <id or username> --factor <id>',
    options: {
      user: { type: 'string', value: '<username|id>', required: true, description: 'the user, by username or id' },
      factor: { type: 'string', value: '<id>', required: true, description: 'the factor, by the id `user factors list` shows' },
    },
    async run(v, _p, io) {
      const [ref, factor] = [required(v, 'user'), required(v, 'factor')];
      await withDatabase(io, async (db) => {
        const user = await resolveUser(db, ref);
        if (!(await removeFactor(db, user.id, factor))) throw new NotFound(`user ${user.username} has no factor ${factor}`);
        cliAudit(io, 'user.factor.remove', { user_id: user.id, factor_id: factor });
      });
      io.out(json({ removed: 1 }));
      return 0;
    },
  },
  {
    path: ['user', 'factors', 'reset'],
    summary: "remove all of a user's second factors and recovery codes (a lost phone); the next sign-in that needs one sets it up again",
    usage: 'tessera user factors reset --user <id or username>',
    options: { user: { type: 'string', value: '<username|id>', required: true, description: 'the user, by username or id' } },
    async run(v, _p, io) {
      const ref = required(v, 'user');
      const removed = await withDatabase(io, async (db) => {
        const user = await resolveUser(db, ref);
        const n = await resetFactors(db, user.id);
        cliAudit(io, 'user.factors.reset', { user_id: user.id, removed: n });
        return n;
      });
      io.out(json({ removed }));
      return 0;
    },
  },
  {
    path: ['user', 'reset-link'],
    summary: 'print a single-use link (15 minutes) that lets a user set a new password; hand it over yourself',
    usage: 'tessera user reset-link --user <id or username>',
    options: { user: { type: 'string', value: '<username|id>', required: true, description: 'the user, by username or id' } },
    async run(v, _p, io) {
      const ref = required(v, 'user');
      const link = await withDatabase(io, async (db) => {
        const user = await resolveUser(db, ref);
        const issued = await issueResetLink(db, user.id, loadSettings().issuer);
        cliAudit(io, 'user.password_reset_link', { user_id: user.id });
        return issued;
      });
      io.out(json(link));
      return 0;
    },
  },
  {
    path: ['client', 'add'],
    summary: 'register a client; prints its secret once',
    usage:
      'tessera client add --name "My app" --redirect-uri https://app.example/cb [--grant-types authorization_code,refresh_token] [--public] [--application-type web|native] ' +
      '[--allowed-origin https://spa.example] [--first-party] [--mfa optional|required] [--id-token-signed-response-alg ES256|RS256] [--userinfo-signed-response-alg ES256|RS256] [--introspection-signed-response-alg ES256|RS256] ' +
      '[--logo-uri https://app.example/logo.png] [--client-uri https://app.example] [--policy-uri <url>] [--tos-uri <url>] [--backchannel-logout-uri https://app.example/logout] [--output json|env]',
    options: {
      'client-id': { type: 'string', value: '<id>', description: 'the client_id to use (letters, digits and . _ ~ -, 3 to 128); generated when left out' },
      name: { type: 'string', value: '<text>', required: true, description: 'the application name users see on the consent page' },
      'redirect-uri': { type: 'string', value: '<url>', multiple: true, description: 'where the app receives the authorization answer' },
      'post-logout-redirect-uri': { type: 'string', value: '<url>', multiple: true, description: 'where users may be sent after signing out' },
      'grant-types': { type: 'string', value: '<list>', values: GrantType.options, separator: 'comma or space', description: 'the grants the client may use (default: authorization_code,refresh_token)' },
      'auth-method': { type: 'string', values: AuthMethod.options, description: 'how the client authenticates at the token endpoint (default: client_secret_basic)' },
      public: { type: 'boolean', description: 'a public client (browser or native app): no secret, PKCE only; same as --auth-method none' },
      scope: { type: 'string', value: '<scopes>', separator: 'space', description: 'the scopes the client may ask for (default: openid profile email offline_access)' },
      'default-resource': { type: 'string', value: '<url>', description: 'the resource server for tokens when the app names none; must be in --allowed-resources' },
      'allowed-resources': { type: 'string', value: '<list>', separator: 'comma or space', description: 'identifiers of registered resource servers the client may get tokens for' },
      'application-type': { type: 'string', values: ApplicationType.options, description: 'native allows private-use schemes and loopback redirects (inferred from the redirect URIs when left out)' },
      'allowed-origin': { type: 'string', value: '<origin>', multiple: true, description: "a browser origin (https://spa.example) allowed to call the token endpoints, beyond the redirect URIs' own" },
      'first-party': { type: 'boolean', description: 'your own app: no consent page, and offline_access granted when asked for' },
      mfa: { type: 'string', values: MfaPolicy.options, description: 'whether every sign-in to this app gives a second factor (users without one set it up then); default optional' },
      'id-token-signed-response-alg': { type: 'string', values: ALGS, description: 'how ID tokens for this client are signed (default: ES256)' },
      'userinfo-signed-response-alg': { type: 'string', values: ALGS, description: 'sign userinfo answers as a JWT (default: plain JSON)' },
      'introspection-signed-response-alg': { type: 'string', values: ALGS, description: 'sign introspection answers as a JWT (default: plain JSON)' },
      'payload-hook-url': { type: 'string', value: '<url>', description: "this client's own payload webhook (wins over the global hook); needs --payload-hook-secret" },
      'payload-hook-secret': { type: 'string', value: '<secret>', description: 'the secret that signs calls to --payload-hook-url (16 characters or more)' },
      'payload-hook-module': { type: 'string', value: '<path>', description: "this client's own payload hook module, such as hooks/mine.ts (relative to TESSERA_HOOKS_DIR)" },
      'payload-hook-failure': { type: 'string', values: ['closed', 'open'], description: 'when the hook fails: closed refuses the token, open issues it without hook claims (default: closed)' },
      'backchannel-logout-uri': { type: 'string', value: '<url>', description: 'where logout tokens are POSTed when a session of this client ends (OpenID Connect Back-Channel Logout)' },
      'backchannel-logout-without-sid': { type: 'boolean', description: 'logout tokens and ID tokens leave out sid (backchannel_logout_session_required false; by default they carry it)' },
      'logo-uri': { type: 'string', value: '<url>', description: "the application's logo, shown on the sign-in and consent pages (https; http only on loopback or localhost)" },
      'client-uri': { type: 'string', value: '<url>', description: "the application's home page, linked from its name on the pages (https; http only on loopback or localhost)" },
      'policy-uri': { type: 'string', value: '<url>', description: "the application's privacy policy, linked from the pages (https; http only on loopback or localhost)" },
      'tos-uri': { type: 'string', value: '<url>', description: "the application's terms of service, linked from the pages (https; http only on loopback or localhost)" },
      ...outputOption,
    },
    async run(v, _p, io) {
      const clientName = required(v, 'name');
      const output = outputOf(v);
      const payloadHook = v['payload-hook-module']
        ? { module: v['payload-hook-module'] as string, failure: v['payload-hook-failure'] as 'open' | 'closed' | undefined }
        : v['payload-hook-url']
          ? { url: v['payload-hook-url'] as string, secret: required(v, 'payload-hook-secret'), failure: v['payload-hook-failure'] as 'open' | 'closed' | undefined }
          : undefined;
      // The same rule as the admin API: public addresses, unless TESSERA_HOOK_ALLOWED_HOSTS lists the host.
      const hookProblem = payloadHook && 'url' in payloadHook ? hookUrlProblem(payloadHook.url!, loadSettings().hookAddressPolicy) : undefined;
      if (hookProblem) throw new UsageError(`--payload-hook-url ${hookProblem}`);
      const backchannelUri = text(v, 'backchannel-logout-uri');
      const backchannelProblem = backchannelUri ? hookUrlProblem(backchannelUri, loadSettings().hookAddressPolicy) : undefined;
      if (backchannelProblem) throw new UsageError(`--backchannel-logout-uri ${backchannelProblem}`);
      const method = v.public ? 'none' : ((v['auth-method'] as string | undefined) ?? undefined);
      const client = await withDatabase(io, (db) =>
        createClient(db, {
          client_id: v['client-id'] as string | undefined,
          client_name: clientName,
          redirect_uris: (v['redirect-uri'] as unknown as string[] | undefined) ?? [],
          post_logout_redirect_uris: (v['post-logout-redirect-uri'] as unknown as string[] | undefined) ?? [],
          grant_types: v['grant-types'] ? list(v['grant-types']).map((g) => GrantType.parse(g)) : undefined,
          token_endpoint_auth_method: method ? AuthMethod.parse(method) : undefined,
          scope: v.scope as string | undefined,
          default_resource: v['default-resource'] as string | undefined,
          allowed_resources: list(v['allowed-resources']),
          // Checked by the same schema as the admin API (model/client.ts).
          application_type: v['application-type'] as NewClient['application_type'],
          allowed_origins: (v['allowed-origin'] as unknown as string[] | undefined) ?? [],
          first_party: v['first-party'] as boolean | undefined,
          mfa: v.mfa as NewClient['mfa'],
          id_token_signed_response_alg: v['id-token-signed-response-alg'] as NewClient['id_token_signed_response_alg'],
          userinfo_signed_response_alg: v['userinfo-signed-response-alg'] as NewClient['userinfo_signed_response_alg'],
          introspection_signed_response_alg: v['introspection-signed-response-alg'] as NewClient['introspection_signed_response_alg'],
          payload_hook: payloadHook,
          backchannel_logout_uri: backchannelUri,
          backchannel_logout_session_required: v['backchannel-logout-without-sid'] ? false : undefined,
          logo_uri: v['logo-uri'] as string | undefined,
          client_uri: v['client-uri'] as string | undefined,
          policy_uri: v['policy-uri'] as string | undefined,
          tos_uri: v['tos-uri'] as string | undefined,
        }),
      );
      if (output === 'env') io.out(envLines({ CLIENT_ID: client.client_id, CLIENT_SECRET: client.client_secret }));
      else io.out(json({ ...client, payload_hook: client.payload_hook && 'secret' in client.payload_hook ? { ...client.payload_hook, secret: '[set]' } : client.payload_hook }));
      if (client.client_secret) io.err('The client_secret above is shown only now; store it safely.');
      return 0;
    },
  },
  {
    path: ['resource-server', 'add'],
    summary: 'register a resource server (an API that accepts access tokens for its identifier)',
    usage: 'tessera resource-server add --identifier https://api.example.com [--audience api] [--name "Orders API"] [--description "read your orders"] [--scopes "read write"] [--format jwt|opaque] [--signing-alg ES256|RS256] [--ttl 3600]',
    options: {
      identifier: { type: 'string', value: '<url>', required: true, description: 'the URL or URN apps name as resource= to get tokens for this API' },
      audience: { type: 'string', value: '<text>', description: 'the aud claim of its access tokens (default: the identifier)' },
      name: { type: 'string', value: '<text>', description: 'a name for people, shown on the consent page' },
      description: { type: 'string', value: '<text>', description: 'what its scopes give, in words, shown on the consent page after its name (default: the scope names)' },
      scopes: { type: 'string', value: '<list>', separator: 'comma or space', description: 'the scopes this API defines' },
      format: { type: 'string', values: ['jwt', 'opaque'], description: 'access token format: a signed JWT, or an opaque string checked by introspection (default: jwt)' },
      'signing-alg': { type: 'string', values: ALGS, description: 'how its JWT access tokens are signed (default: ES256)' },
      ttl: { type: 'string', value: '<seconds>', unit: 'seconds, 60 to 86400', description: 'access token lifetime (default: 3600)' },
    },
    async run(v, _p, io) {
      const identifier = required(v, 'identifier');
      const rs = await withDatabase(io, (db) =>
        createResourceServer(db, {
          identifier,
          audience: v.audience as string | undefined,
          name: v.name as string | undefined,
          description: v.description as string | undefined,
          scopes: list(v.scopes),
          access_token_format: v.format as 'jwt' | 'opaque' | undefined,
          signing_alg: v['signing-alg'] as NewResourceServer['signing_alg'],
          access_token_ttl: v.ttl === undefined ? undefined : Number(v.ttl),
        }),
      );
      io.out(json(rs));
      return 0;
    },
  },
  {
    path: ['org', 'add'],
    summary: 'create an organization',
    usage: 'tessera org add --alias acme --name "Acme" [--mfa optional|required]',
    options: {
      alias: { type: 'string', value: '<alias>', required: true, description: 'short name used in scopes and claims (organization:<alias>): lowercase letters, digits, _ and -, up to 63' },
      name: { type: 'string', value: '<text>', required: true, description: 'the display name' },
      mfa: { type: 'string', values: MfaPolicy.options, description: 'whether its members sign in with a second factor, to every app; default optional' },
    },
    async run(v, _p, io) {
      const input = { alias: required(v, 'alias'), name: required(v, 'name'), mfa: v.mfa as 'optional' | 'required' | undefined };
      const org = await withDatabase(io, (db) => createOrganization(db, input));
      io.out(json(org));
      return 0;
    },
  },
  {
    path: ['org', 'member', 'add'],
    summary: 'add a user to an organization, or change their roles or attributes (what is not given is kept)',
    usage: `tessera org member add --org acme --user alice --roles admin,editor [--attributes '{"department":"R&D"}']`,
    options: {
      org: { type: 'string', value: '<alias|id>', required: true, description: 'the organization, by alias or id' },
      user: { type: 'string', value: '<username|id>', required: true, description: 'the user, by username or id' },
      roles: { type: 'string', value: '<list>', separator: 'comma or space', description: "their roles in the organization, replacing the current ones (kept when left out; '' for none)" },
      attributes: { type: 'string', value: '<json>', description: 'membership attributes as a JSON object, replacing the current ones (kept when left out)' },
    },
    async run(v, _p, io) {
      const [orgRef, userRef] = [required(v, 'org'), required(v, 'user')];
      const attributes = jsonOption(v, 'attributes', `'{"department":"R&D"}'`);
      const saved = await withDatabase(io, async (db) => {
        const org = await findOrganization(db, orgRef);
        if (!org) throw new NotFound(`no organization ${orgRef}`);
        const user = await resolveUser(db, userRef);
        // Only what is given changes: adding a user again without --roles must not strip their roles.
        const current = await findMembership(db, org.id, user.id);
        return putMembership(db, org.id, user.id, {
          roles: v.roles === undefined ? (current?.roles ?? []) : list(v.roles),
          attributes: (attributes ?? current?.attributes ?? {}) as Record<string, unknown>,
        });
      });
      io.out(json(saved));
      return 0;
    },
  },
  {
    path: ['privileges', 'set'],
    summary: "write a user's stored privileges (what the admin API's PUT does); what is not given is kept",
    usage: `tessera privileges set --user alice [--profile '"editor"'] [--scope "docs:read docs:write"]`,
    options: {
      user: { type: 'string', value: '<username|id>', required: true, description: 'the user, by username or id' },
      profile: { type: 'string', value: '<json>', description: `the profile claim, any JSON value such as '"editor"' or '{"role":"editor"}' (kept when left out; 'null' to clear)` },
      scope: { type: 'string', value: '<scopes>', separator: 'space', description: "the user_scope claim: scope tokens (kept when left out; '' to clear)" },
    },
    async run(v, _p, io) {
      const userRef = required(v, 'user');
      if (v.profile === undefined && v.scope === undefined) throw new UsageError('give --profile, --scope or both (what is left out is kept)');
      const profile = jsonOption(v, 'profile', `'"editor"' or '{"role":"editor"}'`);
      // Extra spaces are forgiven; the tokens are then checked as the admin API checks them.
      const scope = text(v, 'scope')?.trim().split(/\s+/).filter(Boolean).join(' ');
      const overBudget = profile === undefined ? undefined : profileBudgetProblem(profile, loadSettings().maxProfileBytes);
      if (overBudget) throw new UsageError(`--profile ${overBudget}`);
      const saved = await withDatabase(io, async (db) => {
        const user = await resolveUser(db, userRef);
        const current = await findPrivileges(db, user.id);
        const input = PrivilegesInput.parse({ profile: v.profile === undefined ? (current?.profile ?? null) : profile, scope: scope ?? current?.scope ?? '' });
        return putPrivileges(db, user.id, { profile: input.profile, scope: input.scope });
      });
      io.out(json(saved));
      return 0;
    },
  },
  {
    path: ['keys', 'rotate'],
    summary: 'add a new signing key of each algorithm; old keys keep verifying until removed',
    usage: 'tessera keys rotate',
    options: {},
    async run(_v, _p, io) {
      const kids = await withDatabase(io, async (db) => {
        await ensureProviderSecrets(db);
        return rotateSigningKeys(db);
      });
      io.out(json({ added: kids }));
      io.err('Running instances sign with the new keys within TESSERA_KEYS_REFRESH_S (60 s by default), no restart needed.');
      return 0;
    },
  },
  {
    path: ['keys', 'list'],
    summary: 'list signing keys (public parts), newest first: when each was created and whether it signs',
    usage: 'tessera keys list',
    options: {},
    async run(_v, _p, io) {
      const keys = await withDatabase(io, async (db) => {
        await ensureProviderSecrets(db);
        return listSigningKeys(db);
      });
      io.out(json(keys));
      return 0;
    },
  },
  {
    path: ['keys', 'remove'],
    summary: 'remove a signing key; tokens it signed stop verifying',
    usage: 'tessera keys remove <kid>',
    options: {},
    async run(_v, positionals, io) {
      const kid = positionals[0];
      if (!kid) throw new UsageError('name the kid to remove');
      const removed = await withDatabase(io, (db) => removeSigningKey(db, kid));
      if (!removed) throw new NotFound(`no key ${kid}`);
      io.out(json({ removed: kid }));
      return 0;
    },
  },
];

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
