import type { PageContext } from './page-context.ts';

/** Escapes text for HTML element content and double-quoted attributes. */
export function escapeHtml(value: unknown): string {
  return String(value ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** A tagged template that escapes every interpolation unless it is already `SafeHtml`. */
export class SafeHtml {
  constructor(readonly value: string) {}
  toString() {
    return this.value;
  }
}

export function html(strings: TemplateStringsArray, ...values: unknown[]): SafeHtml {
  let out = strings[0] ?? '';
  values.forEach((v, i) => {
    const part = Array.isArray(v) ? v.map((x) => (x instanceof SafeHtml ? x.value : escapeHtml(x))).join('') : v instanceof SafeHtml ? v.value : escapeHtml(v);
    out += part + (strings[i + 1] ?? '');
  });
  return new SafeHtml(out);
}

/**
 * A translated text with its `{name}` places filled: the text is escaped, and so is each value
 * unless it is `SafeHtml` (a `<strong>` name built with `html`). An unknown place stays as written.
 */
export function fill(text: string, values: Record<string, unknown>): SafeHtml {
  const parts = text.split(/\{(\w+)\}/);
  return new SafeHtml(
    parts
      .map((part, i) => {
        if (i % 2 === 0) return escapeHtml(part);
        if (!(part in values)) return escapeHtml(`{${part}}`);
        const v = values[part];
        return v instanceof SafeHtml ? v.value : escapeHtml(v);
      })
      .join(''),
  );
}

/** A whole page: the deployment's name (and logo) above the card, its issuer host below. */
export function page(p: PageContext, title: string, body: SafeHtml): string {
  const { brand, t } = p;
  return html`<!doctype html>
<html lang="${p.lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · ${brand.name}</title>
<link rel="stylesheet" href="/assets/tessera.css">
</head>
<body>
<header class="brand">${brand.logoUrl ? html`<img src="${brand.logoUrl}" alt="" class="brand-logo">` : ''}<span class="brand-name">${brand.name}</span></header>
<main class="card">
${body}
</main>
<footer class="origin">${fill(t.servedBy, { brand: brand.name, host: html`<strong class="host">${brand.issuerHost}</strong>` })}</footer>
</body>
</html>`.value;
}
