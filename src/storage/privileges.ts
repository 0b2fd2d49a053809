import type { Database } from '../db/connect.ts';

export type StoredPrivileges = { profile: unknown; scope: string; version: number; updated_at: Date };

export async function findPrivileges(db: Database, userId: string): Promise<StoredPrivileges | undefined> {
  return db('privileges').select('profile', 'scope', 'version', 'updated_at').where({ user_id: userId }).first();
}

/** Writes a user's privileges, bumping the version; the caller checks existence and If-Match. */
export async function putPrivileges(db: Database, userId: string, value: { profile: unknown; scope: string }): Promise<StoredPrivileges> {
  const [row] = await db('privileges')
    .insert({ user_id: userId, profile: JSON.stringify(value.profile ?? null), scope: value.scope })
    .onConflict('user_id')
    .merge({ profile: JSON.stringify(value.profile ?? null), scope: value.scope, version: db.raw('privileges.version + 1'), updated_at: db.fn.now() })
    .returning(['profile', 'scope', 'version', 'updated_at']);
  return row as StoredPrivileges;
}
