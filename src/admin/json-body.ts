import type { Context } from 'koa';
import { readBody } from '../http/form.ts';
import { Problem } from './problem.ts';

export const MAX_ADMIN_BODY = 1024 * 1024;

/** A JSON request body of at most 1 MiB; anything else is a 4xx before any data is touched. */
export async function readJson(ctx: Context): Promise<unknown> {
  if (!ctx.is('application/json')) throw new Problem(415, 'Unsupported media type', 'send application/json');
  const text = await readBody(ctx, MAX_ADMIN_BODY);
  try {
    return JSON.parse(text);
  } catch {
    throw new Problem(400, 'Malformed JSON', 'the request body is not valid JSON');
  }
}
