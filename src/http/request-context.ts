import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { Middleware } from 'koa';
import type { Logger } from '../log.ts';

const VALID_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Gives every request an id (kept from `x-request-id` when it looks sane), echoes it back,
 * and writes one access-log line. Only the path is logged: query strings carry codes and tokens.
 */
export function requestContext(log: Logger): Middleware {
  return async (ctx, next) => {
    const incoming = ctx.get('x-request-id');
    const requestId = VALID_ID.test(incoming) ? incoming : randomUUID();
    ctx.state.requestId = requestId;
    ctx.state.log = log.child({ request_id: requestId });
    ctx.set('x-request-id', requestId);
    const started = performance.now();
    try {
      await next();
    } finally {
      const status = ctx.respond === false ? ctx.res.statusCode : ctx.status;
      ctx.state.log.info('request', { method: ctx.method, path: ctx.path, status, ms: Math.round((performance.now() - started) * 10) / 10 });
    }
  };
}

/**
 * The request id for code that runs under oidc-provider's own Koa context (a different ctx, the same
 * response): read back from the response header set above, so its log lines carry it too.
 */
export function requestIdOf(res: ServerResponse | undefined): string | undefined {
  const id = res?.getHeader('x-request-id');
  return typeof id === 'string' ? id : undefined;
}
