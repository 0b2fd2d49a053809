import type { Knex } from 'knex';

// OpenID Connect Back-Channel Logout 1.0 (issue 14): where a client receives logout tokens, and whether
// they (and its ID tokens) carry `sid`. Existing clients have no URI, so nothing is sent to them.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('clients', (t) => {
    t.text('backchannel_logout_uri');
    t.boolean('backchannel_logout_session_required').notNullable().defaultTo(true);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('clients', (t) => {
    t.dropColumn('backchannel_logout_uri');
    t.dropColumn('backchannel_logout_session_required');
  });
}
