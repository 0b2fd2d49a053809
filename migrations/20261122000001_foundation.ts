import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('users', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.text('username').notNullable();
    t.text('password_hash');
    t.text('email');
    t.boolean('email_verified').notNullable().defaultTo(false);
    t.text('name');
    t.text('given_name');
    t.text('family_name');
    t.text('external_id').unique();
    t.boolean('enabled').notNullable().defaultTo(true);
    t.jsonb('claims').notNullable().defaultTo('{}');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  // Usernames and emails are matched without regard to case, as people type them.
  await knex.raw('create unique index users_username_lower on users (lower(username))');
  await knex.raw('create index users_email_lower on users (lower(email))');

  await knex.schema.createTable('resource_servers', (t) => {
    t.text('identifier').primary();
    t.text('name');
    t.jsonb('scopes').notNullable().defaultTo('[]');
    t.text('access_token_format').notNullable().defaultTo('jwt');
    t.integer('access_token_ttl').notNullable().defaultTo(3600);
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.raw("alter table resource_servers add constraint resource_servers_format check (access_token_format in ('jwt', 'opaque'))");

  await knex.schema.createTable('clients', (t) => {
    t.text('client_id').primary();
    t.text('client_secret');
    t.text('client_name').notNullable();
    t.jsonb('redirect_uris').notNullable().defaultTo('[]');
    t.jsonb('post_logout_redirect_uris').notNullable().defaultTo('[]');
    t.jsonb('grant_types').notNullable();
    t.text('token_endpoint_auth_method').notNullable();
    t.text('scope').notNullable();
    t.text('default_resource');
    t.jsonb('allowed_resources').notNullable().defaultTo('[]');
    t.jsonb('payload_hook');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });

  await knex.schema.createTable('organizations', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.text('alias').notNullable().unique();
    t.text('name').notNullable();
    t.jsonb('attributes').notNullable().defaultTo('{}');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });

  await knex.schema.createTable('memberships', (t) => {
    t.uuid('organization_id').notNullable().references('organizations.id').onDelete('CASCADE');
    t.uuid('user_id').notNullable().references('users.id').onDelete('CASCADE');
    t.jsonb('roles').notNullable().defaultTo('[]');
    t.jsonb('attributes').notNullable().defaultTo('{}');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.primary(['organization_id', 'user_id']);
    t.index(['user_id']);
  });

  // Every oidc-provider model (sessions, grants, codes, tokens, interactions...) in one table.
  await knex.schema.createTable('oidc_payloads', (t) => {
    t.text('model').notNullable();
    t.text('id').notNullable();
    t.jsonb('payload').notNullable();
    t.text('grant_id');
    t.text('user_code');
    t.text('uid');
    t.timestamp('expires_at', { useTz: true });
    t.timestamp('consumed_at', { useTz: true });
    t.primary(['model', 'id']);
  });
  await knex.raw('create index oidc_payloads_grant_id on oidc_payloads (grant_id) where grant_id is not null');
  await knex.raw('create index oidc_payloads_uid on oidc_payloads (model, uid) where uid is not null');
  await knex.raw('create index oidc_payloads_user_code on oidc_payloads (model, user_code) where user_code is not null');
  await knex.raw('create index oidc_payloads_expires_at on oidc_payloads (expires_at) where expires_at is not null');

  await knex.schema.createTable('signing_keys', (t) => {
    t.text('kid').primary();
    t.text('alg').notNullable();
    t.jsonb('private_jwk').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });

  await knex.schema.createTable('provider_secrets', (t) => {
    t.text('name').primary();
    t.jsonb('value').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
}

export async function down(knex: Knex): Promise<void> {
  for (const table of ['provider_secrets', 'signing_keys', 'oidc_payloads', 'memberships', 'organizations', 'clients', 'resource_servers', 'users']) {
    await knex.schema.dropTableIfExists(table);
  }
}
