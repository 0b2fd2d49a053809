import type { AdapterPayload } from 'oidc-provider';
import type { Database } from '../db/connect.ts';
import type { MembershipOfUser } from './organizations.ts';
import type { StoredPrivileges } from './privileges.ts';
import type { GrantContext } from './grant-context.ts';
import { isUuid, USER_COLUMNS, UUID_PATTERN, userFromJson } from './users.ts';
import { live, payloadJson, payloadOfRow } from './payload-row.ts';
import { prepared } from '../db/prepared.ts';
import { directRows } from '../db/direct.ts';
import { HASURA_SCOPE, ORGANIZATION_SCOPE, PRIVILEGES_SCOPE } from '../claims/scopes.ts';
import type { User } from '../model/user.ts';

export type ClaimSourceRows = {
  memberships: MembershipOfUser[];
  privileges: StoredPrivileges | undefined;
  grant: GrantContext | undefined;
  /** The user (without password hash), when asked for: undefined when there is none. */
  user?: User | undefined;
  /** oidc-provider's stored grant (as its adapter would return it), when asked for with a grantId. */
  grantPayload?: AdapterPayload | undefined;
};

export type ClaimSourceQuery = { userId: string; grantId?: string; memberships: boolean; privileges: boolean; user?: boolean; grantPayload?: boolean };

const userJson = `json_build_object(${USER_COLUMNS.map((c) => `'${c}', u.${c}`).join(', ')})`;

/**
 * The claim sources over a one-row relation `t` (user_id uuid, grant_id, and which parts to read):
 * memberships, privileges, Tessera's grant context, the user and oidc-provider's grant. A part not
 * asked for is not read. The same rows as listMembershipsOfUser, findPrivileges,
 * findGrantContext, findUserById and the adapter's find.
 */
const SOURCES = `
  case when t.memberships then (select coalesce(json_agg(json_build_object('id', o.id, 'alias', o.alias, 'name', o.name, 'roles', m.roles, 'attributes', m.attributes) order by o.alias), '[]'::json)
                                from memberships m join organizations o on o.id = m.organization_id where m.user_id = t.user_id) end as memberships,
  case when t.privileges then (select json_build_object('profile', p.profile, 'scope', p.scope, 'version', p.version, 'updated_at', p.updated_at) from privileges p where p.user_id = t.user_id) end as privileges,
  case when t.grant_id is not null then (select json_build_object('organization_id', g.organization_id, 'requested_scope', g.requested_scope) from grant_context g where g.grant_id = t.grant_id) end as grant,
  case when t.with_user then (select ${userJson} from users u where u.id = t.user_id) end as "user",
  case when t.with_grant_payload then (select ${payloadJson('o')} from oidc_payloads o where o.model = 'Grant' and o.id = t.grant_id and ${live('o')}) end as grant_payload`;

type SourcesRow = {
  memberships: MembershipOfUser[] | null;
  privileges: (Omit<StoredPrivileges, 'updated_at'> & { updated_at: string }) | null;
  grant: GrantContext | null;
  user: Parameters<typeof userFromJson>[0] | null;
  grant_payload: AdapterPayload | null;
};

function sourcesOf(row: SourcesRow, withUser: boolean, withGrantPayload: boolean): ClaimSourceRows {
  return {
    memberships: row.memberships ?? [],
    privileges: row.privileges ? { ...row.privileges, updated_at: new Date(row.privileges.updated_at) } : undefined,
    grant: row.grant ?? undefined,
    ...(withUser ? { user: row.user ? userFromJson(row.user) : undefined } : {}),
    ...(withGrantPayload ? { grantPayload: row.grant_payload ?? undefined } : {}),
  };
}

/** What a token issue reads about its user and grant, in one round trip rather than five. */
export async function readClaimSources(db: Database, q: ClaimSourceQuery): Promise<ClaimSourceRows> {
  const readGrant = q.grantId !== undefined;
  const userId = isUuid(q.userId) ? q.userId : null;
  const readUser = q.user === true && userId !== null;
  const readGrantPayload = q.grantPayload === true && readGrant;
  if (!q.memberships && !q.privileges && !readGrant && !readUser) return { memberships: [], privileges: undefined, grant: undefined, ...(q.user ? { user: undefined } : {}) };
  const { rows } = await db
    .raw(
      `with t as (select ?::uuid as user_id, ?::text as grant_id, ?::boolean as memberships, ?::boolean as privileges, ?::boolean as with_user, ?::boolean as with_grant_payload)
       select ${SOURCES} from t`,
      [userId, q.grantId ?? null, q.memberships && userId !== null, q.privileges && userId !== null, readUser, readGrantPayload],
    )
    .options(prepared(db, 'claim_sources'));
  return sourcesOf(rows[0] as SourcesRow, q.user === true, readGrantPayload);
}

type SpendableRow = SourcesRow & { payload: unknown; consumed_at: Date | null; code_context: Partial<GrantContext> | null; read_memberships: boolean; read_privileges: boolean };

export type SpendableRead = {
  /** The code or refresh token as the adapter would return it; undefined when there is none (or it expired). */
  payload: AdapterPayload | undefined;
  /** Its user's and grant's claim sources (user and grant included), when there is a token. */
  sources?: ClaimSourceRows;
  /** Which optional parts `sources` holds: read when the token's scope may need them. */
  read?: { memberships: boolean; privileges: boolean };
};

// Materialized: what the token says is worked out once, not again in every part's condition.
const SPENDABLE_WITH_SOURCES = `with t as materialized (
         select payload, consumed_at, grant_context as code_context,
                case when payload->>'accountId' ~* '${UUID_PATTERN}' then (payload->>'accountId')::uuid end as user_id,
                payload->>'grantId' as grant_id,
                strpos(coalesce(payload->>'scope', ''), $1) > 0 or strpos(coalesce(payload->>'scope', ''), $2) > 0 as memberships,
                strpos(coalesce(payload->>'scope', ''), $3) > 0 as privileges,
                true as with_user, true as with_grant_payload
         from oidc_payloads where model = $4 and id = $5 and ${live()})
       select t.payload, t.consumed_at, t.code_context, t.memberships as read_memberships, t.privileges as read_privileges, ${SOURCES} from t`;

/**
 * A code or refresh token about to be spent, and its claim sources, in one round trip: reading the
 * token first and its sources after cost a second exchange on every refresh. A code's own grant
 * context (what its authorization request chose) stands in for the grant's: it becomes the grant's
 * when the code is redeemed. Memberships and privileges are
 * read when the token's scope so much as mentions their scopes; the caller checks this covers what
 * the exact scope rules need (scopes.ts) and reads again if not.
 */
export async function readSpendableWithClaimSources(db: Database, model: 'AuthorizationCode' | 'RefreshToken', id: string): Promise<SpendableRead> {
  // One name for the one text: the model is a parameter, and the plan (a primary-key lookup) is the same for both.
  const rows = await directRows<SpendableRow>(
    db,
    'spendable_with_claim_sources',
    SPENDABLE_WITH_SOURCES,
    [ORGANIZATION_SCOPE, HASURA_SCOPE, PRIVILEGES_SCOPE, model, id],
  );
  const row = rows[0];
  if (!row) return { payload: undefined };
  const sources = sourcesOf(row, true, true);
  return {
    payload: payloadOfRow(row),
    sources: row.code_context ? { ...sources, grant: withCodeContext(sources.grant, row.code_context) } : sources,
    read: { memberships: row.read_memberships, privileges: row.read_privileges },
  };
}

/** The grant context as it will be once the code is redeemed: what the code chose, over what the grant had. */
function withCodeContext(grant: GrantContext | undefined, code: Partial<GrantContext>): GrantContext {
  return {
    organization_id: code.organization_id ?? grant?.organization_id ?? null,
    requested_scope: code.requested_scope ?? grant?.requested_scope ?? null,
  };
}
