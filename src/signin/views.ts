import { html, page, SafeHtml } from '../interactions/html.ts';
import type { PageContext } from '../interactions/page-context.ts';
import { abortForm, heading } from '../interactions/views.ts';
import { appLinks, type ClientView } from '../interactions/client-view.ts';

type Step = { uid: string; csrf: string; client: ClientView; error?: string };
/** A passkey button: the ceremony (`get` or `create`) and its options as JSON, for the pages' script. */
export type PasskeyButton = { ceremony: 'get' | 'create'; options: unknown; label: string };

const errorLine = (error?: string) => (error ? html`<p class="error" role="alert">${error}</p>` : '');

/** A form the pages' script completes with the browser's WebAuthn answer; hidden where the browser cannot. */
export function passkeyForm(p: PageContext, uid: string, csrf: string, action: 'passkey' | 'passkey-register', button: PasskeyButton): SafeHtml {
  return passkeyFormTo(p, `/interaction/${uid}/${action}`, { csrf }, button);
}

/** The same form posting to `action` with these hidden fields (the sign-in pages' and /account's). */
export function passkeyFormTo(p: PageContext, action: string, hidden: Record<string, string>, button: PasskeyButton): SafeHtml {
  return html`<form method="post" action="${action}" class="passkey">
  ${Object.entries(hidden).map(([name, value]) => html`<input type="hidden" name="${name}" value="${value}">`)}
  <input type="hidden" name="response" value="">
  <button type="submit" class="secondary" data-webauthn="${button.ceremony}" data-options="${JSON.stringify(button.options)}" hidden>${button.label}</button>
  <p class="error passkey-error" role="alert" hidden>${p.t.passkeyFailed}</p>
</form>
<script src="/assets/passkey.js" defer></script>`;
}

/**
 * The authenticator app's enrolment: the QR code (an SVG drawn on the server by the qrcode package
 * from the otpauth URI only), the key for typing, and the first code, which confirms it. Posted to
 * `action` with these hidden fields: during a sign-in and on /account alike.
 */
export function totpEnrolForm(p: PageContext, action: string, hidden: Record<string, string>, totp: { qrSvg: string; secret: string }): SafeHtml {
  const { t } = p;
  return html`<div class="qr" role="img" aria-label="${t.enrolQrLabel}">${new SafeHtml(totp.qrSvg)}</div>
<p>${t.enrolKeyLabel} <span class="secret" id="totp-secret">${totp.secret.replace(/(.{4})(?=.)/g, '$1 ')}</span></p>
<form method="post" action="${action}" autocomplete="off">
  ${Object.entries(hidden).map(([name, value]) => html`<input type="hidden" name="${name}" value="${value}">`)}
  <label for="code">${t.enrolCodeLabel}</label>
  <input id="code" name="code" type="text" inputmode="numeric" autocomplete="one-time-code" maxlength="16" required autofocus>
  <button type="submit">${t.confirmButton}</button>
</form>`;
}

/** The second step: a code from the authenticator app or a recovery code, and/or the user's passkey. */
export function codePage(p: PageContext, v: Step & { codes: boolean; passkey?: PasskeyButton }): string {
  const { t } = p;
  return page(
    p,
    v.codes ? t.codeTitle : t.passkeyUse,
    html`${heading(p, v.client, v.codes ? t.codeTitle : t.passkeyUse, v.codes ? t.codeLead : t.passkeyLead)}
${errorLine(v.error)}
${v.codes
  ? html`<form method="post" action="/interaction/${v.uid}/code" autocomplete="off">
  <input type="hidden" name="csrf" value="${v.csrf}">
  <label for="code">${t.codeLabel}</label>
  <input id="code" name="code" type="text" autocomplete="one-time-code" autocapitalize="none" spellcheck="false" maxlength="32" required autofocus>
  <button type="submit">${t.verifyButton}</button>
</form>`
  : ''}
${v.passkey ? passkeyForm(p, v.uid, v.csrf, 'passkey', v.passkey) : ''}
${abortForm(v.uid, v.csrf, t.cancel)}
${appLinks(p, v.client)}`,
  );
}

/**
 * Enrolment during sign-in: the authenticator app (the QR code, an SVG drawn on the server by the
 * qrcode package from the otpauth URI only, the key for typing, and the first code, which confirms
 * it), and a passkey instead. When the application asks for a passkey, only the passkey.
 */
export function enrolPage(p: PageContext, v: Step & { totp?: { qrSvg: string; secret: string }; passkey: PasskeyButton }): string {
  const { t } = p;
  return page(
    p,
    t.enrolTitle,
    html`${heading(p, v.client, v.totp ? t.enrolTitle : t.passkeyCreate, v.totp ? t.enrolLead : t.passkeyLead)}
${errorLine(v.error)}
${v.totp ? totpEnrolForm(p, `/interaction/${v.uid}/enrol`, { csrf: v.csrf }, v.totp) : ''}
${passkeyForm(p, v.uid, v.csrf, 'passkey-register', v.passkey)}
${abortForm(v.uid, v.csrf, t.cancel)}
${appLinks(p, v.client)}`,
  );
}

/** Shown once, right after a first factor is added; Continue resumes the authorization request. */
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
