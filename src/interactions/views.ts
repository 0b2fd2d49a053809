import { fill, html, page, SafeHtml } from './html.ts';
import type { PageContext } from './page-context.ts';
import { appLinks, appLogo, appName, type ClientView } from './client-view.ts';

/** Every interaction page lets the person refuse: the app then gets access_denied. */
export function abortForm(uid: string, csrf: string, label: string): SafeHtml {
  return html`<form method="post" action="/interaction/${uid}/abort">
  <input type="hidden" name="csrf" value="${csrf}">
  <button type="submit" class="secondary">${label}</button>
</form>`;
}

/** The application's logo and the page's heading, then one line naming the application. */
export function heading(p: PageContext, client: ClientView, title: string, lead: string): SafeHtml {
  return html`<div class="app">${appLogo(p, client)}<h1>${title}</h1></div>
<p class="lead">${fill(lead, { app: appName(client) })}</p>`;
}

export type LoginView = { uid: string; csrf: string; client: ClientView; username?: string; error?: string; /** More ways to sign in, below the password form (src/signin/: a passkey). */ more?: SafeHtml };

/** After a failed attempt (or with a login_hint) the username is filled in and the cursor waits in the password field. */
export function loginPage(p: PageContext, v: LoginView): string {
  const { t } = p;
  const passwordFirst = Boolean(v.username);
  return page(
    p,
    t.signInTitle,
    html`${heading(p, v.client, t.signInTitle, t.signInLead)}
${v.error ? html`<p class="error" role="alert">${v.error}</p>` : ''}
<form method="post" action="/interaction/${v.uid}/login" autocomplete="on">
  <input type="hidden" name="csrf" value="${v.csrf}">
  <label for="username">${t.username}</label>
  <input id="username" name="username" type="text" autocomplete="username" autocapitalize="none" spellcheck="false" required ${passwordFirst ? '' : new SafeHtml('autofocus ')}value="${v.username ?? ''}">
  <label for="password">${t.password}</label>
  <input id="password" name="password" type="password" autocomplete="current-password" required ${passwordFirst ? new SafeHtml('autofocus') : ''}>
  <button type="submit">${t.signInButton}</button>
</form>
${v.more ?? ''}
${abortForm(v.uid, v.csrf, t.cancel)}
${appLinks(p, v.client)}`,
  );
}

export type ConsentView = { uid: string; csrf: string; client: ClientView; user: string; scopes: string[] };

export function consentPage(p: PageContext, v: ConsentView): string {
  const { t } = p;
  return page(
    p,
    t.consentTitle,
    html`${heading(p, v.client, t.consentHeading, t.consentLead)}
<ul class="scopes">${v.scopes.map((s) => html`<li>${s}</li>`)}</ul>
<div class="who"><span>${fill(t.signedInAs, { user: html`<strong class="user">${v.user}</strong>` })}</span>
<form method="post" action="/interaction/${v.uid}/switch-user">
  <input type="hidden" name="csrf" value="${v.csrf}">
  <button type="submit" class="link">${t.notYou}</button>
</form></div>
<form method="post" action="/interaction/${v.uid}/confirm">
  <input type="hidden" name="csrf" value="${v.csrf}">
  <button type="submit">${t.allow}</button>
</form>
${abortForm(v.uid, v.csrf, t.deny)}
${appLinks(p, v.client)}`,
  );
}

export type OrganizationChoice = { alias: string; name: string; roles: string[] };
export type OrganizationView = { uid: string; csrf: string; client: ClientView; choices: OrganizationChoice[] };

export function organizationPage(p: PageContext, v: OrganizationView): string {
  const { t } = p;
  return page(
    p,
    t.organizationTitle,
    html`${heading(p, v.client, t.organizationTitle, t.organizationLead)}
<form method="post" action="/interaction/${v.uid}/organization">
  <input type="hidden" name="csrf" value="${v.csrf}">
  <fieldset>
    <legend>${t.organizationsLegend}</legend>
    ${v.choices.map(
      (c, i) => html`<div class="choice"><input type="radio" id="org-${c.alias}" name="organization" value="${c.alias}" ${i === 0 ? new SafeHtml('checked') : ''} required>
    <label for="org-${c.alias}">${c.name}${c.roles.length ? html` <span class="roles">(${c.roles.join(t.listSeparator)})</span>` : ''}</label></div>`,
    )}
  </fieldset>
  <button type="submit">${t.continueButton}</button>
</form>
${abortForm(v.uid, v.csrf, t.cancel)}
${appLinks(p, v.client)}`,
  );
}

export function errorPage(p: PageContext, title: string, message: string, details: Array<[string, string]> = []): string {
  return page(
    p,
    title,
    html`<h1>${title}</h1>
<p role="alert">${message}</p>
${details.length ? html`<dl>${details.map(([k, v]) => html`<dt>${k}</dt><dd>${v}</dd>`)}</dl>` : ''}`,
  );
}

export function logoutPage(p: PageContext, form: string, clientName?: string): string {
  const { t } = p;
  return page(
    p,
    t.signOutTitle,
    html`<h1>${t.signOutHeading}</h1>
<p class="lead">${clientName ? fill(t.signOutAsk, { app: html`<strong>${clientName}</strong>` }) : t.signOutQuestion}</p>
${new SafeHtml(form)}
<button type="submit" form="op.logoutForm" value="yes" name="logout">${t.signOutYes}</button>
<button type="submit" form="op.logoutForm" class="secondary">${t.signOutNo}</button>`,
  );
}

export function loggedOutPage(p: PageContext, clientName?: string): string {
  const { t } = p;
  return page(p, t.signedOutTitle, html`<h1>${t.signedOutTitle}</h1><p>${clientName ? fill(t.signedOutOf, { app: clientName }) : t.signedOutMessage}</p>`);
}
