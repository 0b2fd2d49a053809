import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  // A user's privileges as an external system last wrote them; version counts writes (ETag).
  await knex.schema.createTable('privileges', (t) => {
    t.uuid('user_id').primary().references('users.id').onDelete('CASCADE');
    t.jsonb('profile');
    t.text('scope').notNullable().defaultTo('');
    t.integer('version').notNullable().defaultTo(1);
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });

  // What Tessera remembers per grant beyond oidc-provider's own Grant: the active organization
  // (bound to the grant, not the browser session) and the scope exactly as the app asked for it.
  await knex.schema.createTable('grant_context', (t) => {
    t.text('grant_id').primary();
    t.uuid('organization_id').references('organizations.id').onDelete('SET NULL');
    t.text('requested_scope');
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('grant_context');
  await knex.schema.dropTableIfExists('privileges');
}
