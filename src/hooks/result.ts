/** What one attempt to call a hook produced, before the runner applies cache, breaker and policy. */
import type { HookClaims } from './input.ts';

export type CallResult = { ok: true; claims: HookClaims | undefined } | { ok: false; cause: string; detail?: string };

export const failed = (cause: string, detail?: string): CallResult => (detail === undefined ? { ok: false, cause } : { ok: false, cause, detail });

/** A plain object: `{}` or `Object.create(null)`, not an array, class instance, string or null. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * An answer as claims: undefined/null is "no claims", a plain object whose JSON form is still a plain
 * object is claims (normalised through JSON, so a Date becomes a string and undefined members go);
 * anything else is a failure.
 */
export function toClaims(value: unknown): CallResult {
  if (value === undefined || value === null) return { ok: true, claims: undefined };
  if (!isPlainObject(value)) return failed('not_an_object', Array.isArray(value) ? 'array' : typeof value);
  let json: string;
  try {
    json = JSON.stringify(value);
  } catch (err) {
    return failed('not_serializable', (err as Error).message.slice(0, 200));
  }
  const normalised: unknown = JSON.parse(json);
  if (!isPlainObject(normalised)) return failed('not_an_object', 'toJSON');
  return { ok: true, claims: normalised };
}
