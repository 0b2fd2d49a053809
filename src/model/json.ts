import { z } from 'zod';

/** Any JSON value; one instance, so the OpenAPI document names it once (JsonValue). */
export const JsonValue = z.json();

/**
 * How deep a JSON value may nest objects and arrays (`{"a": {"b": 1}}` is 1 deep): stored profiles
 * and claims, admin request bodies and payload-hook claims alike. Legitimate claims (Keycloak's
 * organization claim, Hasura's) nest 2 or 3 deep; the bound keeps every later step (validation,
 * PostgreSQL's jsonb, deep copies, signing, relying parties' parsers) away from deep recursion.
 */
export const MAX_JSON_DEPTH = 32;

/** Whether any member value of `object` nests deeper than `max`. Iterative: no recursion on hostile input. */
export function nestedDeeperThan(object: object, max: number): boolean {
  // An object met twice (a cycle, or shared) is walked once: cycles are left to JSON to refuse.
  const seen = new Set<object>([object]);
  const stack: Array<[unknown, number]> = Object.values(object).map((v) => [v, 0]);
  while (stack.length) {
    const [value, depth] = stack.pop()!;
    if (value === null || typeof value !== 'object' || seen.has(value)) continue;
    if (depth + 1 > max) return true;
    seen.add(value);
    for (const v of Object.values(value)) stack.push([v, depth + 1]);
  }
  return false;
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * Why PostgreSQL cannot keep a string as given: NUL (refused by text and jsonb alike) or a lone
 * surrogate (not Unicode: it would be silently replaced by U+FFFD). Undefined when it can.
 */
export function unstorableText(text: string): string | undefined {
  if (text.includes('\u0000')) return 'contains a NUL character (U+0000)';
  if (LONE_SURROGATE.test(text)) return 'contains a lone surrogate (not valid Unicode)';
  return undefined;
}

/** The first key or string value, at any depth, that `unstorableText` refuses, with its reason. Iterative. */
export function findUnstorableText(value: unknown): string | undefined {
  const stack: unknown[] = [value];
  const seen = new Set<object>();
  while (stack.length) {
    const v = stack.pop();
    if (typeof v === 'string') {
      const reason = unstorableText(v);
      if (reason) return reason;
    } else if (v !== null && typeof v === 'object' && !seen.has(v)) {
      seen.add(v);
      for (const [k, member] of Object.entries(v)) stack.push(k, member);
    }
  }
  return undefined;
}
