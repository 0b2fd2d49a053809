import type { Knex } from 'knex';

// Second factors (src/signin/): an authenticator app (TOTP, RFC 6238) per user, counted only once
// confirmed with a code, and the recovery codes shown once at its confirmation, stored hashed.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('signin_factors', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.uuid('user_id').notNullable().references('id').inTable('users').onDelete('CASCADE');
    t.text('kind').notNullable();
    t.text('label').notNullable();
    // The TOTP shared secret (base32): needed to check every code, so kept; never logged or answered.
    t.text('secret').notNullable();
    // The last accepted time step: a code of that step or an earlier one is refused (no reuse).
    t.bigInteger('last_time_step');
    t.timestamp('confirmed_at', { useTz: true });
    t.timestamp('last_used_at', { useTz: true });
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  // One authenticator per user: a new enrolment replaces an unconfirmed one.
  await knex.raw("create unique index signin_factors_one_totp on signin_factors (user_id) where kind = 'totp'");

  await knex.schema.createTable('signin_recovery_codes', (t) => {
    t.uuid('user_id').notNullable().references('id').inTable('users').onDelete('CASCADE');
    t.text('code_hash').notNullable();
    t.timestamp('used_at', { useTz: true });
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.primary(['user_id', 'code_hash']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('signin_recovery_codes');
  await knex.schema.dropTable('signin_factors');
}
