import type { Knex } from 'knex';

// Passkeys (WebAuthn, src/signin/passkeys.ts): a user's credentials, with what checking an assertion needs.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('signin_passkeys', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.uuid('user_id').notNullable().references('id').inTable('users').onDelete('CASCADE');
    // The credential id (base64url) the browser names it by: unique across users, found by it at a discoverable sign-in.
    t.text('credential_id').notNullable().unique();
    t.text('public_key').notNullable();
    t.bigInteger('counter').notNullable().defaultTo(0);
    t.jsonb('transports').notNullable().defaultTo('[]');
    // singleDevice (hardware-bound: amr hwk) or multiDevice (synced: amr swk).
    t.text('device_type').notNullable();
    t.boolean('backed_up').notNullable().defaultTo(false);
    t.text('label').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('last_used_at', { useTz: true });
  });
  await knex.raw('create index signin_passkeys_user on signin_passkeys (user_id)');
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('signin_passkeys');
}
