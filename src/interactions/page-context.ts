import type { Brand } from './brand.ts';
import { LOCALES, type Locale, type Messages } from './locales/index.ts';
import { negotiateLocale } from './locales/negotiate.ts';

/** What every page needs besides its own data: the language, its texts, and the deployment's brand. */
export type PageContext = { lang: Locale; t: Messages; brand: Brand };

export function pageContext(brand: Brand, request: { uiLocales?: unknown; acceptLanguage?: string }): PageContext {
  const lang = negotiateLocale(typeof request.uiLocales === 'string' ? request.uiLocales : undefined, request.acceptLanguage);
  return { lang, t: LOCALES[lang], brand };
}

/** The page context of a request outside an interaction: its `ui_locales` query parameter, else Accept-Language. */
export function requestPageContext(brand: Brand, ctx: { query: Record<string, unknown>; get(name: string): string }): PageContext {
  return pageContext(brand, { uiLocales: ctx.query.ui_locales, acceptLanguage: ctx.get('accept-language') });
}
