import type { Middleware } from 'koa';
import { unstorableText } from '../model/json.ts';
import { errorPage } from '../interactions/views.ts';
import type { Brand } from '../interactions/brand.ts';
import { requestPageContext } from '../interactions/page-context.ts';

/**
 * Refuses a request whose path or query string decodes to text PostgreSQL cannot store or compare
 * (a NUL, a lone surrogate): a 400 here instead of a database error later. Bodies are checked
 * where they are read (admin JSON, the storage adapter).
 */
export function refuseUnstorableParams(brand: Brand): Middleware {
  return async (ctx, next) => {
    const problem = unstorableIn(ctx.path, ctx.querystring);
    if (!problem) return next();
    const detail = `the request ${problem}`;
    ctx.status = 400;
    if (ctx.path.startsWith('/admin/')) {
      ctx.type = 'application/problem+json';
      ctx.body = { type: 'about:blank', status: 400, title: 'Invalid text', detail };
    } else if (ctx.method === 'GET' && ctx.accepts('html', 'json') === 'html') {
      ctx.type = 'html';
      const p = requestPageContext(brand, ctx);
      ctx.body = errorPage(p, p.t.refusedTitle, p.t.errorMessage, [[p.t.detailDescription, detail]]);
    } else {
      ctx.body = { error: 'invalid_request', error_description: detail };
    }
  };
}

/** Why the decoded path or query cannot be kept, or undefined. Malformed escapes are left to the routes. */
export function unstorableIn(path: string, querystring: string): string | undefined {
  const texts: string[] = [];
  try {
    texts.push(decodeURIComponent(path));
  } catch {
    // Not ours to judge: the router answers a malformed path.
  }
  for (const [k, v] of new URLSearchParams(querystring)) texts.push(k, v);
  for (const t of texts) {
    const reason = unstorableText(t);
    if (reason) return reason;
  }
  return undefined;
}
