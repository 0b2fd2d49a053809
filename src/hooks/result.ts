/** What one attempt to call a hook produced, before the runner applies cache, breaker and policy. */
import type { HookClaims } from './input.ts';
import { MAX_JSON_DEPTH, nestedDeeperThan } from '../model/json.ts';

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
 * anything else, or claims nested deeper than MAX_JSON_DEPTH, is a failure.
 */
export function toClaims(value: unknown): CallResult {
  if (value === undefined || value === null) return { ok: true, claims: undefined };
  if (!isPlainObject(value)) return failed('not_an_object', Array.isArray(value) ? 'array' : typeof value);
  // Before JSON: encoding a value thousands deep would overflow the stack.
  if (nestedDeeperThan(value, MAX_JSON_DEPTH)) return failed('claims_too_deep', `over ${MAX_JSON_DEPTH} levels`);
  let json: string;
  try {
    json = JSON.stringify(value);
  } catch (err) {
    return failed('not_serializable', (err as Error).message.slice(0, 200));
  }
  const normalised: unknown = JSON.parse(json);
  if (!isPlainObject(normalised)) return failed('not_an_object', 'toJSON');
  if (nestedDeeperThan(normalised, MAX_JSON_DEPTH)) return failed('claims_too_deep', `over ${MAX_JSON_DEPTH} levels`);
  return { ok: true, claims: normalised };
}
