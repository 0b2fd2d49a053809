import Koa from 'koa';
import type Router from '@koa/router';
import type Provider from 'oidc-provider';
import type { Database } from '../db/connect.ts';
import type { Logger } from '../log.ts';
import { requestContext } from './request-context.ts';
import { healthRoutes } from './health.ts';
import { securityHeaders } from './security-headers.ts';
import { refuseUnstorableParams } from './unstorable-params.ts';
import { BodyError } from './form.ts';
import { interactionRoutes } from '../interactions/routes.ts';
import { errorPage } from '../interactions/views.ts';
import { stylesheet } from '../interactions/stylesheet.ts';
import { PASSKEY_SCRIPT, signInPages, type Mailer } from '../signin/index.ts';
import type { Brand } from '../interactions/brand.ts';
import { requestPageContext } from '../interactions/page-context.ts';
import { metricsRoute } from './metrics-route.ts';
import { adminRouter, type AdminDeps } from '../admin/router.ts';
import { genericOrganizationScopesInDiscovery, organizationScopeRegistrar } from '../oidc/organization-scopes.ts';
import type { Metrics } from '../metrics.ts';
import { RETRY_AFTER_S, isDatabaseUnavailable } from '../db/unavailable.ts';
import type { LoginLimits } from '../auth/login-limits.ts';

export type AppDeps = AdminDeps & { signalsHttp: Koa.Middleware; log: Logger; metrics: Metrics; metricsToken?: string; csrfKey: string; trustProxy: boolean; loginLimits: LoginLimits; brand: Brand; mailer?: Mailer };

/** The HTTP edge: our routes first, everything else is oidc-provider's. */
export function createApp(deps: AppDeps): Koa {
  const app = new Koa();
  app.proxy = deps.trustProxy;
  // The client address is the one our proxy appended (the last X-Forwarded-For entry), not
  // whatever the client itself put first: login limits per IP must not be evaded by a forged header.
  app.maxIpsCount = 1;
  app.silent = true;
  app.use(requestContext(deps.log));
  app.use(errorBoundary(deps.brand));
  app.use(securityHeaders(deps.brand.logoUrl));
  app.use(refuseUnstorableParams(deps.brand));
  app.use(healthRoutes(deps.db));
  app.use(metricsRoute(deps.metrics, deps.metricsToken));
  const css = stylesheet(deps.brand.accent);
  app.use(async (ctx, next) => {
    if (ctx.path !== '/assets/tessera.css') return next();
    ctx.type = 'text/css';
    ctx.set('cache-control', 'public, max-age=3600');
    ctx.body = css;
  });
  app.use(async (ctx, next) => {
    if (ctx.path !== '/assets/passkey.js') return next();
    ctx.type = 'text/javascript';
    ctx.set('cache-control', 'public, max-age=3600');
    ctx.body = PASSKEY_SCRIPT;
  });
  // Second factors, password reset, email verification and /account (src/signin/, registered there).
  const signIn = signInPages({ ...deps, mailer: deps.mailer });
  app.use(underItsPrefix(interactionRoutes({ ...deps, reset: signIn.reset })));
  for (const router of signIn.routers) app.use(underItsPrefix(router));
  app.use(underItsPrefix(adminRouter(deps)));
  // Shared Signals: /.well-known/ssf-configuration and the stream management API under /ssf/ (src/signals/).
  app.use(deps.signalsHttp);
  app.use(organizationScopeRegistrar(deps.provider, deps.db, deps.brand));
  genericOrganizationScopesInDiscovery(deps.provider);
  const providerHandler = deps.provider.callback();
  app.use(async (ctx) => {
    ctx.respond = false;
    await providerHandler(ctx.req, ctx.res);
  });
  return app;
}

/**
 * Runs a router only under its prefix, spelled exactly: a token request does not pay for trying
 * every admin route, and a router never sees a path its own middleware would not match. (Routes
 * match without regard to case but a router's `use()` layers do not: `/ADMIN/v1/users` reached
 * the users route without passing the admin API's authentication and error layers.)
 */
function underItsPrefix(router: Router): Koa.Middleware {
  const prefix = router.opts.prefix;
  if (!prefix) throw new Error('underItsPrefix needs a router with a prefix');
  const routes = router.routes() as unknown as Koa.Middleware;
  return (ctx, next) => (ctx.path === prefix || ctx.path.startsWith(`${prefix}/`) ? routes(ctx, next) : next());
}

/**
 * An unreachable database becomes a 503 page to retry from; other unexpected errors a plain 500
 * with the request id. The cause goes to the log only.
 */
function errorBoundary(brand: Brand): Koa.Middleware {
  return async (ctx, next) => {
    try {
      await next();
    } catch (err) {
      if (err instanceof BodyError) {
        ctx.status = err.status;
        ctx.type = 'html';
        const p = requestPageContext(brand, ctx);
        ctx.body = errorPage(p, p.t.refusedTitle, err.message);
        return;
      }
      if (isDatabaseUnavailable(err)) {
        ctx.state.log.warn('database unavailable', { err: (err as Error).message });
        ctx.status = 503;
        ctx.set('retry-after', String(RETRY_AFTER_S));
        ctx.type = 'html';
        const p = requestPageContext(brand, ctx);
        ctx.body = errorPage(p, p.t.unavailableTitle, p.t.unavailableMessage, [[p.t.detailRequestId, ctx.state.requestId]]);
        return;
      }
      ctx.state.log.error('unhandled error', { err: (err as Error).message, stack: (err as Error).stack });
      ctx.status = 500;
      ctx.type = 'html';
      const p = requestPageContext(brand, ctx);
      ctx.body = errorPage(p, p.t.serverErrorTitle, p.t.serverErrorMessage, [[p.t.detailRequestId, ctx.state.requestId]]);
    }
  };
}
