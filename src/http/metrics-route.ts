import { createHash, timingSafeEqual } from 'node:crypto';
import type { Middleware } from 'koa';
import type { Metrics } from '../metrics.ts';

const digest = (text: string) => createHash('sha256').update(text).digest();

/**
 * Whether the Authorization header carries the token. Both sides are hashed first, so the comparison
 * takes the same time whatever the length or content sent (timingSafeEqual needs equal lengths).
 */
export function bearerMatches(header: string, token: string): boolean {
  const m = /^Bearer (\S+)$/i.exec(header);
  return timingSafeEqual(digest(m ? m[1]! : ''), digest(token)) && m !== null;
}

/** GET /metrics: Prometheus text format; with TESSERA_METRICS_TOKEN set, only for `Authorization: Bearer <token>`. */
export function metricsRoute(metrics: Metrics, token?: string): Middleware {
  return async (ctx, next) => {
    if (ctx.path !== '/metrics' || ctx.method !== 'GET') return next();
    ctx.set('cache-control', 'no-store');
    if (token !== undefined && !bearerMatches(ctx.get('authorization'), token)) {
      ctx.status = 401;
      ctx.set('www-authenticate', 'Bearer realm="tessera-metrics"');
      ctx.type = 'text/plain';
      ctx.body = 'send the metrics token as a bearer token\n';
      return;
    }
    ctx.type = 'text/plain; version=0.0.4';
    ctx.body = metrics.registry.render();
  };
}
