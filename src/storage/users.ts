import type { Database } from '../db/connect.ts';
import { Conflict, isUniqueViolation } from '../errors.ts';
import { hashPassword } from '../auth/password.ts';
import { NewUser, type User } from '../model/user.ts';

const columns = ['id', 'username', 'email', 'email_verified', 'name', 'given_name', 'family_name', 'external_id', 'enabled', 'claims', 'created_at', 'updated_at'];

export async function createUser(db: Database, input: NewUser, passwordCost: number): Promise<User> {
  const { password, claims, ...rest } = NewUser.parse(input);
  const password_hash = password === undefined ? null : await hashPassword(password, passwordCost);
  try {
    const [row] = await db('users')
      .insert({ ...rest, claims: JSON.stringify(claims ?? {}), password_hash })
      .returning(columns);
    return row as User;
  } catch (err) {
    if (isUniqueViolation(err)) throw new Conflict('a user with this username or external_id already exists');
    throw err;
  }
}

export async function findUserById(db: Database, id: string): Promise<User | undefined> {
  if (!isUuid(id)) return undefined;
  return db('users').select(columns).where({ id }).first();
}

/** For login only: the one place the password hash leaves the table. */
export async function findUserForLogin(db: Database, username: string): Promise<(User & { password_hash: string | null }) | undefined> {
  return db('users')
    .select([...columns, 'password_hash'])
    .whereRaw('lower(username) = lower(?)', [username])
    .first();
}

export function isUuid(value: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value);
}
