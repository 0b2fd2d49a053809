import { DEFAULT_LOCALE, SUPPORTED_LOCALES, type Locale } from './index.ts';

/** A supported language for a BCP 47 tag: `fr`, `fr-CA` and `FR` are French; anything else none. */
function supported(tag: string): Locale | undefined {
  const primary = tag.trim().toLowerCase().split('-')[0] ?? '';
  return (SUPPORTED_LOCALES as string[]).includes(primary) ? (primary as Locale) : undefined;
}

/** `Accept-Language` ranges in order of preference: highest q first, ties in the order sent; q=0 is "not this one". */
export function acceptedLanguages(header: string | undefined): string[] {
  if (!header) return [];
  const ranges = header.split(',').flatMap((part, index) => {
    const [tag = '', ...params] = part.split(';').map((p) => p.trim());
    if (!tag) return [];
    const qParam = params.find((p) => /^q=/i.test(p));
    const q = qParam === undefined ? 1 : Number(qParam.slice(2));
    if (!Number.isFinite(q) || q <= 0 || q > 1) return [];
    return [{ tag, q, index }];
  });
  return ranges.sort((a, b) => b.q - a.q || a.index - b.index).map((r) => r.tag);
}

/**
 * The language of a page: the first supported one of the request's `ui_locales` (space-separated,
 * in the app's order of preference), else the best supported one the browser accepts, else English.
 */
export function negotiateLocale(uiLocales: string | undefined, acceptLanguage: string | undefined): Locale {
  for (const tag of (uiLocales ?? '').split(' ').filter(Boolean)) {
    const found = supported(tag);
    if (found) return found;
  }
  for (const tag of acceptedLanguages(acceptLanguage)) {
    const found = tag === '*' ? undefined : supported(tag);
    if (found) return found;
  }
  return DEFAULT_LOCALE;
}
