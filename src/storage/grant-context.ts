import type { Database } from '../db/connect.ts';

export type GrantContext = { organization_id: string | null; requested_scope: string | null };

export async function findGrantContext(db: Database, grantId: string): Promise<GrantContext | undefined> {
  return db('grant_context').select('organization_id', 'requested_scope').where({ grant_id: grantId }).first();
}

/** Records what is known; a field left undefined keeps its stored value. */
export async function saveGrantContext(db: Database, grantId: string, ctx: { organization_id?: string | null; requested_scope?: string }): Promise<void> {
  const values = Object.fromEntries(Object.entries(ctx).filter(([, v]) => v !== undefined));
  if (!Object.keys(values).length) return;
  await db('grant_context')
    .insert({ grant_id: grantId, ...values })
    .onConflict('grant_id')
    .merge({ ...values, updated_at: db.fn.now() });
}

export async function deleteGrantContext(db: Database, grantId: string): Promise<void> {
  await db('grant_context').where({ grant_id: grantId }).delete();
}

/**
 * Keeps with an authorization code what its authorization request chose; the grant takes it only
 * when the code is redeemed (unit-of-work-commit.ts), so a code nobody redeems changes nothing.
 */
export async function saveCodeGrantContext(db: Database, codeId: string, ctx: { organization_id?: string | null; requested_scope?: string }): Promise<void> {
  const values = Object.fromEntries(Object.entries(ctx).filter(([, v]) => v !== undefined));
  await db('oidc_payloads').where({ model: 'AuthorizationCode', id: codeId }).update({ grant_context: JSON.stringify(values) });
}
