import type { Knex } from 'knex';

// Whether a second factor is required (src/signin/): per client, and per organization for its members.
export async function up(knex: Knex): Promise<void> {
  for (const table of ['clients', 'organizations']) {
    await knex.schema.alterTable(table, (t) => {
      t.text('mfa').notNullable().defaultTo('optional');
    });
    await knex.raw(`alter table ${table} add constraint ${table}_mfa_values check (mfa in ('optional', 'required'))`);
  }
}

export async function down(knex: Knex): Promise<void> {
  for (const table of ['clients', 'organizations']) {
    await knex.schema.alterTable(table, (t) => {
      t.dropColumn('mfa');
    });
  }
}
