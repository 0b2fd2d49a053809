import { formTokens } from '../http/form-token.ts';
import { signOutInTransaction } from '../oidc/backchannel-logout.ts';
import { CREDENTIAL_CHANGE, SESSION_REVOKED, recordOnly } from '../signals/index.ts';
import Router from '@koa/router';
import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import type { Database } from '../db/connect.ts';
import type { Logger } from '../log.ts';
import type { Brand } from '../interactions/brand.ts';
import type { Passwords } from '../auth/passwords.ts';
import { html, page, type SafeHtml } from '../interactions/html.ts';
import { requestPageContext, type PageContext } from '../interactions/page-context.ts';
import { readForm } from '../http/form.ts';
import { findUserById } from '../storage/users.ts';
import { revokeOneSession } from '../storage/oidc-adapter.ts';
import { noticesOf, recordLogouts } from '../signals/backchannel.ts';
import { addConfirmedTotp, addPasskey, findTotp, listFactors, listPasskeys, remainingRecoveryCodes, removeFactor, renamePasskey, replaceRecoveryCodes } from './storage.ts';
import { codeCounterKeys, counterKeys, decide, minutesOf, type LoginLimits } from '../auth/login-limits.ts';
import { forgiveLoginAttempt, reserveLoginAttempt } from '../storage/login-failures.ts';
import type { Mailer } from './password-reset.ts';
import { sendVerificationMail } from './email-verification.ts';
import { passkeyFormTo, recoveryCodesPage, totpEnrolForm } from './views.ts';
import { checkTotp, newTotpSecret, normalizeTotp, qrSvg, totpUri } from './totp.ts';
import { registrationOptions, relyingPartyOf, verifyRegistration } from './passkeys.ts';
import { PASSKEY_LABEL, TOTP_LABEL } from './routes.ts';

/** A factor is added without the password again only within this long of the sign-in (the session's auth_time). */
export const RECENT_SIGN_IN_S = 15 * 60;
/** How long an enrolment page started on /account can be confirmed. */
const ENROL_TTL_S = 10 * 60;
const nowS = () => Math.floor(Date.now() / 1000);

type SessionRow = { id: string; loginTs: number; amr?: string[] };

/** The user's live sessions (browsers signed in), newest sign-in first. */
async function sessionsOf(db: Database, accountId: string): Promise<SessionRow[]> {
  const rows = (await db('oidc_payloads')
    .select('id', 'payload')
    .where({ model: 'Session' })
    .andWhereRaw("payload->>'accountId' = ?", [accountId])
    .andWhere((q) => q.whereNull('expires_at').orWhereRaw('expires_at > now()'))) as Array<{ id: string; payload: { loginTs?: number; amr?: string[] } }>;
  return rows.map((r) => ({ id: r.id, loginTs: r.payload.loginTs ?? 0, amr: r.payload.amr })).sort((a, b) => b.loginTs - a.loginTs);
}

type Notice = { status: number; text: string; error?: boolean };

/** Everything the user's other browsers and apps hold (sessions, grants, codes, refresh tokens), this browser's session kept. */

export type AccountDeps = { provider: Provider; db: Database; log: Logger; brand: Brand; csrfKey: string; passwords: Passwords; loginLimits: LoginLimits; mailer?: Mailer };

/**
 * `/account`: the person signed in in this browser (the provider's session cookie) sees their
 * sessions and second factors, removes a factor, and changes their password, which ends their
 * other sessions and their apps' refresh tokens. Forms carry a token bound to the session.
 */
export function accountRoutes({ provider, db, log, brand, csrfKey, passwords, loginLimits, mailer }: AccountDeps): Router {
  const router = new Router({ prefix: '/account' });
  const csrf = formTokens(csrfKey, 'account');
  const csrfFor = (sessionId: string) => csrf.make(sessionId);
  const csrfValid = (sessionId: string, token: string | undefined) => csrf.valid(token, sessionId);
  const rp = relyingPartyOf(provider.issuer, brand.name);
  /** A value the server drew for this session (an enrolment's secret or challenge) and when, signed, so the next post can prove it. */
  const sign = (kind: string, sessionId: string, ...parts: string[]) => formTokens(csrfKey, `account-${kind}`).make(sessionId, ...parts);
  const signedValid = (kind: string, sessionId: string, form: Record<string, string | undefined>, value: string | undefined) => {
    const issued = Number(form.issued);
    if (!value || !Number.isInteger(issued) || issued > nowS() || nowS() - issued > ENROL_TTL_S) return false;
    return formTokens(csrfKey, `account-${kind}`).valid(form.token, sessionId, value, String(issued));
  };
  /** Other sessions are named on the page by a reference, not their id (which is the session cookie's value). */
  const sessionRef = (sessionId: string) => formTokens(csrfKey, 'account-session').make(sessionId).slice(0, 22);

  router.use(async (ctx, next) => {
    ctx.set('cache-control', 'no-store');
    await next();
  });

  /** The signed-in user of this browser, or the "not signed in" page sent. */
  async function signedIn(ctx: Context, p: PageContext) {
    const session = await provider.Session.get(ctx as never);
    const user = session.accountId ? await findUserById(db, session.accountId) : undefined;
    if (!user?.enabled) {
      ctx.status = 401;
      ctx.type = 'html';
      ctx.body = page(p, p.t.accountTitle, html`<h1>${p.t.accountTitle}</h1><p role="alert">${p.t.accountSignedOut}</p>`);
      return undefined;
    }
    return { session: session as unknown as { jti: string; loginTs?: number }, user };
  }
  type Who = NonNullable<Awaited<ReturnType<typeof signedIn>>>;
  const recent = (who: Who) => typeof who.session.loginTs === 'number' && nowS() - who.session.loginTs <= RECENT_SIGN_IN_S;

  /** The current password, checked under the sign-in limits (so a stolen session cannot guess it): undefined when right, else the refusal. */
  async function checkCurrentPassword(ctx: Context, p: PageContext, who: Who, current: string | undefined): Promise<Notice | undefined> {
    const keys = counterKeys(who.user.username, ctx.ip, loginLimits);
    const attempt = await reserveLoginAttempt(db, keys, loginLimits.windowS);
    if (!attempt.reserved) {
      const limit = decide(attempt.counters, loginLimits);
      const minutes = minutesOf(limit.limited ? limit.retryAfterS : 1);
      ctx.set('retry-after', String(minutes * 60));
      return { status: 429, text: p.t.tooManyAttempts.replace('{wait}', minutes === 1 ? p.t.minutesOne : p.t.minutesMany.replace('{count}', String(minutes))), error: true };
    }
    const row = await db('users').where({ id: who.user.id }).first('password_hash');
    if (!(await passwords.verify(current ?? '', row?.password_hash))) return { status: 401, text: p.t.accountWrongPassword, error: true };
    await forgiveLoginAttempt(db, keys);
    return undefined;
  }

  /** Adding a factor needs a recent sign-in, or the current password given with the request. */
  const recentOrPassword = async (ctx: Context, p: PageContext, who: Who, form: Record<string, string | undefined>) =>
    recent(who) ? undefined : checkCurrentPassword(ctx, p, who, form.current);

  /** A page of its own on /account (adding a factor), with the way back. */
  function accountStep(ctx: Context, p: PageContext, title: string, lead: string, body: SafeHtml, notice?: Notice) {
    ctx.status = notice?.status ?? 200;
    ctx.type = 'html';
    ctx.body = page(
      p,
      title,
      html`<h1>${title}</h1>
<p class="lead">${lead}</p>
${notice ? html`<p class="error" role="alert">${notice.text}</p>` : ''}
${body}
<p class="links"><a href="/account">${p.t.accountBack}</a></p>`,
    );
  }

  async function showTotpEnrol(ctx: Context, p: PageContext, who: Who, secret: string, issued: string, notice?: Notice) {
    const csrf = csrfFor(who.session.jti);
    const totp = { secret, qrSvg: await qrSvg(totpUri(secret, brand.name, who.user.username)) };
    const hidden = { csrf, secret, issued, token: sign('totp', who.session.jti, secret, issued) };
    accountStep(ctx, p, p.t.accountAddAuthenticator, p.t.accountAddLead, totpEnrolForm(p, '/account/authenticator', hidden, totp), notice);
  }

  /** After a first factor: its recovery codes, shown once; otherwise the account page with the news. */
  async function afterAdding(ctx: Context, p: PageContext, who: Who) {
    if (await remainingRecoveryCodes(db, who.user.id)) return show(ctx, p, who, { status: 200, text: p.t.accountFactorAdded });
    const codes = await replaceRecoveryCodes(db, who.user.id);
    ctx.type = 'html';
    ctx.body = recoveryCodesPage(p, { codes, next: '/account' });
  }

  async function show(ctx: Context, p: PageContext, who: Who, notice?: Notice) {
    const { t } = p;
    const [factors, codesLeft, sessions] = await Promise.all([listFactors(db, who.user.id), remainingRecoveryCodes(db, who.user.id), sessionsOf(db, who.user.id)]);
    const csrf = csrfFor(who.session.jti);
    const when = (s: number) => new Date(s * 1000).toISOString().replace('T', ' ').slice(0, 16) + ' UTC';
    ctx.status = notice?.status ?? 200;
    ctx.type = 'html';
    ctx.body = page(
      p,
      t.accountTitle,
      html`<h1>${t.accountTitle}</h1>
<p class="lead">${t.signedInAs.replace('{user}', who.user.name ? `${who.user.name} (${who.user.username})` : who.user.username)}</p>
${notice ? html`<p class="${notice.error ? 'error' : 'notice'}" role="${notice.error ? 'alert' : 'status'}">${notice.text}</p>` : ''}
${mailer && who.user.email && !who.user.email_verified
  ? html`<form method="post" action="/account/verify-email" class="who"><input type="hidden" name="csrf" value="${csrf}"><span>${t.accountVerifyEmail.replace('{email}', who.user.email)}</span> <button type="submit" class="link">${t.verifyEmailButton}</button></form>`
  : ''}
<h2>${t.accountFactors}</h2>
${factors.length
  ? html`<ul class="factors">${factors.map(
      (f) => html`<li><span>${f.kind === 'passkey' ? t.accountPasskey : t.accountAuthenticator}</span> <span class="when">${f.created_at.toISOString().slice(0, 10)}</span>
<form method="post" action="/account/factors/remove"><input type="hidden" name="csrf" value="${csrf}"><input type="hidden" name="factor" value="${f.id}"><button type="submit" class="link">${t.accountRemove}</button></form>${f.kind === 'passkey'
        ? html`
<form method="post" action="/account/passkeys/rename" class="rename"><input type="hidden" name="csrf" value="${csrf}"><input type="hidden" name="factor" value="${f.id}"><input type="text" name="label" value="${f.label}" aria-label="${t.accountPasskeyName}" maxlength="64" required> <button type="submit" class="link">${t.accountRename}</button></form>`
        : ''}</li>`,
    )}</ul>
<form method="post" action="/account/recovery-codes" class="who"><input type="hidden" name="csrf" value="${csrf}"><span>${t.accountCodesLeft.replace('{count}', String(codesLeft))}</span> <button type="submit" class="link">${t.accountNewCodes}</button></form>`
  : html`<p>${t.accountNoFactors}</p>`}
<form method="post" action="/account/passkeys/new" class="add">
  <input type="hidden" name="csrf" value="${csrf}">
  ${recent(who)
    ? ''
    : html`<p>${t.accountStale.replace('{minutes}', String(RECENT_SIGN_IN_S / 60))}</p>
  <input type="text" name="username" autocomplete="username" value="${who.user.username}" hidden>
  <label for="add-current">${t.accountCurrentPassword}</label>
  <input id="add-current" name="current" type="password" autocomplete="current-password" required>`}
  ${factors.some((f) => f.kind === 'totp') ? '' : html`<button type="submit" class="secondary" formaction="/account/authenticator/new">${t.accountAddAuthenticator}</button>`}
  <button type="submit" class="secondary">${t.accountAddPasskey}</button>
</form>
<h2>${t.accountSessions}</h2>
<ul class="sessions">${sessions.map(
  (s) => html`<li>${when(s.loginTs)}${s.id === who.session.jti
    ? html` <strong>${t.accountThisBrowser}</strong>`
    : html` <form method="post" action="/account/sessions/end"><input type="hidden" name="csrf" value="${csrf}"><input type="hidden" name="session" value="${sessionRef(s.id)}"><button type="submit" class="link">${t.accountSignOut}</button></form>`}</li>`,
)}</ul>
<h2>${t.accountPassword}</h2>
<form method="post" action="/account/password">
  <input type="hidden" name="csrf" value="${csrf}">
  <input type="text" name="username" autocomplete="username" value="${who.user.username}" hidden>
  <label for="current">${t.accountCurrentPassword}</label>
  <input id="current" name="current" type="password" autocomplete="current-password" required>
  <label for="password">${t.newPassword}</label>
  <input id="password" name="password" type="password" autocomplete="new-password" minlength="8" required>
  <label for="confirm">${t.confirmPassword}</label>
  <input id="confirm" name="confirm" type="password" autocomplete="new-password" minlength="8" required>
  <button type="submit">${t.resetButton}</button>
</form>`,
    );
  }

  router.get('/', async (ctx) => {
    const p = requestPageContext(brand, ctx);
    const who = await signedIn(ctx, p);
    if (who) await show(ctx, p, who);
  });

  router.post('/password', async (ctx) => {
    const p = requestPageContext(brand, ctx);
    const who = await signedIn(ctx, p);
    if (!who) return;
    const form = await readForm(ctx);
    if (!csrfValid(who.session.jti, form.csrf)) return show(ctx, p, who, { status: 403, text: p.t.refusedMessage, error: true });
    const password = form.password ?? '';
    const problem = password.length < 8 || password.length > 1024 ? p.t.resetTooShort : password !== form.confirm ? p.t.resetMismatch : undefined;
    if (problem) return show(ctx, p, who, { status: 400, text: problem, error: true });
    // The current password is checked under the sign-in limits, so a stolen session cannot guess it.
    const refused = await checkCurrentPassword(ctx, p, who, form.current);
    if (refused) return show(ctx, p, who, refused);
    const hash = await passwords.hash(password);
    // The other sessions and the apps' grants end, and apps hear it (src/signals/), with the change.
    const ended = await db.transaction(async (trx) => {
      await trx('users').where({ id: who.user.id }).update({ password_hash: hash, updated_at: trx.fn.now() });
      await recordOnly.forGrants(trx, CREDENTIAL_CHANGE, [{ user_id: who.user.id, event: { credential_type: 'password', change_type: 'update', initiating_entity: 'user' } }]);
      return (await signOutInTransaction(trx, recordOnly, who.user.id, 'password changed', { initiatingEntity: 'user', keepSessionId: who.session.jti })).revoked;
    });
    log.info('password changed', { sub: who.user.id, ended });
    return show(ctx, p, who, { status: 200, text: p.t.accountPasswordChanged });
  });

  router.post('/verify-email', async (ctx) => {
    const p = requestPageContext(brand, ctx);
    const who = await signedIn(ctx, p);
    if (!who) return;
    const form = await readForm(ctx);
    if (!csrfValid(who.session.jti, form.csrf) || !mailer || !who.user.email) return show(ctx, p, who, { status: 403, text: p.t.refusedMessage, error: true });
    await sendVerificationMail(db, mailer, provider.issuer, brand, p.t, who.user.id);
    log.info('email verification sent', { sub: who.user.id });
    return show(ctx, p, who, { status: 200, text: p.t.accountVerifySent });
  });

  // New recovery codes replace the old ones (all of them, used or not), shown once.
  router.post('/recovery-codes', async (ctx) => {
    const p = requestPageContext(brand, ctx);
    const who = await signedIn(ctx, p);
    if (!who) return;
    const form = await readForm(ctx);
    if (!csrfValid(who.session.jti, form.csrf)) return show(ctx, p, who, { status: 403, text: p.t.refusedMessage, error: true });
    if (!(await listFactors(db, who.user.id)).length) return show(ctx, p, who, { status: 409, text: p.t.accountNoFactors, error: true });
    const codes = await replaceRecoveryCodes(db, who.user.id);
    log.info('recovery codes replaced by their user', { sub: who.user.id });
    ctx.type = 'html';
    ctx.body = recoveryCodesPage(p, { codes, next: '/account' });
  });

  router.post('/factors/remove', async (ctx) => {
    const p = requestPageContext(brand, ctx);
    const who = await signedIn(ctx, p);
    if (!who) return;
    const form = await readForm(ctx);
    if (!csrfValid(who.session.jti, form.csrf)) return show(ctx, p, who, { status: 403, text: p.t.refusedMessage, error: true });
    if (!(await removeFactor(db, who.user.id, form.factor ?? ''))) return show(ctx, p, who, { status: 404, text: p.t.refusedMessage, error: true });
    log.info('factor removed by its user', { sub: who.user.id });
    return show(ctx, p, who, { status: 200, text: p.t.accountFactorRemoved });
  });

  // An authenticator app: a secret drawn here, kept in the page (signed for this session, with when
  // it was drawn) until the first code confirms it. The same enrolment as during a sign-in.
  router.post('/authenticator/new', async (ctx) => {
    const p = requestPageContext(brand, ctx);
    const who = await signedIn(ctx, p);
    if (!who) return;
    const form = await readForm(ctx);
    if (!csrfValid(who.session.jti, form.csrf)) return show(ctx, p, who, { status: 403, text: p.t.refusedMessage, error: true });
    if ((await findTotp(db, who.user.id))?.confirmed) return show(ctx, p, who, { status: 409, text: p.t.accountHasAuthenticator, error: true });
    const refused = await recentOrPassword(ctx, p, who, form);
    if (refused) return show(ctx, p, who, refused);
    await showTotpEnrol(ctx, p, who, newTotpSecret(), String(nowS()));
  });

  router.post('/authenticator', async (ctx) => {
    const p = requestPageContext(brand, ctx);
    const who = await signedIn(ctx, p);
    if (!who) return;
    const form = await readForm(ctx);
    if (!csrfValid(who.session.jti, form.csrf)) return show(ctx, p, who, { status: 403, text: p.t.refusedMessage, error: true });
    const secret = form.secret;
    if (!signedValid('totp', who.session.jti, form, secret)) return show(ctx, p, who, { status: 403, text: p.t.accountExpired, error: true });
    // Counted like a code at sign-in.
    const keys = codeCounterKeys(who.user.id, ctx.ip, loginLimits);
    const attempt = await reserveLoginAttempt(db, keys, loginLimits.windowS);
    if (!attempt.reserved) {
      const limit = decide(attempt.counters, loginLimits);
      const minutes = minutesOf(limit.limited ? limit.retryAfterS : 1);
      ctx.set('retry-after', String(minutes * 60));
      return showTotpEnrol(ctx, p, who, secret!, form.issued!, { status: 429, text: p.t.tooManyAttempts.replace('{wait}', minutes === 1 ? p.t.minutesOne : p.t.minutesMany.replace('{count}', String(minutes))) });
    }
    const digits = normalizeTotp(form.code ?? '');
    const step = digits ? await checkTotp(secret!, digits, null) : undefined;
    if (step === undefined) {
      log.info('authenticator confirmation failed', { sub: who.user.id });
      return showTotpEnrol(ctx, p, who, secret!, form.issued!, { status: 400, text: p.t.wrongCode });
    }
    await forgiveLoginAttempt(db, keys);
    if (!(await addConfirmedTotp(db, who.user.id, secret!, TOTP_LABEL, step))) return show(ctx, p, who, { status: 409, text: p.t.accountHasAuthenticator, error: true });
    log.info('authenticator added by its user', { sub: who.user.id });
    await afterAdding(ctx, p, who);
  });

  // Another passkey: the challenge is drawn here and signed into the page like the secret above.
  router.post('/passkeys/new', async (ctx) => {
    const p = requestPageContext(brand, ctx);
    const who = await signedIn(ctx, p);
    if (!who) return;
    const form = await readForm(ctx);
    if (!csrfValid(who.session.jti, form.csrf)) return show(ctx, p, who, { status: 403, text: p.t.refusedMessage, error: true });
    const refused = await recentOrPassword(ctx, p, who, form);
    if (refused) return show(ctx, p, who, refused);
    const options = await registrationOptions(rp, who.user, await listPasskeys(db, who.user.id));
    const issued = String(nowS());
    const hidden = { csrf: csrfFor(who.session.jti), challenge: options.challenge, issued, token: sign('passkey', who.session.jti, options.challenge, issued) };
    accountStep(ctx, p, p.t.accountAddPasskey, p.t.accountPasskeyLead, passkeyFormTo(p, '/account/passkeys', hidden, { ceremony: 'create', options, label: p.t.accountAddPasskey }));
  });

  router.post('/passkeys', async (ctx) => {
    const p = requestPageContext(brand, ctx);
    const who = await signedIn(ctx, p);
    if (!who) return;
    const form = await readForm(ctx, 64 * 1024);
    if (!csrfValid(who.session.jti, form.csrf)) return show(ctx, p, who, { status: 403, text: p.t.refusedMessage, error: true });
    if (!signedValid('passkey', who.session.jti, form, form.challenge)) return show(ctx, p, who, { status: 403, text: p.t.accountExpired, error: true });
    let response: unknown;
    try {
      response = JSON.parse(form.response ?? '');
    } catch {
      response = undefined;
    }
    const credential = await verifyRegistration(rp, form.challenge!, response);
    if (!credential || !(await addPasskey(db, { ...credential, user_id: who.user.id, label: PASSKEY_LABEL }))) {
      log.info('passkey registration refused', { sub: who.user.id });
      return show(ctx, p, who, { status: 400, text: p.t.passkeyFailed, error: true });
    }
    log.info('passkey added by its user', { sub: who.user.id });
    await afterAdding(ctx, p, who);
  });

  router.post('/passkeys/rename', async (ctx) => {
    const p = requestPageContext(brand, ctx);
    const who = await signedIn(ctx, p);
    if (!who) return;
    const form = await readForm(ctx);
    if (!csrfValid(who.session.jti, form.csrf)) return show(ctx, p, who, { status: 403, text: p.t.refusedMessage, error: true });
    const label = (form.label ?? '').trim();
    if (!label || [...label].length > 64 || /\p{Cc}/u.test(label)) return show(ctx, p, who, { status: 400, text: p.t.accountBadName, error: true });
    if (!(await renamePasskey(db, who.user.id, form.factor ?? '', label))) return show(ctx, p, who, { status: 404, text: p.t.refusedMessage, error: true });
    return show(ctx, p, who, { status: 200, text: p.t.accountRenamed });
  });

  // One other browser signed out: its session, the grants made in it (with their tokens), and a
  // back-channel logout to each of its apps. This browser's own session is not offered.
  router.post('/sessions/end', async (ctx) => {
    const p = requestPageContext(brand, ctx);
    const who = await signedIn(ctx, p);
    if (!who) return;
    const form = await readForm(ctx);
    if (!csrfValid(who.session.jti, form.csrf)) return show(ctx, p, who, { status: 403, text: p.t.refusedMessage, error: true });
    const target = (await sessionsOf(db, who.user.id)).find((s) => s.id !== who.session.jti && sessionRef(s.id) === form.session);
    const ended =
      target &&
      (await db.transaction(async (trx) => {
        const session = await revokeOneSession(trx, who.user.id, target.id);
        if (session) {
          await recordLogouts(trx, noticesOf([session]));
          // Its apps hear it as Shared Signals too (src/signals/), as for every other sign-out.
          await recordOnly.forClients(trx, SESSION_REVOKED, who.user.id, Object.keys(session.authorizations ?? {}), { initiating_entity: 'user', reason_user: { en: 'signed out from the account page' } });
        }
        return session;
      }));
    if (!ended) return show(ctx, p, who, { status: 404, text: p.t.refusedMessage, error: true });
    log.info('session signed out by its user', { sub: who.user.id });
    return show(ctx, p, who, { status: 200, text: p.t.accountSessionEnded });
  });

  return router;
}
