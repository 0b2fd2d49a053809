import type { Context } from 'koa';
import { readBody } from '../http/form.ts';
import { Problem } from './problem.ts';
import { MAX_JSON_DEPTH, findUnstorableText, nestedDeeperThan } from '../model/json.ts';

export const MAX_ADMIN_BODY = 1024 * 1024;

/**
 * A JSON request body of at most 1 MiB, nested at most MAX_JSON_DEPTH deep, with text PostgreSQL
 * can store as given; anything else is a 4xx before any data is touched.
 */
export async function readJson(ctx: Context): Promise<unknown> {
  if (!ctx.is('application/json')) throw new Problem(415, 'Unsupported media type', 'send application/json');
  const text = await readBody(ctx, MAX_ADMIN_BODY);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new Problem(400, 'Malformed JSON', 'the request body is not valid JSON');
  }
  if (value !== null && typeof value === 'object' && nestedDeeperThan(value, MAX_JSON_DEPTH)) {
    throw new Problem(400, 'Nested too deep', `JSON values may nest objects and arrays at most ${MAX_JSON_DEPTH} levels deep`);
  }
  const unstorable = findUnstorableText(value);
  if (unstorable) throw new Problem(400, 'Invalid text', `a string in the body ${unstorable}`);
  return value;
}
