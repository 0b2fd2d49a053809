import type { Command } from './command.ts';
import { list, required, UsageError } from './command.ts';
import { loadSettings } from '../config.ts';
import { hookUrlProblem } from '../hooks/address-policy.ts';
import { createLogger } from '../log.ts';
import { connectDatabase, type Database } from '../db/connect.ts';
import { migrateLatest } from '../db/migrate.ts';
import { createUser, updateUser, type HashPassword } from '../storage/users.ts';
import { revokeAccount } from '../storage/oidc-adapter.ts';
import { createPasswords } from '../auth/passwords.ts';
import { createClient } from '../storage/clients.ts';
import { createOrganization, findOrganization, putMembership } from '../storage/organizations.ts';
import { createResourceServer } from '../storage/resource-servers.ts';
import { ensureProviderSecrets, loadSigningKeys, removeSigningKey, rotateSigningKeys } from '../storage/keys.ts';
import { findUserForLogin, findUserById } from '../storage/users.ts';
import { startServer } from '../server.ts';
import { letWorkerExitWhenStopped, superviseWorkers, supervises, workerLogFields } from '../cluster.ts';
import { NotFound } from '../errors.ts';
import { putPrivileges } from '../storage/privileges.ts';
import { profileBudgetProblem } from '../model/privileges.ts';
import { GrantType, AuthMethod, type NewClient } from '../model/client.ts';
import type { NewResourceServer } from '../model/resource-server.ts';
import { envLines, outputOf, outputOption } from './output.ts';

/** Opens the configured database, brings the schema up to date, runs `fn`, and closes it. */
async function withDatabase<T>(fn: (db: Database, hashPassword: HashPassword) => Promise<T>): Promise<T> {
  const settings = loadSettings();
  const db = connectDatabase(settings.database, { poolMax: 2 });
  try {
    await migrateLatest(db);
    return await fn(db, createPasswords(settings.passwords).hash);
  } finally {
    await db.destroy();
  }
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
      const db = connectDatabase(settings.database, { poolMax: 2 });
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
      username: { type: 'string' },
      password: { type: 'string' },
      'password-stdin': { type: 'boolean' },
      email: { type: 'string' },
      'email-verified': { type: 'boolean' },
      name: { type: 'string' },
      'given-name': { type: 'string' },
      'family-name': { type: 'string' },
      'external-id': { type: 'string' },
      disabled: { type: 'boolean' },
      ...outputOption,
    },
    async run(v, _p, io) {
      const username = required(v, 'username');
      const output = outputOf(v);
      const password = v['password-stdin'] ? (await readStdin()).replace(/\r?\n$/, '') : (v.password as string | undefined);
      const user = await withDatabase((db, hashPassword) =>
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
      user: { type: 'string' },
      password: { type: 'string' },
      'password-stdin': { type: 'boolean' },
    },
    async run(v, _p, io) {
      const ref = required(v, 'user');
      const password = v['password-stdin'] ? (await readStdin()).replace(/\r?\n$/, '') : required(v, 'password');
      const revoked = await withDatabase(async (db, hashPassword) => {
        const user = await resolveUser(db, ref);
        await updateUser(db, user.id, { password }, hashPassword);
        // Whoever knew the old password is signed out, as with the admin API.
        return revokeAccount(db, user.id);
      });
      io.out(json({ revoked }));
      return 0;
    },
  },
  {
    path: ['client', 'add'],
    summary: 'register a client; prints its secret once',
    usage:
      'tessera client add --name "My app" --redirect-uri https://app.example/cb [--grant-types authorization_code,refresh_token] [--public] [--application-type web|native] ' +
      '[--allowed-origin https://spa.example] [--first-party] [--id-token-signed-response-alg ES256|RS256] [--userinfo-signed-response-alg ES256|RS256] [--introspection-signed-response-alg ES256|RS256] [--output json|env]',
    options: {
      'client-id': { type: 'string' },
      name: { type: 'string' },
      'redirect-uri': { type: 'string', multiple: true },
      'post-logout-redirect-uri': { type: 'string', multiple: true },
      'grant-types': { type: 'string' },
      'auth-method': { type: 'string' },
      public: { type: 'boolean' },
      scope: { type: 'string' },
      'default-resource': { type: 'string' },
      'allowed-resources': { type: 'string' },
      'application-type': { type: 'string' },
      'allowed-origin': { type: 'string', multiple: true },
      'first-party': { type: 'boolean' },
      'id-token-signed-response-alg': { type: 'string' },
      'userinfo-signed-response-alg': { type: 'string' },
      'introspection-signed-response-alg': { type: 'string' },
      'payload-hook-url': { type: 'string' },
      'payload-hook-secret': { type: 'string' },
      'payload-hook-module': { type: 'string' },
      'payload-hook-failure': { type: 'string' },
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
      const method = v.public ? 'none' : ((v['auth-method'] as string | undefined) ?? undefined);
      const client = await withDatabase((db) =>
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
          id_token_signed_response_alg: v['id-token-signed-response-alg'] as NewClient['id_token_signed_response_alg'],
          userinfo_signed_response_alg: v['userinfo-signed-response-alg'] as NewClient['userinfo_signed_response_alg'],
          introspection_signed_response_alg: v['introspection-signed-response-alg'] as NewClient['introspection_signed_response_alg'],
          payload_hook: payloadHook,
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
    usage: 'tessera resource-server add --identifier https://api.example.com [--audience api] [--scopes "read write"] [--format jwt|opaque] [--signing-alg ES256|RS256] [--ttl 3600]',
    options: { identifier: { type: 'string' }, audience: { type: 'string' }, name: { type: 'string' }, scopes: { type: 'string' }, format: { type: 'string' }, 'signing-alg': { type: 'string' }, ttl: { type: 'string' } },
    async run(v, _p, io) {
      const identifier = required(v, 'identifier');
      const rs = await withDatabase((db) =>
        createResourceServer(db, {
          identifier,
          audience: v.audience as string | undefined,
          name: v.name as string | undefined,
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
    usage: 'tessera org add --alias acme --name "Acme"',
    options: { alias: { type: 'string' }, name: { type: 'string' } },
    async run(v, _p, io) {
      const input = { alias: required(v, 'alias'), name: required(v, 'name') };
      const org = await withDatabase((db) => createOrganization(db, input));
      io.out(json(org));
      return 0;
    },
  },
  {
    path: ['org', 'member', 'add'],
    summary: 'add a user to an organization (or change their roles)',
    usage: 'tessera org member add --org acme --user alice --roles admin,editor',
    options: { org: { type: 'string' }, user: { type: 'string' }, roles: { type: 'string' } },
    async run(v, _p, io) {
      const [orgRef, userRef] = [required(v, 'org'), required(v, 'user')];
      const saved = await withDatabase(async (db) => {
        const org = await findOrganization(db, orgRef);
        if (!org) throw new NotFound(`no organization ${orgRef}`);
        const user = await resolveUser(db, userRef);
        return putMembership(db, org.id, user.id, { roles: list(v.roles) });
      });
      io.out(json(saved));
      return 0;
    },
  },
  {
    path: ['privileges', 'set'],
    summary: "write a user's stored privileges (what the admin API's PUT does)",
    usage: `tessera privileges set --user alice --profile '"editor"' --scope "docs:read docs:write"`,
    options: { user: { type: 'string' }, profile: { type: 'string' }, scope: { type: 'string' } },
    async run(v, _p, io) {
      const userRef = required(v, 'user');
      let profile: unknown = null;
      if (typeof v.profile === 'string') {
        try {
          profile = JSON.parse(v.profile);
        } catch {
          throw new UsageError('--profile must be JSON, such as \'"editor"\' or \'{"role":"editor"}\'');
        }
      }
      const overBudget = profileBudgetProblem(profile, loadSettings().maxProfileBytes);
      if (overBudget) throw new UsageError(`--profile ${overBudget}`);
      const saved = await withDatabase(async (db) => putPrivileges(db, (await resolveUser(db, userRef)).id, { profile, scope: (v.scope as string | undefined) ?? '' }));
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
      const kids = await withDatabase(async (db) => {
        await ensureProviderSecrets(db);
        return rotateSigningKeys(db);
      });
      io.out(json({ added: kids }));
      // The embedded database is one process's: no server runs beside this command, so none picks the keys up.
      io.err(
        'url' in loadSettings().database
          ? 'Running instances sign with the new keys within TESSERA_KEYS_REFRESH_S (60 s by default), no restart needed.'
          : 'The next start publishes and signs with the new keys (the embedded database serves one process at a time).',
      );
      return 0;
    },
  },
  {
    path: ['keys', 'list'],
    summary: 'list signing keys (public parts), newest first',
    usage: 'tessera keys list',
    options: {},
    async run(_v, _p, io) {
      const keys = await withDatabase(async (db) => {
        await ensureProviderSecrets(db);
        return loadSigningKeys(db);
      });
      io.out(json(keys.map((k) => ({ kid: k.kid, alg: k.alg }))));
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
      const removed = await withDatabase((db) => removeSigningKey(db, kid));
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
