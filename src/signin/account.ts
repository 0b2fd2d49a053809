import { createHmac, timingSafeEqual } from 'node:crypto';
import { signOutInTransaction } from '../oidc/backchannel-logout.ts';
import { CREDENTIAL_CHANGE, recordOnly } from '../signals/index.ts';
import Router from '@koa/router';
import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import type { Database } from '../db/connect.ts';
import type { Logger } from '../log.ts';
import type { Brand } from '../interactions/brand.ts';
import type { Passwords } from '../auth/passwords.ts';
import { html, page } from '../interactions/html.ts';
import { requestPageContext, type PageContext } from '../interactions/page-context.ts';
import { readForm } from '../http/form.ts';
import { findUserById } from '../storage/users.ts';
import { listFactors, remainingRecoveryCodes, removeFactor, replaceRecoveryCodes } from './storage.ts';
import { counterKeys, decide, minutesOf, type LoginLimits } from '../auth/login-limits.ts';
import { forgiveLoginAttempt, reserveLoginAttempt } from '../storage/login-failures.ts';
import type { Mailer } from './password-reset.ts';
import { sendVerificationMail } from './email-verification.ts';
import { recoveryCodesPage } from './views.ts';

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

/** Everything the user's other browsers and apps hold (sessions, grants, codes, refresh tokens), this browser's session kept. */

export type AccountDeps = { provider: Provider; db: Database; log: Logger; brand: Brand; csrfKey: string; passwords: Passwords; loginLimits: LoginLimits; mailer?: Mailer };

/**
 * `/account`: the person signed in in this browser (the provider's session cookie) sees their
 * sessions and second factors, removes a factor, and changes their password, which ends their
 * other sessions and their apps' refresh tokens. Forms carry a token bound to the session.
 */
export function accountRoutes({ provider, db, log, brand, csrfKey, passwords, loginLimits, mailer }: AccountDeps): Router {
  const router = new Router({ prefix: '/account' });
  const csrfFor = (sessionId: string) => createHmac('sha256', csrfKey).update(`account:${sessionId}`).digest('base64url');
  const csrfValid = (sessionId: string, token: string | undefined) => {
    const a = Buffer.from(csrfFor(sessionId));
    const b = Buffer.from(token ?? '');
    return a.length === b.length && timingSafeEqual(a, b);
  };

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
    return { session: session as unknown as { jti: string }, user };
  }

  async function show(ctx: Context, p: PageContext, who: NonNullable<Awaited<ReturnType<typeof signedIn>>>, notice?: { status: number; text: string; error?: boolean }) {
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
<form method="post" action="/account/factors/remove"><input type="hidden" name="csrf" value="${csrf}"><input type="hidden" name="factor" value="${f.id}"><button type="submit" class="link">${t.accountRemove}</button></form></li>`,
    )}</ul>
<form method="post" action="/account/recovery-codes" class="who"><input type="hidden" name="csrf" value="${csrf}"><span>${t.accountCodesLeft.replace('{count}', String(codesLeft))}</span> <button type="submit" class="link">${t.accountNewCodes}</button></form>`
  : html`<p>${t.accountNoFactors}</p>`}
<h2>${t.accountSessions}</h2>
<ul class="sessions">${sessions.map((s) => html`<li>${when(s.loginTs)}${s.id === who.session.jti ? html` <strong>${t.accountThisBrowser}</strong>` : ''}</li>`)}</ul>
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
    const keys = counterKeys(who.user.username, ctx.ip, loginLimits);
    const attempt = await reserveLoginAttempt(db, keys, loginLimits.windowS);
    if (!attempt.reserved) {
      const limit = decide(attempt.counters, loginLimits);
      const minutes = minutesOf(limit.limited ? limit.retryAfterS : 1);
      ctx.set('retry-after', String(minutes * 60));
      return show(ctx, p, who, { status: 429, text: p.t.tooManyAttempts.replace('{wait}', minutes === 1 ? p.t.minutesOne : p.t.minutesMany.replace('{count}', String(minutes))), error: true });
    }
    const row = await db('users').where({ id: who.user.id }).first('password_hash');
    if (!(await passwords.verify(form.current ?? '', row?.password_hash))) return show(ctx, p, who, { status: 401, text: p.t.accountWrongPassword, error: true });
    await forgiveLoginAttempt(db, keys);
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

  return router;
}
