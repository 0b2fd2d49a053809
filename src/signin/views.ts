import { html, page, SafeHtml } from '../interactions/html.ts';
import type { PageContext } from '../interactions/page-context.ts';
import { abortForm, heading } from '../interactions/views.ts';
import { appLinks, type ClientView } from '../interactions/client-view.ts';

type Step = { uid: string; csrf: string; client: ClientView; error?: string };

const errorLine = (error?: string) => (error ? html`<p class="error" role="alert">${error}</p>` : '');

/** The second step: a code from the authenticator app, or one of the recovery codes, in one field. */
export function codePage(p: PageContext, v: Step): string {
  const { t } = p;
  return page(
    p,
    t.codeTitle,
    html`${heading(p, v.client, t.codeTitle, t.codeLead)}
${errorLine(v.error)}
<form method="post" action="/interaction/${v.uid}/code" autocomplete="off">
  <input type="hidden" name="csrf" value="${v.csrf}">
  <label for="code">${t.codeLabel}</label>
  <input id="code" name="code" type="text" autocomplete="one-time-code" autocapitalize="none" spellcheck="false" maxlength="32" required autofocus>
  <button type="submit">${t.verifyButton}</button>
</form>
${abortForm(v.uid, v.csrf, t.cancel)}
${appLinks(p, v.client)}`,
  );
}

/**
 * Enrolment during sign-in: the QR code (an SVG drawn on the server by the qrcode package, from
 * the otpauth URI only), the key for typing, and the first code, which confirms the app.
 */
export function enrolPage(p: PageContext, v: Step & { qrSvg: string; secret: string }): string {
  const { t } = p;
  return page(
    p,
    t.enrolTitle,
    html`${heading(p, v.client, t.enrolTitle, t.enrolLead)}
${errorLine(v.error)}
<div class="qr" role="img" aria-label="${t.enrolQrLabel}">${new SafeHtml(v.qrSvg)}</div>
<p>${t.enrolKeyLabel} <span class="secret" id="totp-secret">${v.secret.replace(/(.{4})(?=.)/g, '$1 ')}</span></p>
<form method="post" action="/interaction/${v.uid}/enrol" autocomplete="off">
  <input type="hidden" name="csrf" value="${v.csrf}">
  <label for="code">${t.enrolCodeLabel}</label>
  <input id="code" name="code" type="text" inputmode="numeric" autocomplete="one-time-code" maxlength="16" required autofocus>
  <button type="submit">${t.confirmButton}</button>
</form>
${abortForm(v.uid, v.csrf, t.cancel)}
${appLinks(p, v.client)}`,
  );
}

/** Shown once, right after the app is confirmed; Continue resumes the authorization request. */
export function recoveryCodesPage(p: PageContext, v: { codes: string[]; next: string }): string {
  const { t } = p;
  return page(
    p,
    t.recoveryTitle,
    html`<h1>${t.recoveryTitle}</h1>
<p class="lead">${t.recoveryLead}</p>
<ol class="codes">${v.codes.map((c) => html`<li>${c}</li>`)}</ol>
<form method="get" action="${v.next}"><button type="submit">${t.continueButton}</button></form>`,
  );
}
