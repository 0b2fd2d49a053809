import type { Knex } from 'knex';

// Interoperability settings (SPEC 10). Clients: the algorithm of their ID tokens (and, when asked,
// signed userinfo and introspection answers), web or native, CORS origins, first-party (no consent
// page). Resource servers: the `aud` their tokens carry (a plain name is allowed, unlike the
// identifier) and the algorithm of their JWT access tokens. Existing rows keep today's behaviour.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('clients', (t) => {
    t.text('application_type').notNullable().defaultTo('web');
    t.jsonb('allowed_origins').notNullable().defaultTo('[]');
    t.boolean('first_party').notNullable().defaultTo(false);
    t.text('id_token_signed_response_alg').notNullable().defaultTo('ES256');
    t.text('userinfo_signed_response_alg');
    t.text('introspection_signed_response_alg');
  });
  await knex.raw("alter table clients add constraint clients_application_type check (application_type in ('web', 'native'))");
  await knex.schema.alterTable('resource_servers', (t) => {
    t.text('audience');
    t.text('signing_alg').notNullable().defaultTo('ES256');
  });
  await knex.raw('update resource_servers set audience = identifier');
  await knex.raw('alter table resource_servers alter column audience set not null');
  // One audience names one resource server: introspection and revocation rights follow it.
  await knex.raw('create unique index resource_servers_audience on resource_servers (audience)');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop index if exists resource_servers_audience');
  await knex.schema.alterTable('resource_servers', (t) => {
    t.dropColumn('audience');
    t.dropColumn('signing_alg');
  });
  await knex.raw('alter table clients drop constraint if exists clients_application_type');
  await knex.schema.alterTable('clients', (t) => {
    for (const c of ['application_type', 'allowed_origins', 'first_party', 'id_token_signed_response_alg', 'userinfo_signed_response_alg', 'introspection_signed_response_alg']) t.dropColumn(c);
  });
}
