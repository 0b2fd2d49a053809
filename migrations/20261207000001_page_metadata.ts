import type { Knex } from 'knex';

// What the sign-in and consent pages show of an application besides its name (OpenID Connect
// Dynamic Client Registration §2): its logo, home page, privacy policy and terms of service; and
// what the consent page says an API's scopes give, in words.
const COLUMNS = ['logo_uri', 'client_uri', 'policy_uri', 'tos_uri'];

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('clients', (t) => {
    for (const c of COLUMNS) t.text(c);
  });
  await knex.schema.alterTable('resource_servers', (t) => {
    t.text('description');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('resource_servers', (t) => {
    t.dropColumn('description');
  });
  await knex.schema.alterTable('clients', (t) => {
    for (const c of COLUMNS) t.dropColumn(c);
  });
}
