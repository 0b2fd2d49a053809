import type { Database } from '../db/connect.ts';
import { prepared } from '../db/prepared.ts';
import { Conflict, isUniqueViolation } from '../errors.ts';
import { unstorableText } from '../model/json.ts';
import { NewUser, UserPatch, type User } from '../model/user.ts';
import { hasInvisibleCharacters, usernameKey } from '../model/username.ts';

/** Turns a password into what is stored (src/auth/passwords.ts: argon2id through the hashing queue). */
export type HashPassword = (password: string) => Promise<string>;

/** Every column of a user but the password hash. */
export const USER_COLUMNS = ['id', 'username', 'email', 'email_verified', 'name', 'given_name', 'family_name', 'external_id', 'enabled', 'claims', 'created_at', 'updated_at'];

/** A user row read as JSON (inside a larger statement): timestamps come back as text. */
export function userFromJson(row: Omit<User, 'created_at' | 'updated_at'> & { created_at: string; updated_at: string }): User {
  return { ...row, created_at: new Date(row.created_at), updated_at: new Date(row.updated_at) };
}

export async function createUser(db: Database, input: NewUser, hashPassword: HashPassword): Promise<User> {
  const { password, claims, ...rest } = NewUser.parse(input);
  const password_hash = password === undefined ? null : await hashPassword(password);
  try {
    const [row] = await db('users')
      .insert({ ...rest, username_key: usernameKey(rest.username), claims: JSON.stringify(claims ?? {}), password_hash })
      .returning(USER_COLUMNS);
    return row as User;
  } catch (err) {
    if (isUniqueViolation(err)) throw new Conflict('a user with this username or external_id already exists');
    throw err;
  }
}

export async function findUserById(db: Database, id: string): Promise<User | undefined> {
  if (!isUuid(id)) return undefined;
  return db('users').select(USER_COLUMNS).where({ id }).first().options(prepared(db, 'user_by_id'));
}

/** For login only: the one place the password hash leaves the table. */
export async function findUserForLogin(db: Database, username: string): Promise<(User & { password_hash: string | null }) | undefined> {
  // No stored username holds a NUL or a lone surrogate, and PostgreSQL would refuse to compare one;
  // nor an invisible character (refused at creation).
  if (unstorableText(username) || hasInvisibleCharacters(username.trim())) return undefined;
  return db('users')
    .select([...USER_COLUMNS, 'password_hash'])
    .where({ username_key: usernameKey(username) })
    .first();
}

/** Replaces a password hash made with older parameters, unless the password changed meanwhile. */
export async function upgradePasswordHash(db: Database, id: string, oldHash: string, newHash: string): Promise<void> {
  await db('users').where({ id, password_hash: oldHash }).update({ password_hash: newHash });
}

/** A UUID's text form, matched without regard to case (in SQL: `~*`). */
export const UUID_PATTERN = '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$';
const uuid = new RegExp(UUID_PATTERN, 'i');

export function isUuid(value: string): boolean {
  return uuid.test(value);
}

export async function findUsers(db: Database, q: { username?: string; email?: string; external_id?: string; limit: number; after?: string }): Promise<User[]> {
  // One row more than asked: the admin API's pager (admin/paging.ts) learns from it whether a next page exists.
  const query = db('users').select(USER_COLUMNS).orderBy('username').limit(q.limit + 1);
  if (q.after !== undefined) query.where('username', '>', q.after);
  if (q.username !== undefined) query.where({ username_key: usernameKey(q.username) });
  if (q.email !== undefined) query.whereRaw('lower(email) = lower(?)', [q.email]);
  if (q.external_id !== undefined) query.where({ external_id: q.external_id });
  return query;
}

export async function updateUser(db: Database, id: string, patch: UserPatch, hashPassword: HashPassword): Promise<User | undefined> {
  const { password, claims, ...rest } = UserPatch.parse(patch);
  const values: Record<string, unknown> = { ...rest, updated_at: db.fn.now() };
  if (rest.username !== undefined) values.username_key = usernameKey(rest.username);
  if (claims !== undefined) values.claims = JSON.stringify(claims);
  if (password !== undefined) values.password_hash = await hashPassword(password);
  // A new address is not verified by the old one's proof: email_verified goes back to false unless
  // this change sets it. The same address again keeps it.
  if (rest.email !== undefined && rest.email_verified === undefined) {
    values.email_verified = db.raw('case when email is not distinct from ? then email_verified else false end', [rest.email]);
  }
  try {
    const [row] = await db('users').where({ id }).update(values).returning(USER_COLUMNS);
    return row as User | undefined;
  } catch (err) {
    if (isUniqueViolation(err)) throw new Conflict('a user with this username or external_id already exists');
    throw err;
  }
}

export async function deleteUser(db: Database, id: string): Promise<boolean> {
  return (await db('users').where({ id }).delete()) > 0;
}

/** Resolves user references in three queries, whatever their number; unknown ones are absent from the maps. Usernames are keyed by usernameKey. */
export async function resolveUserRefs(db: Database, refs: { ids: string[]; usernames: string[]; externalIds: string[] }) {
  const [byId, byUsername, byExternal] = await Promise.all([
    refs.ids.length ? db('users').select('id').whereIn('id', refs.ids.filter(isUuid)) : [],
    refs.usernames.length ? db('users').select('id', 'username_key as key').whereIn('username_key', refs.usernames.map(usernameKey)) : [],
    refs.externalIds.length ? db('users').select('id', 'external_id').whereIn('external_id', refs.externalIds) : [],
  ]);
  return {
    ids: new Set((byId as Array<{ id: string }>).map((r) => r.id)),
    usernames: new Map((byUsername as Array<{ id: string; key: string }>).map((r) => [r.key, r.id])),
    externalIds: new Map((byExternal as Array<{ id: string; external_id: string }>).map((r) => [r.external_id, r.id])),
  };
}
