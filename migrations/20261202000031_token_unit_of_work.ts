import type { Knex } from 'knex';

// The token path's unit of work (src/oidc/token-unit.ts).
// - consumed_by: which token request spent a code or refresh token, so a request whose commit
//   answer was lost can tell "spent by me" (the commit happened) from "spent by another" (a replay).
// - grant_context: on an authorization code, the organization and requested scope its
//   authorization request chose; they become the grant's only when the code is redeemed.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('oidc_payloads', (t) => {
    t.text('consumed_by');
    t.jsonb('grant_context');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('oidc_payloads', (t) => {
    t.dropColumn('grant_context');
    t.dropColumn('consumed_by');
  });
}
