import type { Database } from '../db/connect.ts';

export type StoredPrivileges = { profile: unknown; scope: string; version: number; updated_at: Date };

export async function findPrivileges(db: Database, userId: string): Promise<StoredPrivileges | undefined> {
  return db('privileges').select('profile', 'scope', 'version', 'updated_at').where({ user_id: userId }).first();
}

/**
 * Writes a user's privileges only if the stored version is still `expected` (0: none stored yet),
 * in one statement, so of concurrent writers with the same version exactly one wins.
 * Returns undefined when the version had moved on.
 */
export async function putPrivilegesIfVersion(db: Database, userId: string, value: { profile: unknown; scope: string }, expected: number): Promise<StoredPrivileges | undefined> {
  const profile = JSON.stringify(value.profile ?? null);
  if (expected === 0) {
    const [row] = await db('privileges').insert({ user_id: userId, profile, scope: value.scope }).onConflict('user_id').ignore().returning(['profile', 'scope', 'version', 'updated_at']);
    return row as StoredPrivileges | undefined;
  }
  const [row] = await db('privileges')
    .where({ user_id: userId, version: expected })
    .update({ profile, scope: value.scope, version: db.raw('version + 1'), updated_at: db.fn.now() })
    .returning(['profile', 'scope', 'version', 'updated_at']);
  return row as StoredPrivileges | undefined;
}

export async function deletePrivileges(db: Database, userId: string, expected?: number): Promise<boolean> {
  const q = db('privileges').where({ user_id: userId });
  if (expected !== undefined) q.andWhere({ version: expected });
  return (await q.delete()) > 0;
}

/** Writes a user's privileges unconditionally, bumping the version. */
export async function putPrivileges(db: Database, userId: string, value: { profile: unknown; scope: string }): Promise<StoredPrivileges> {
  const [row] = await db('privileges')
    .insert({ user_id: userId, profile: JSON.stringify(value.profile ?? null), scope: value.scope })
    .onConflict('user_id')
    .merge({ profile: JSON.stringify(value.profile ?? null), scope: value.scope, version: db.raw('privileges.version + 1'), updated_at: db.fn.now() })
    .returning(['profile', 'scope', 'version', 'updated_at']);
  return row as StoredPrivileges;
}

/**
 * Writes many users' privileges in one transaction: all of them, or none. The rows are written in
 * user id order, whatever the request's order, and answered in the request's: two bulk writes that
 * share users and took them in opposite orders deadlocked, and one of them failed.
 */
export async function putManyPrivileges(db: Database, items: Array<{ user_id: string; profile: unknown; scope: string }>): Promise<Array<{ user_id: string; version: number }>> {
  return db.transaction(async (trx) => {
    const versions = new Map<string, number>();
    for (const item of [...items].sort((a, b) => (a.user_id < b.user_id ? -1 : a.user_id > b.user_id ? 1 : 0))) {
      versions.set(item.user_id, (await putPrivileges(trx, item.user_id, item)).version);
    }
    return items.map((item) => ({ user_id: item.user_id, version: versions.get(item.user_id)! }));
  });
}
