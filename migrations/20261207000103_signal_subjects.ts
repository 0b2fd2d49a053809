import type { Knex } from 'knex';

// Shared Signals subjects (issue 14): a stream covers every user with a grant with its client
// (default_subjects ALL); remove_subject excludes a user from one stream, add_subject includes them again.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('ssf_excluded_subjects', (t) => {
    t.text('stream_id').notNullable().references('stream_id').inTable('ssf_streams').onDelete('CASCADE');
    t.text('user_id').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.primary(['stream_id', 'user_id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('ssf_excluded_subjects');
}
