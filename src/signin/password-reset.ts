import { formTokens } from '../http/form-token.ts';
import { createHash, randomBytes } from 'node:crypto';
import Router from '@koa/router';
import type { Context } from 'koa';
import nodemailer from 'nodemailer';
import type { Database } from '../db/connect.ts';
import type { Logger } from '../log.ts';
import type { Brand } from '../interactions/brand.ts';
import type { Passwords } from '../auth/passwords.ts';
import { html, page, type SafeHtml } from '../interactions/html.ts';
import { requestPageContext, type PageContext } from '../interactions/page-context.ts';
import { heading } from '../interactions/views.ts';
import { readForm } from '../http/form.ts';
import { findUserById, isUuid } from '../storage/users.ts';
import { signOutInTransaction } from '../oidc/backchannel-logout.ts';
import { CREDENTIAL_CHANGE, recordOnly } from '../signals/index.ts';
import { usernameKey } from '../model/username.ts';
import type { InteractionKit } from './routes.ts';
import { forgotCounterKeys, type LoginLimits } from '../auth/login-limits.ts';
import { reserveLoginAttempt } from '../storage/login-failures.ts';

/** A reset link works once, within this many minutes. */
export const RESET_TTL_MIN = 15;

const hashOf = (token: string) => createHash('sha256').update(`reset\0${token}`).digest('base64url');

/** A new single-use link for the user; only the token's hash is stored. The token is in the query string, which request logs leave out. */
export async function issueResetLink(db: Database, userId: string, issuer: string): Promise<{ url: string; expires_at: Date }> {
  const token = randomBytes(32).toString('base64url');
  const [row] = await db('password_resets')
    .insert({ token_hash: hashOf(token), user_id: userId, expires_at: db.raw(`now() + interval '${RESET_TTL_MIN} minutes'`) })
    .returning('expires_at');
  return { url: `${issuer}/reset?token=${token}`, expires_at: new Date(row.expires_at) };
}

/** The user a link is for, while it is unused and unexpired (nothing is spent). */
async function resetUser(db: Database, token: string): Promise<string | undefined> {
  if (!/^[A-Za-z0-9_-]{43}$/.test(token)) return undefined;
  const row = await db('password_resets').where({ token_hash: hashOf(token) }).whereNull('used_at').andWhereRaw('expires_at > now()').first('user_id');
  return row?.user_id;
}

/** Spends a link, once: two posts of one link cannot both set a password. */
async function spendReset(db: Database, token: string): Promise<string | undefined> {
  const [row] = await db('password_resets').where({ token_hash: hashOf(token) }).whereNull('used_at').andWhereRaw('expires_at > now()').update({ used_at: db.fn.now() }).returning('user_id');
  return row?.user_id;
}

export type Mailer = { send(to: string, subject: string, text: string): Promise<void> };

/** SMTP through nodemailer (TESSERA_SMTP_URL, TESSERA_MAIL_FROM). */
export function createMailer(mail: { url: string; from: string }): Mailer {
  const transport = nodemailer.createTransport(mail.url);
  return {
    async send(to, subject, text) {
      await transport.sendMail({ from: mail.from, to, subject, text });
    },
  };
}

/** A translated text with its places filled, for a plain-text mail (no markup, so nothing to escape). */
const plain = (text: string, values: Record<string, string>) => text.replace(/\{(\w+)\}/g, (m, k: string) => values[k] ?? m);

export type ResetDeps = { db: Database; log: Logger; brand: Brand; issuer: string; csrfKey: string; passwords: Passwords; mailer: Mailer | undefined; loginLimits: LoginLimits };

/**
 * "Forgot your password?" (offered only with SMTP): a single-use link by mail, valid 15 minutes;
 * the answer is the same whether or not the account exists. Setting the new password ends the
 * user's sessions and refresh tokens.
 */
export function passwordReset({ db, log, brand, issuer, csrfKey, passwords, mailer, loginLimits }: ResetDeps) {
  const forms = formTokens(csrfKey, 'reset');
  const formToken = (token: string) => forms.make(token);
  const formTokenValid = (token: string, sent: string | undefined) => forms.valid(sent, token);

  /** Sends a link to each enabled account with that username or email address (never says whether there was one). */
  async function sendLinks(p: PageContext, input: string) {
    const name = input.trim();
    if (!name || name.length > 320 || /[\u0000\ud800-\udfff]/.test(name)) return;
    const users = (await db('users')
      .select('id', 'username', 'email')
      .where({ enabled: true })
      .whereNotNull('email')
      .andWhere((q) => q.where({ username_key: usernameKey(name) }).orWhereRaw('lower(email) = lower(?)', [name]))
      .limit(5)) as Array<{ id: string; username: string; email: string }>;
    for (const user of users) {
      const link = await issueResetLink(db, user.id, issuer);
      const values = { brand: brand.name, user: user.username, link: link.url, minutes: String(RESET_TTL_MIN) };
      await mailer!.send(user.email, plain(p.t.mailSubject, values), plain(p.t.mailBody, values));
      log.info('password reset link sent', { sub: user.id });
    }
  }

  const card = (p: PageContext, title: string, body: SafeHtml) => page(p, title, html`<h1>${title}</h1>${body}`);

  function resetForm(p: PageContext, token: string, user: string, error?: string) {
    const { t } = p;
    return card(
      p,
      t.resetTitle,
      html`<p class="lead">${t.resetLead.replace('{user}', user)}</p>
${error ? html`<p class="error" role="alert">${error}</p>` : ''}
<form method="post" action="/reset">
  <input type="hidden" name="token" value="${token}">
  <input type="hidden" name="csrf" value="${formToken(token)}">
  <input type="text" name="username" autocomplete="username" value="${user}" hidden>
  <label for="password">${t.newPassword}</label>
  <input id="password" name="password" type="password" autocomplete="new-password" minlength="8" required autofocus>
  <label for="confirm">${t.confirmPassword}</label>
  <input id="confirm" name="confirm" type="password" autocomplete="new-password" minlength="8" required>
  <button type="submit">${t.resetButton}</button>
</form>`,
    );
  }

  return {
    enabled: Boolean(mailer),

    /** The link under the sign-in form, when mail is set up. */
    forgotLink(p: PageContext, uid: string): SafeHtml | string {
      return mailer ? html`<p class="forgot"><a href="/interaction/${uid}/forgot">${p.t.forgotLink}</a></p>` : '';
    },

    routes(router: Router, kit: InteractionKit) {
      if (!mailer) return;
      const forgotPage = (p: PageContext, uid: string, client: Parameters<typeof heading>[1], body: SafeHtml) =>
        page(p, p.t.forgotTitle, html`${heading(p, client, p.t.forgotTitle, p.t.forgotLead)}${body}`);

      router.get('/:uid/forgot', async (ctx) => {
        const { interaction, client, p } = await kit.details(ctx);
        ctx.type = 'html';
        ctx.body = forgotPage(
          p,
          interaction.uid,
          client,
          html`<form method="post" action="/interaction/${interaction.uid}/forgot">
  <input type="hidden" name="csrf" value="${kit.csrfFor(interaction.uid)}">
  <label for="name">${p.t.forgotLabel}</label>
  <input id="name" name="name" type="text" autocomplete="username" autocapitalize="none" spellcheck="false" required autofocus>
  <button type="submit">${p.t.forgotButton}</button>
</form>
<p><a href="/interaction/${interaction.uid}">${p.t.cancel}</a></p>`,
        );
      });

      router.post('/:uid/forgot', async (ctx) => {
        const { interaction, client, p } = await kit.details(ctx);
        const form = await readForm(ctx);
        if (!kit.csrfValid(interaction.uid, form.csrf)) return kit.forbidden(ctx, p);
        // Counted per address and per name asked for, with the sign-in limits: past them nothing is sent,
        // and the answer is the same, so it tells nothing either.
        const name = form.name ?? '';
        const counted = await reserveLoginAttempt(db, forgotCounterKeys(name, ctx.ip, loginLimits), loginLimits.windowS);
        if (!counted.reserved) log.warn('password reset requests limited', { client_id: interaction.params.client_id });
        // Sent after the answer, so it takes as long whether or not the account exists; a mail failure is logged.
        else setImmediate(() => sendLinks(p, name).catch((err: Error) => log.warn('password reset mail failed', { err: err.message })));
        ctx.type = 'html';
        ctx.body = forgotPage(p, interaction.uid, client, html`<p role="status">${p.t.forgotSent.replace('{minutes}', String(RESET_TTL_MIN))}</p>
<p><a href="/interaction/${interaction.uid}">${p.t.signInTitle}</a></p>`);
      });
    },

    /** /reset?token=…: the new password form; POST /reset sets it. */
    resetRouter(): Router {
      const router = new Router({ prefix: '/reset' });
      router.use(async (ctx, next) => {
        ctx.set('cache-control', 'no-store');
        await next();
      });
      const invalid = (ctx: Context, p: PageContext) => {
        ctx.status = 410;
        ctx.type = 'html';
        ctx.body = card(p, p.t.resetTitle, html`<p role="alert">${p.t.resetInvalid}</p>`);
      };
      router.get('/', async (ctx) => {
        const p = requestPageContext(brand, ctx);
        const token = typeof ctx.query.token === 'string' ? ctx.query.token : '';
        const userId = await resetUser(db, token);
        const user = userId ? await findUserById(db, userId) : undefined;
        if (!user) return invalid(ctx, p);
        ctx.type = 'html';
        ctx.body = resetForm(p, token, user.username);
      });
      router.post('/', async (ctx) => {
        const p = requestPageContext(brand, ctx);
        const form = await readForm(ctx);
        const token = form.token ?? '';
        if (!formTokenValid(token, form.csrf)) {
          ctx.status = 403;
          ctx.type = 'html';
          ctx.body = card(p, p.t.refusedTitle, html`<p role="alert">${p.t.refusedMessage}</p>`);
          return;
        }
        const userId = await resetUser(db, token);
        const user = userId ? await findUserById(db, userId) : undefined;
        if (!user) return invalid(ctx, p);
        const password = form.password ?? '';
        const problem = password.length < 8 || password.length > 1024 ? p.t.resetTooShort : password !== form.confirm ? p.t.resetMismatch : undefined;
        if (problem) {
          ctx.status = 400;
          ctx.type = 'html';
          ctx.body = resetForm(p, token, user.username, problem);
          return;
        }
        const hash = await passwords.hash(password);
        // Spent and changed together: a second post of the same link finds it spent.
        // Whoever knew the old password is signed out (sessions, grants and refresh tokens end), and
        // apps hear it (credential-change, session-revoked, back-channel logout: src/signals/), in the
        // same transaction as the change.
        const revoked = await db.transaction(async (trx) => {
          const spentFor = await spendReset(trx as unknown as Database, token);
          if (spentFor !== user.id || !isUuid(spentFor)) return undefined;
          await trx('users').where({ id: user.id }).update({ password_hash: hash, updated_at: trx.fn.now() });
          await recordOnly.forGrants(trx, CREDENTIAL_CHANGE, [{ user_id: user.id, event: { credential_type: 'password', change_type: 'update', initiating_entity: 'user' } }]);
          return (await signOutInTransaction(trx, recordOnly, user.id, 'password reset', { initiatingEntity: 'user' })).revoked;
        });
        if (revoked === undefined) return invalid(ctx, p);
        log.info('password reset', { sub: user.id, revoked });
        ctx.type = 'html';
        ctx.body = card(p, p.t.resetTitle, html`<p role="status">${p.t.resetDone}</p>`);
      });
      return router;
    },
  };
}

export type PasswordReset = ReturnType<typeof passwordReset>;
