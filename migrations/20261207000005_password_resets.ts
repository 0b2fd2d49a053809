import type { Knex } from 'knex';

// Password reset links (src/signin/password-reset.ts): only the token's hash is kept, with its expiry and its use.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('password_resets', (t) => {
    t.text('token_hash').primary();
    t.uuid('user_id').notNullable().references('id').inTable('users').onDelete('CASCADE');
    t.timestamp('expires_at', { useTz: true }).notNullable();
    t.timestamp('used_at', { useTz: true });
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.raw('create index password_resets_user on password_resets (user_id)');
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('password_resets');
}
