import type { Middleware } from 'koa';

// Our HTML pages load only our stylesheet; nothing may frame them (clickjacking on the login form).
// `script-src 'self'` (we serve no script) is there so oidc-provider can add the hash of the one
// inline script it writes itself (form_post auto-submit): a hash, never 'unsafe-inline'. form-action
// is left open on purpose: form_post posts to the application's redirect_uri. Images come from here,
// plus the origins of the brand logo (every page) and of the application's logo (its pages only).
export function contentSecurityPolicy(imageUrls: ReadonlyArray<string | undefined> = []): string {
  const origins = [...new Set(imageUrls.flatMap((u) => (u && URL.canParse(u) ? [new URL(u).origin] : [])))];
  return `default-src 'none'; script-src 'self'; style-src 'self'; img-src ${["'self'", 'data:', ...origins].join(' ')}; frame-ancestors 'none'; base-uri 'none'`;
}

/**
 * Set before the response is built, on every response: pages oidc-provider writes itself (sign-out,
 * its errors) go out straight from its own handler, too late for anything after it. On JSON the
 * same headers are harmless, and an API answer gains nothing from being framed or sniffed either.
 */
export function securityHeaders(brandLogoUrl?: string): Middleware {
  const csp = contentSecurityPolicy([brandLogoUrl]);
  return async (ctx, next) => {
    ctx.set('content-security-policy', csp);
    ctx.set('x-frame-options', 'DENY');
    ctx.set('x-content-type-options', 'nosniff');
    ctx.set('referrer-policy', 'no-referrer');
    await next();
  };
}
