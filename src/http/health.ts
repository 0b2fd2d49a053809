import type { Middleware } from 'koa';
import type { Database } from '../db/connect.ts';

/** GET /healthz: the process answers. GET /readyz: the database answers too, within a second. */
export function healthRoutes(db: Database): Middleware {
  return async (ctx, next) => {
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') return next();
    if (ctx.path === '/healthz') {
      ctx.body = { status: 'ok' };
    } else if (ctx.path === '/readyz') {
      try {
        await Promise.race([db.raw('select 1'), new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), 1000).unref())]);
        ctx.body = { status: 'ready' };
      } catch {
        ctx.status = 503;
        ctx.body = { status: 'unavailable', detail: 'database unreachable' };
      }
    } else {
      return next();
    }
  };
}
