import type { Configuration, KoaContextWithOIDC } from 'oidc-provider';
import { errorPage, loggedOutPage, logoutPage } from '../interactions/views.ts';
import type { Brand } from '../interactions/brand.ts';
import { pageContext } from '../interactions/page-context.ts';

/** The language of a page oidc-provider writes: the request's ui_locales, else Accept-Language. */
const pageOf = (brand: Brand, ctx: KoaContextWithOIDC) =>
  pageContext(brand, { uiLocales: (ctx.oidc?.params as Record<string, unknown> | undefined)?.ui_locales ?? ctx.query?.ui_locales, acceptLanguage: ctx.get('accept-language') });

/** The provider's own HTML (errors, logout), in the same look and language as the sign-in pages. */
export function providerPages(brand: Brand) {
  const renderError: NonNullable<Configuration['renderError']> = async (ctx, out) => {
    const p = pageOf(brand, ctx);
    ctx.type = 'html';
    const details: Array<[string, string]> = [[p.t.detailError, String(out.error)]];
    if (out.error_description) details.push([p.t.detailDescription, String(out.error_description)]);
    ctx.body = errorPage(p, p.t.errorTitle, p.t.errorMessage, details);
  };

  const logoutSource = async (ctx: KoaContextWithOIDC, form: string) => {
    ctx.type = 'html';
    ctx.body = logoutPage(pageOf(brand, ctx), form, ctx.oidc.client?.clientName);
  };

  const postLogoutSuccessSource = async (ctx: KoaContextWithOIDC) => {
    ctx.type = 'html';
    ctx.body = loggedOutPage(pageOf(brand, ctx), ctx.oidc.client?.clientName);
  };
  return { renderError, logoutSource, postLogoutSuccessSource };
}
