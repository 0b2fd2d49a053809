/**
 * Cursor paging for the admin API's lists: `?limit=` (1 to 500, 100 by default) and `?cursor=` from
 * the previous answer's `next`, a link to the following page (null on the last). The cursor is the
 * sort key of the last item sent, so a page is one indexed range read however deep it is, and rows
 * added or removed meanwhile neither repeat nor skip the others.
 */
import type { Context } from 'koa';
import { z } from 'zod';
import { Problem } from './problem.ts';
import type { Page } from '../model/page.ts';
import { unstorableText } from '../model/json.ts';

export type { Page };

export const MAX_PAGE = 500;
export const DEFAULT_PAGE = 100;

export const PageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(MAX_PAGE).default(DEFAULT_PAGE),
  cursor: z.string().max(2048).optional(),
});


const encode = (key: string) => Buffer.from(JSON.stringify({ after: key })).toString('base64url');

function decode(cursor: string): string {
  try {
    const value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { after?: unknown };
    // A hand-made cursor with a NUL or a lone surrogate would make PostgreSQL fail the comparison (a 500).
    if (typeof value.after === 'string' && !unstorableText(value.after)) return value.after;
  } catch {
    // Falls through to the problem below.
  }
  throw new Problem(400, 'Bad cursor', 'cursor is not one this server gave; start again without it');
}

/** A request's query read with `schema`; a bad value (limit=0) is a 400 naming it, as GETs have no body to be 422 about. */
export function readQuery<T extends z.ZodType>(schema: T, query: unknown): z.infer<T> {
  const parsed = schema.safeParse(query);
  if (parsed.success) return parsed.data;
  const errors = parsed.error.issues.map((i) => ({ path: '/' + i.path.map(String).join('/'), message: i.message }));
  throw new Problem(400, 'Bad query', 'a query parameter is invalid', errors);
}

/** The page a request asks for. Storage is asked for one row more than `limit`, to know if there is a next page. */
export function requestedPage(query: { limit: number; cursor?: string | undefined }): Page {
  return { limit: query.limit, after: query.cursor === undefined ? undefined : decode(query.cursor) };
}

/** The answer for a page read with `limit + 1` rows: at most `limit` items, and the link to the next page. */
export function pageAnswer<T>(ctx: Context, page: Page, rows: T[], keyOf: (row: T) => string): { items: T[]; next: string | null } {
  const items = rows.slice(0, page.limit);
  if (rows.length <= page.limit) return { items, next: null };
  const url = new URL(ctx.originalUrl, 'http://admin.invalid');
  url.searchParams.set('limit', String(page.limit));
  url.searchParams.set('cursor', encode(keyOf(items[items.length - 1]!)));
  const next = url.pathname + url.search;
  ctx.set('link', `<${next}>; rel="next"`);
  return { items, next };
}
