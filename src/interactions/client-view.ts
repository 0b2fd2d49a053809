import { html, fill, type SafeHtml } from './html.ts';
import type { PageContext } from './page-context.ts';

/** The application as the pages show it (client_name, logo_uri, client_uri, policy_uri, tos_uri). */
export type ClientView = { name: string; logoUri?: string; clientUri?: string; policyUri?: string; tosUri?: string };

/** The application's name in bold, a link to its home page when it has one. */
export function appName(c: ClientView): SafeHtml {
  return c.clientUri ? html`<a href="${c.clientUri}" class="app-name" target="_blank" rel="noopener noreferrer">${c.name}</a>` : html`<strong class="app-name">${c.name}</strong>`;
}

/** The application's logo, when it has one, above the page's heading. */
export function appLogo(p: PageContext, c: ClientView): SafeHtml | string {
  return c.logoUri ? html`<img src="${c.logoUri}" alt="${fill(p.t.appLogoAlt, { app: c.name })}" class="app-logo">` : '';
}

/** Its privacy policy and terms, when it has them, at the foot of the card. */
export function appLinks(p: PageContext, c: ClientView): SafeHtml | string {
  const links = [
    c.policyUri ? html`<a href="${c.policyUri}" target="_blank" rel="noopener noreferrer">${p.t.privacyPolicy}</a>` : undefined,
    c.tosUri ? html`<a href="${c.tosUri}" target="_blank" rel="noopener noreferrer">${p.t.termsOfService}</a>` : undefined,
  ].filter((l) => l !== undefined);
  return links.length ? html`<nav class="app-links">${links}</nav>` : '';
}
