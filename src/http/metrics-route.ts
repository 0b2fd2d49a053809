import type { Middleware } from 'koa';
import type { Metrics } from '../metrics.ts';

/** GET /metrics: Prometheus text format. */
export function metricsRoute(metrics: Metrics): Middleware {
  return async (ctx, next) => {
    if (ctx.path !== '/metrics' || ctx.method !== 'GET') return next();
    ctx.type = 'text/plain; version=0.0.4';
    ctx.body = metrics.registry.render();
  };
}
