/** Errors the library raises for callers (admin API, CLI) to turn into their own answers. */
export class NotFound extends Error {
  readonly status = 404;
}
export class Conflict extends Error {
  readonly status = 409;
}

/** A setting that cannot be used; the message names the variable and says what to do. */
export class SettingsError extends Error {}

/** PostgreSQL's unique_violation, from either driver. */
export function isUniqueViolation(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: string }).code === '23505';
}
