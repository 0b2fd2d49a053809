import type { Knex } from 'knex';

// What the sign-in and consent pages show of an application besides its name (OpenID Connect
// Dynamic Client Registration §2): its logo, home page, privacy policy and terms of service.
const COLUMNS = ['logo_uri', 'client_uri', 'policy_uri', 'tos_uri'];

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('clients', (t) => {
    for (const c of COLUMNS) t.text(c);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('clients', (t) => {
    for (const c of COLUMNS) t.dropColumn(c);
  });
}
