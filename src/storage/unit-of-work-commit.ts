import type { Database } from '../db/connect.ts';
import { directRows } from '../db/direct.ts';
import type { UnitOfWork } from './unit-of-work.ts';

export type CommitOutcome = { committed: true } | { committed: false };

/**
 * A token request's writes in one statement, so they happen together or not at all: the code or
 * refresh token is marked spent by this request only if it is still unspent, and only then are
 * the new tokens stored and the grant context updated (the organization a redeemed code carries,
 * or a refresh's organization switch). `committed: false`: another request spent it first.
 */
export async function commitUnit(db: Database, unit: UnitOfWork): Promise<CommitOutcome> {
  const rows = [...unit.upserts.values()].map((r) => ({ ...r, payload: JSON.parse(r.payload) as unknown }));
  const result = await directRows<{ ok: boolean }>(
    db,
    'unit_of_work_commit',
    `with spent as (
         update oidc_payloads set consumed_at = now(), consumed_by = $1
         where model = $2 and id = $3 and consumed_at is null
         returning grant_id, grant_context
       ),
       go as (select $4::text is null or exists (select 1 from spent) as ok),
       stored as (
         insert into oidc_payloads (model, id, payload, grant_id, user_code, uid, expires_at)
         select r.model, r.id, r.payload, r.grant_id, r.user_code, r.uid, r.expires_at
         from jsonb_to_recordset($5::jsonb) as r(model text, id text, payload jsonb, grant_id text, user_code text, uid text, expires_at timestamptz)
         where (select ok from go)
         on conflict (model, id) do update set payload = excluded.payload, grant_id = excluded.grant_id, user_code = excluded.user_code, uid = excluded.uid, expires_at = excluded.expires_at
         returning 1
       ),
       context as (
         insert into grant_context (grant_id, organization_id, requested_scope)
         select c.grant_id, c.organization_id, c.requested_scope from (
           select s.grant_id, (s.grant_context->>'organization_id')::uuid as organization_id, s.grant_context->>'requested_scope' as requested_scope
           from spent s where s.grant_id is not null and s.grant_context is not null
           union all
           select x.grant_id, x.organization_id, null from jsonb_to_record($6::jsonb) as x(grant_id text, organization_id uuid)
           where x.grant_id is not null and (select ok from go)
         ) c
         on conflict (grant_id) do update set organization_id = coalesce(excluded.organization_id, grant_context.organization_id),
           requested_scope = coalesce(excluded.requested_scope, grant_context.requested_scope), updated_at = now()
         returning 1
       )
       select (select ok from go) as ok, (select count(*) from stored) as stored, (select count(*) from context) as contexts`,
    [unit.id, unit.consume?.model ?? null, unit.consume?.id ?? null, unit.consume?.id ?? null, JSON.stringify(rows), JSON.stringify(unit.grantContext ?? {})],
  );
  return { committed: result[0]!.ok };
}

/**
 * After a commit whose answer never came (the connection died): whether it happened, told by who
 * spent the token. A few tries, on fresh connections; false when the database cannot say.
 */
export async function spentByUnit(db: Database, unit: UnitOfWork, tries = 3): Promise<boolean> {
  if (!unit.consume) return false;
  for (let i = 0; i < tries; i++) {
    try {
      const row = await db('oidc_payloads').select('consumed_by').where({ model: unit.consume.model, id: unit.consume.id }).first();
      return row?.consumed_by === unit.id;
    } catch {
      // Asked again on another connection.
    }
  }
  return false;
}

/** The removals a request recorded (a replay's destroy and revocation): they happen whatever the answer. */
export async function applyRemovals(db: Database, unit: UnitOfWork): Promise<void> {
  if (!unit.hasRemovals) return;
  const grants = [...unit.revokedGrants];
  await db('oidc_payloads')
    .where((q) => {
      for (const { model, id } of unit.destroys) q.orWhere({ model, id });
      if (grants.length) q.orWhereIn('grant_id', grants).orWhere((g) => g.where('model', 'Grant').whereIn('id', grants));
    })
    .delete();
}

/** Another request spent the token first: a replay, answered as oidc-provider answers one (the grant goes). */
export async function revokeGrant(db: Database, grantId: string): Promise<void> {
  await db('oidc_payloads').where({ grant_id: grantId }).orWhere({ model: 'Grant', id: grantId }).delete();
}
