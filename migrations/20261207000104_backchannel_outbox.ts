import type { Knex } from 'knex';

// Durable back-channel logout (issue 14): a logout token to send is a row, written in the transaction
// that ends the session (admin API, CLI) or before oidc-provider destroys it (/session/end). The
// delivery worker builds and signs the token when it sends it, retrying with backoff like the SETs.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('backchannel_outbox', (t) => {
    t.bigIncrements('id').primary();
    t.text('jti').notNullable().unique();
    t.text('client_id').notNullable().references('client_id').inTable('clients').onDelete('CASCADE');
    t.text('sub').notNullable();
    // The session's sid for this client; sent when the client's backchannel_logout_session_required is true.
    t.text('sid');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.integer('attempts').notNullable().defaultTo(0);
    t.timestamp('next_attempt_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('leased_until', { useTz: true });
    t.timestamp('delivered_at', { useTz: true });
    // Set when Tessera stopped trying (too many failures); the row is purged like a delivered one.
    t.timestamp('given_up_at', { useTz: true });
    t.text('last_error');
  });
  await knex.raw('create index backchannel_outbox_due on backchannel_outbox (next_attempt_at, id) where delivered_at is null and given_up_at is null');
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('backchannel_outbox');
}
