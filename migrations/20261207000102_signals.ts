import type { Knex } from 'knex';

// Shared Signals (issue 14): a receiver's stream (one per client), and the outbox its events wait in.
// An event is written to the outbox in the transaction of the change that caused it, one row per
// stream that should hear it; delivery claims rows with FOR UPDATE SKIP LOCKED and a lease, so
// instances sharing the database deliver each row once, and a crash mid-delivery only delays it.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('ssf_streams', (t) => {
    t.text('stream_id').primary();
    t.text('client_id').notNullable().unique().references('client_id').inTable('clients').onDelete('CASCADE');
    t.text('delivery_method').notNullable();
    t.text('endpoint_url').notNullable();
    // Sent as the Authorization header of each push (RFC 8935 section 2), when the receiver asks for one.
    t.text('authorization_header');
    t.jsonb('events_requested').notNullable().defaultTo('[]');
    t.text('description');
    t.text('status').notNullable().defaultTo('enabled');
    t.text('status_reason');
    // Deliveries that failed in a row; reset by a success or by enabling the stream again.
    t.integer('failures').notNullable().defaultTo(0);
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.raw("alter table ssf_streams add constraint ssf_streams_status check (status in ('enabled', 'paused', 'disabled'))");

  await knex.schema.createTable('ssf_outbox', (t) => {
    t.bigIncrements('id').primary();
    t.text('jti').notNullable().unique();
    t.text('stream_id').notNullable().references('stream_id').inTable('ssf_streams').onDelete('CASCADE');
    t.text('event_type').notNullable();
    // The subject (RFC 9493) and the event's members, as the SET will carry them.
    t.jsonb('subject').notNullable();
    t.jsonb('event').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.integer('attempts').notNullable().defaultTo(0);
    t.timestamp('next_attempt_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    // While set and in the future, an instance is delivering the row.
    t.timestamp('leased_until', { useTz: true });
    t.timestamp('delivered_at', { useTz: true });
    t.text('last_error');
  });
  await knex.raw('create index ssf_outbox_due on ssf_outbox (next_attempt_at, id) where delivered_at is null');
  await knex.raw('create index ssf_outbox_stream on ssf_outbox (stream_id) where delivered_at is null');
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('ssf_outbox');
  await knex.schema.dropTableIfExists('ssf_streams');
}
