/**
 * What Tessera needs before a run, written straight into its database while the server is stopped
 * (PGlite's folder belongs to one process): users, organizations, privileges, the bench clients and
 * resource servers, and for the scale scenario a million stored grants and refresh tokens.
 */
import type { JWK } from 'jose';
import type { Database } from '../src/db/connect.ts';
import { migrateLatest } from '../src/db/migrate.ts';
import { ensureProviderSecrets } from '../src/storage/keys.ts';
import { createUser } from '../src/storage/users.ts';
import { DEFAULT_PASSWORD_HASHING, hashPassword } from '../src/auth/password.ts';
import { createClient } from '../src/storage/clients.ts';
import { createResourceServer } from '../src/storage/resource-servers.ts';
import { createOrganization, putMembership } from '../src/storage/organizations.ts';
import { putPrivileges } from '../src/storage/privileges.ts';
import { BENCH } from './setup.ts';

export type Seeded = {
  /** username of a user in 1, 10 and 100 organizations */
  usersByOrgCount: Record<number, string>;
  /** ids of the users whose privileges the admin PUT scenario writes */
  privilegeUserIds: string[];
};

const ORG_COUNTS = [1, 10, 100] as const;

/** `keys` are the baseline's too: both sides sign with the same ES256 key. */
export async function seedTessera(db: Database, webhookUrl: string, keys: JWK[]): Promise<Seeded> {
  await migrateLatest(db);
  await db('signing_keys').insert(keys.map((k) => ({ kid: k.kid, alg: k.alg, private_jwk: JSON.stringify(k) })));
  await ensureProviderSecrets(db);

  await createResourceServer(db, { identifier: BENCH.jwtResource, scopes: ['read', 'write'], access_token_format: 'jwt' });
  await createResourceServer(db, { identifier: BENCH.opaqueResource, scopes: ['read', 'write'], access_token_format: 'opaque' });
  const common = {
    redirect_uris: [BENCH.redirectUri],
    grant_types: ['authorization_code', 'refresh_token', 'client_credentials'] as Array<'authorization_code' | 'refresh_token' | 'client_credentials'>,
    scope: BENCH.clientScope,
    allowed_resources: [BENCH.jwtResource, BENCH.opaqueResource],
    default_resource: BENCH.jwtResource,
  };
  await createClient(db, { client_id: BENCH.client.id, client_name: 'Bench app', ...common }, BENCH.client.secret);
  await createClient(db, { client_id: BENCH.moduleClient.id, client_name: 'Bench app, module hook', ...common, payload_hook: { module: 'hooks/example-payload.ts' } }, BENCH.moduleClient.secret);
  await createClient(
    db,
    { client_id: BENCH.webhookClient.id, client_name: 'Bench app, webhook', ...common, payload_hook: { url: webhookUrl, secret: BENCH.webhookSecret } },
    BENCH.webhookClient.secret,
  );

  // Organizations: the first one is "acme" (the example hook knows it).
  const orgs = [];
  for (let i = 0; i < 100; i++) orgs.push(await createOrganization(db, { alias: i === 0 ? 'acme' : `org-${i}`, name: `Organization ${i}`, attributes: { plan: 'pro' } }));

  const usersByOrgCount: Record<number, string> = {};
  for (const n of ORG_COUNTS) {
    const user = await createUser(db, { username: `bench-${n}-orgs`, password: BENCH.password, email: `bench-${n}@example.test`, email_verified: true, name: `Bench ${n}` }, (p) => hashPassword(p, DEFAULT_PASSWORD_HASHING));
    for (const org of orgs.slice(0, n)) await putMembership(db, org.id, user.id, { roles: ['admin', 'viewer'], attributes: { department: 'R&D' } });
    await putPrivileges(db, user.id, { profile: { role: 'editor', teams: ['a', 'b'] }, scope: 'docs:read docs:write' });
    usersByOrgCount[n] = user.username;
  }

  const privilegeUserIds: string[] = [];
  for (let i = 0; i < 100; i++) privilegeUserIds.push((await createUser(db, { username: `bench-priv-${i}` }, (p) => hashPassword(p, DEFAULT_PASSWORD_HASHING))).id);
  // Statistics, as autovacuum keeps them on a database in use: without them the planner guesses.
  await db.raw('analyze');
  return { usersByOrgCount, privilegeUserIds };
}

/**
 * `rows` stored grants and refresh tokens (half each) for 50,000 accounts, shaped like the ones
 * oidc-provider writes, valid for two weeks: set-based SQL, one statement.
 */
export async function seedStoredTokens(db: Database, rows: number): Promise<void> {
  await db.raw(
    `insert into oidc_payloads (model, id, payload, grant_id, expires_at)
     select m.model, m.id, m.payload, m.grant_id, now() + interval '14 days'
     from generate_series(1, ?) as i,
     lateral (select
       case when i % 2 = 0 then 'Grant' else 'RefreshToken' end as model,
       case when i % 2 = 0 then 'seed-grant-' || (i / 2) else 'seed-rt-' || md5(i::text) end as id,
       'seed-grant-' || ((i + 1) / 2) as grant_id,
       jsonb_build_object(
         'iat', extract(epoch from now())::int, 'exp', extract(epoch from now() + interval '14 days')::int,
         'accountId', 'seed-account-' || (i % 50000), 'clientId', ?::text,
         'kind', case when i % 2 = 0 then 'Grant' else 'RefreshToken' end,
         'jti', md5(i::text), 'grantId', 'seed-grant-' || ((i + 1) / 2),
         'scope', 'openid organization privileges offline_access', 'gty', 'authorization_code',
         'authTime', extract(epoch from now())::int,
         'openid', jsonb_build_object('scope', 'openid organization privileges offline_access')
       ) as payload) as m`,
    [rows, BENCH.client.id],
  );
  // Leave the table as a long-running one would be (statistics, visibility map), and write the
  // insert out now rather than during the measurement that follows.
  await db.raw('vacuum analyze oidc_payloads');
  await db.raw('checkpoint').catch(() => undefined);
}
