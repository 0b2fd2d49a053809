import type { AdapterPayload } from 'oidc-provider';
import type { Database } from '../db/connect.ts';
import type { MembershipOfUser } from './organizations.ts';
import type { StoredPrivileges } from './privileges.ts';
import type { GrantContext } from './grant-context.ts';
import { isUuid, USER_COLUMNS, userFromJson } from './users.ts';
import { prepared } from '../db/prepared.ts';
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
 * What a token issue reads about its user and grant, in one round trip rather than five (each
 * query costs a network exchange on the hot path): memberships, privileges, Tessera's grant
 * context, and, for a refresh or a code exchange, the user and oidc-provider's grant, which the
 * provider would otherwise read on its own. The same rows as listMembershipsOfUser,
 * findPrivileges, findGrantContext, findUserById and the adapter's find; a part not asked for is
 * not read.
 */
export async function readClaimSources(db: Database, q: ClaimSourceQuery): Promise<ClaimSourceRows> {
  const readGrant = q.grantId !== undefined;
  const readUser = q.user === true && isUuid(q.userId);
  const readGrantPayload = q.grantPayload === true && readGrant;
  if (!q.memberships && !q.privileges && !readGrant && !readUser) return { memberships: [], privileges: undefined, grant: undefined, ...(q.user ? { user: undefined } : {}) };
  const { rows } = await db.raw(
    `select
       case when ? then (select coalesce(json_agg(json_build_object('id', o.id, 'alias', o.alias, 'name', o.name, 'roles', m.roles, 'attributes', m.attributes) order by o.alias), '[]'::json)
                         from memberships m join organizations o on o.id = m.organization_id where m.user_id = ?) end as memberships,
       case when ? then (select json_build_object('profile', p.profile, 'scope', p.scope, 'version', p.version, 'updated_at', p.updated_at) from privileges p where p.user_id = ?) end as privileges,
       case when ? then (select json_build_object('organization_id', g.organization_id, 'requested_scope', g.requested_scope) from grant_context g where g.grant_id = ?) end as grant,
       case when ? then (select ${userJson} from users u where u.id = ?::uuid) end as "user",
       case when ? then (select o.payload from oidc_payloads o where o.model = 'Grant' and o.id = ? and (o.expires_at is null or o.expires_at > now())) end as grant_payload`,
    [
      q.memberships, q.userId,
      q.privileges, q.userId,
      readGrant, q.grantId ?? '',
      readUser, readUser ? q.userId : null,
      readGrantPayload, q.grantId ?? '',
    ],
  ).options(prepared(db, 'claim_sources'));
  const row = rows[0] as {
    memberships: MembershipOfUser[] | null;
    privileges: (Omit<StoredPrivileges, 'updated_at'> & { updated_at: string }) | null;
    grant: GrantContext | null;
    user: Parameters<typeof userFromJson>[0] | null;
    grant_payload: AdapterPayload | null;
  };
  return {
    memberships: row.memberships ?? [],
    privileges: row.privileges ? { ...row.privileges, updated_at: new Date(row.privileges.updated_at) } : undefined,
    grant: row.grant ?? undefined,
    ...(q.user ? { user: row.user ? userFromJson(row.user) : undefined } : {}),
    ...(readGrantPayload ? { grantPayload: row.grant_payload ?? undefined } : {}),
  };
}
