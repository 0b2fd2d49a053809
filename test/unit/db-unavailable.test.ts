import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isDatabaseUnavailable } from '../../src/db/unavailable.ts';

const withCode = (code: string, message = 'x') => Object.assign(new Error(message), { code });

test('connection failures count as the database being unavailable', () => {
  assert.ok(isDatabaseUnavailable(withCode('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:5432')));
  assert.ok(isDatabaseUnavailable(withCode('ECONNRESET')));
  assert.ok(isDatabaseUnavailable(withCode('57P01', 'terminating connection due to administrator command')));
  assert.ok(isDatabaseUnavailable(withCode('57P03', 'the database system is starting up')));
  assert.ok(isDatabaseUnavailable(withCode('08006')));
  assert.ok(isDatabaseUnavailable(Object.assign(new Error('Knex: Timeout acquiring a connection. The pool is probably full.'), { name: 'KnexTimeoutError' })));
  assert.ok(isDatabaseUnavailable(new Error('Connection terminated unexpectedly')));
  assert.ok(isDatabaseUnavailable(new Error('Connection terminated due to connection timeout')));
  assert.ok(isDatabaseUnavailable(new AggregateError([withCode('ECONNREFUSED'), withCode('ECONNREFUSED')], '')));
  assert.ok(isDatabaseUnavailable(new Error('wrapped', { cause: withCode('ECONNREFUSED') })));
});

test('a statement past its deadline counts too: statement_timeout (57014), pg query_timeout, pg connect timeout, as knex words them', () => {
  assert.ok(isDatabaseUnavailable(withCode('57014', 'select 1 - canceling statement due to statement timeout')));
  assert.ok(isDatabaseUnavailable(new Error('insert into "oidc_payloads" ("id") values ($1) - Query read timeout')));
  assert.ok(isDatabaseUnavailable(new Error('Query read timeout')));
  assert.ok(isDatabaseUnavailable(new Error('timeout expired')));
  assert.equal(isDatabaseUnavailable(new Error('select 1 - the session timeout expired for user x')), false, 'only the driver message itself');
});

test('query errors, bugs and non-errors do not', () => {
  assert.equal(isDatabaseUnavailable(withCode('23505', 'duplicate key value violates unique constraint')), false);
  assert.equal(isDatabaseUnavailable(withCode('42P01', 'relation "nope" does not exist')), false);
  assert.equal(isDatabaseUnavailable(new TypeError("Cannot read properties of undefined (reading 'x')")), false);
  assert.equal(isDatabaseUnavailable(undefined), false);
  assert.equal(isDatabaseUnavailable('ECONNREFUSED'), false);
});
