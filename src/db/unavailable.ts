/**
 * Telling "the database is not there" apart from every other failure, so callers can answer
 * 503 (retry later) instead of 500 (our bug). Pure: it looks only at the error value.
 */

/** What a client is told while the database is unreachable. */
export const DATABASE_UNAVAILABLE = 'the database is unavailable; retry shortly';

/** Seconds a client should wait before retrying (the `Retry-After` header). */
export const RETRY_AFTER_S = 5;

// Socket-level failures while connecting or mid-query.
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

// PostgreSQL SQLSTATEs: class 08 (connection exception), 57P01-57P03 (shutdown, crash, starting up),
// 53300 (too many connections), 57014 (statement cancelled: past statement_timeout).
const SQLSTATE = /^(08...|57P0[123]|57014|53300)$/;

// Messages of `pg` and knex that carry no code (pg: "timeout expired" while connecting, "Query read
// timeout" past query_timeout; knex puts the SQL and " - " before a driver's message).
const MESSAGES = [/(^| - )timeout expired$/, /(^| - )Query read timeout$/, /Connection terminated/i, /Knex: Timeout acquiring a connection/i, /connection timeout/i, /Client has encountered a connection error/i, /Connection ended unexpectedly/i, /the database system is (starting up|shutting down)/i];

export function isDatabaseUnavailable(err: unknown, depth = 0): boolean {
  if (depth > 3 || typeof err !== 'object' || err === null) return false;
  const { code, name, message, cause, errors } = err as { code?: unknown; name?: unknown; message?: unknown; cause?: unknown; errors?: unknown };
  if (typeof code === 'string' && (NETWORK_CODES.has(code) || SQLSTATE.test(code))) return true;
  if (name === 'KnexTimeoutError') return true;
  if (typeof message === 'string' && MESSAGES.some((m) => m.test(message))) return true;
  // AggregateError (a host resolving to several addresses) and wrapped causes.
  if (Array.isArray(errors) && errors.some((e) => isDatabaseUnavailable(e, depth + 1))) return true;
  return isDatabaseUnavailable(cause, depth + 1);
}
