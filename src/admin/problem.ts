import type { Context, Middleware } from 'koa';
import { ZodError } from 'zod';
import { Conflict, NotFound } from '../errors.ts';
import { BodyError } from '../http/form.ts';
import { DATABASE_UNAVAILABLE, RETRY_AFTER_S, isDatabaseUnavailable } from '../db/unavailable.ts';

/** An RFC 9457 problem the admin API answers with. */
export class Problem extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail?: string,
    readonly errors?: Array<{ path: string; message: string }>,
    readonly headers: Record<string, string> = {},
  ) {
    super(detail ?? title);
  }
}

export function sendProblem(ctx: Context, p: Problem) {
  ctx.status = p.status;
  for (const [k, v] of Object.entries(p.headers)) ctx.set(k, v);
  ctx.type = 'application/problem+json';
  ctx.body = { type: 'about:blank', status: p.status, title: p.title, ...(p.detail ? { detail: p.detail } : {}), ...(p.errors ? { errors: p.errors } : {}) };
}

/** Every failure of an admin request becomes problem+json: an unreachable database a 503, unexpected ones a 500 with the request id only. */
export function problems(): Middleware {
  return async (ctx, next) => {
    try {
      await next();
    } catch (err) {
      if (err instanceof Problem) return sendProblem(ctx, err);
      if (err instanceof ZodError) {
        const errors = err.issues.map((i) => ({ path: '/' + i.path.map(String).join('/'), message: i.message }));
        return sendProblem(ctx, new Problem(422, 'Invalid body', 'the request body does not match the schema', errors));
      }
      if (err instanceof NotFound) return sendProblem(ctx, new Problem(404, 'Not found', err.message));
      if (err instanceof Conflict) return sendProblem(ctx, new Problem(409, 'Conflict', err.message));
      if (err instanceof BodyError) return sendProblem(ctx, new Problem(err.status, err.status === 413 ? 'Body too large' : 'Unsupported body', err.message));
      if (isDatabaseUnavailable(err)) {
        ctx.state.log.warn('database unavailable', { err: (err as Error).message });
        return sendProblem(ctx, new Problem(503, 'Service unavailable', DATABASE_UNAVAILABLE, undefined, { 'retry-after': String(RETRY_AFTER_S) }));
      }
      ctx.state.log.error('admin request failed', { err: (err as Error).message, stack: (err as Error).stack });
      sendProblem(ctx, new Problem(500, 'Server error', `request id ${ctx.state.requestId}`));
    }
  };
}
