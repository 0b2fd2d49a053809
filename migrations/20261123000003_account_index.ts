import type { Knex } from 'knex';

// Sign a user out everywhere (admin logout, disable, delete): find their sessions, grants and tokens.
export async function up(knex: Knex): Promise<void> {
  await knex.raw("create index oidc_payloads_account on oidc_payloads ((payload->>'accountId')) where payload->>'accountId' is not null");
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop index if exists oidc_payloads_account');
}
