import Router from '@koa/router';
import type { Database } from '../db/connect.ts';

/** /healthz: the process answers. /readyz: the database answers too, within a second. */
export function healthRoutes(db: Database): Router {
  const router = new Router();
  router.get('/healthz', (ctx) => {
    ctx.body = { status: 'ok' };
  });
  router.get('/readyz', async (ctx) => {
    try {
      await Promise.race([db.raw('select 1'), new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), 1000).unref())]);
      ctx.body = { status: 'ready' };
    } catch {
      ctx.status = 503;
      ctx.body = { status: 'unavailable', detail: 'database unreachable' };
    }
  });
  return router;
}
