import type { Knex } from 'knex';
import { usernameKey } from '../src/model/username.ts';

// One comparison rule for usernames (src/model/username.ts), computed in JavaScript rather than by SQL's
// lower(): the same on PostgreSQL and the embedded database whatever their locale. The unique index on
// the key replaces the one on lower(username).
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('users', (t) => t.text('username_key'));
  const taken = new Set<string>();
  const users = (await knex('users').select('id', 'username').orderBy('created_at')) as Array<{ id: string; username: string }>;
  const keyed = users.map((user) => {
    let key = usernameKey(user.username);
    // Two old names that only NFKC tells apart: the older keeps the name; the newer gets a key
    // no typed username can match (sign-in refuses zero-width characters) until an admin renames it.
    if (taken.has(key)) key = `${key}\u200b${user.id}`;
    taken.add(key);
    return [user.id, key];
  });
  for (let i = 0; i < keyed.length; i += 500) {
    const batch = keyed.slice(i, i + 500);
    await knex.raw(`update users set username_key = v.key from (values ${batch.map(() => '(?::uuid, ?::text)').join(', ')}) as v (id, key) where users.id = v.id`, batch.flat());
  }
  await knex.raw('alter table users alter column username_key set not null');
  await knex.raw('drop index if exists users_username_lower');
  await knex.raw('create unique index users_username_key on users (username_key)');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop index if exists users_username_key');
  await knex.raw('create unique index users_username_lower on users (lower(username))');
  await knex.schema.alterTable('users', (t) => t.dropColumn('username_key'));
}
