import type { Knex } from 'knex';

// Failed sign-ins per (username, IP), per username and per IP, in the database so instances
// sharing it agree on who is limited. `key` is a hash: no username or address is stored in clear.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('login_failures', (t) => {
    t.text('key').primary();
    t.text('kind').notNullable();
    t.integer('failures').notNullable();
    t.timestamp('window_started_at', { useTz: true }).notNullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('login_failures');
}
