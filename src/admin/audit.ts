import type { Context } from 'koa';

/** One log line per admin write: who (the acting client), what, and which fields; never values of secrets. */
export function audit(ctx: Context, action: string, fields: Record<string, unknown>): void {
  ctx.state.log.info('admin write', { actor: ctx.state.admin.clientId, action, ...fields });
}
