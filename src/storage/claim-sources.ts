import type { Database } from '../db/connect.ts';
import type { MembershipOfUser } from './organizations.ts';
import type { StoredPrivileges } from './privileges.ts';
import type { GrantContext } from './grant-context.ts';

export type ClaimSourceRows = { memberships: MembershipOfUser[]; privileges: StoredPrivileges | undefined; grant: GrantContext | undefined };

/**
 * What a token issue reads about its user and grant, in one round trip rather than three (each
 * query costs a network exchange on the hot path). The same rows, in the same order, as
 * listMembershipsOfUser, findPrivileges and findGrantContext; a part not asked for is not read.
 */
export async function readClaimSources(db: Database, q: { userId: string; grantId?: string; memberships: boolean; privileges: boolean }): Promise<ClaimSourceRows> {
  if (!q.memberships && !q.privileges && q.grantId === undefined) return { memberships: [], privileges: undefined, grant: undefined };
  const { rows } = await db.raw(
    `select
       case when ? then (select coalesce(json_agg(json_build_object('id', o.id, 'alias', o.alias, 'name', o.name, 'roles', m.roles, 'attributes', m.attributes) order by o.alias), '[]'::json)
                         from memberships m join organizations o on o.id = m.organization_id where m.user_id = ?) end as memberships,
       case when ? then (select json_build_object('profile', p.profile, 'scope', p.scope, 'version', p.version, 'updated_at', p.updated_at) from privileges p where p.user_id = ?) end as privileges,
       case when ? then (select json_build_object('organization_id', g.organization_id, 'requested_scope', g.requested_scope) from grant_context g where g.grant_id = ?) end as grant`,
    [q.memberships, q.userId, q.privileges, q.userId, q.grantId !== undefined, q.grantId ?? ''],
  );
  const row = rows[0] as { memberships: MembershipOfUser[] | null; privileges: (Omit<StoredPrivileges, 'updated_at'> & { updated_at: string }) | null; grant: GrantContext | null };
  return {
    memberships: row.memberships ?? [],
    privileges: row.privileges ? { ...row.privileges, updated_at: new Date(row.privileges.updated_at) } : undefined,
    grant: row.grant ?? undefined,
  };
}
