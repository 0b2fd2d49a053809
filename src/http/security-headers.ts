import type { Middleware } from 'koa';

// Our HTML pages load only our stylesheet; nothing may frame them (clickjacking on the login form).
const CSP = "default-src 'none'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'";

export function securityHeaders(): Middleware {
  return async (ctx, next) => {
    await next();
    const type = ctx.respond === false ? String(ctx.res.getHeader('content-type') ?? '') : ctx.response.type;
    if (!type.includes('html') || ctx.res.headersSent) return;
    ctx.set('content-security-policy', CSP);
    ctx.set('x-frame-options', 'DENY');
    ctx.set('x-content-type-options', 'nosniff');
    ctx.set('referrer-policy', 'no-referrer');
  };
}
