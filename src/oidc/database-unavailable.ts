import type Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { Logger } from '../log.ts';
import { DATABASE_UNAVAILABLE, RETRY_AFTER_S, isDatabaseUnavailable } from '../db/unavailable.ts';
import { errorPage } from '../interactions/views.ts';
import type { Brand } from '../interactions/brand.ts';
import { requestPageContext } from '../interactions/page-context.ts';
import { requestIdOf } from '../http/request-context.ts';

/**
 * oidc-provider catches every error thrown inside its own stack (adapter, findAccount, claims) and
 * answers `server_error` 500. When the cause is the database being unreachable, the client should
 * retry instead: the provider's `server_error` event marks the request, and a middleware around
 * all its routes (and around our own provider middlewares, whose errors it catches itself) turns
 * the answer into 503 `temporarily_unavailable` with `Retry-After`. Registered before any other
 * `provider.use`, so it wraps them all.
 */
export function answerDatabaseUnavailable(provider: Provider, log: Logger, brand: Brand): void {
  provider.on('server_error', (ctx: KoaContextWithOIDC, err: unknown) => {
    if (isDatabaseUnavailable(err)) ctx.state.databaseUnavailable = true;
  });
  provider.use(async (ctx, next) => {
    try {
      await next();
    } catch (err) {
      if (!isDatabaseUnavailable(err)) throw err;
      log.warn('database unavailable', { request_id: requestIdOf(ctx.res), path: ctx.path, err: (err as Error).message });
      ctx.state.databaseUnavailable = true;
      ctx.status = 500;
    }
    // Only a 500 is rewritten; an error the provider already sent back to the client by redirect stays as is.
    if (!ctx.state.databaseUnavailable || ctx.status !== 500) return;
    ctx.status = 503;
    ctx.set('retry-after', String(RETRY_AFTER_S));
    ctx.set('cache-control', 'no-store');
    // The same choice as oidc-provider's own error handler: a page for browsers, JSON for clients.
    if (ctx.accepts('json', 'html') === 'html') {
      ctx.type = 'html';
      const p = requestPageContext(brand, ctx);
      ctx.body = errorPage(p, p.t.unavailableTitle, p.t.unavailableMessage, [[p.t.detailError, 'temporarily_unavailable']]);
    } else {
      ctx.body = { error: 'temporarily_unavailable', error_description: DATABASE_UNAVAILABLE };
    }
  });
}
