import { formTokens } from '../http/form-token.ts';
import { createHash, randomBytes } from 'node:crypto';
import Router from '@koa/router';
import type { Context } from 'koa';
import type { Database } from '../db/connect.ts';
import type { Logger } from '../log.ts';
import type { Brand } from '../interactions/brand.ts';
import { html, page } from '../interactions/html.ts';
import { requestPageContext, type PageContext } from '../interactions/page-context.ts';
import type { Messages } from '../interactions/locales/index.ts';
import { readForm } from '../http/form.ts';
import { findUserById } from '../storage/users.ts';
import type { Mailer } from './password-reset.ts';

/** A verification link works once, within this many hours, and only while the account keeps that address. */
export const VERIFY_TTL_H = 24;

const hashOf = (token: string) => createHash('sha256').update(`verify\0${token}`).digest('base64url');
const plain = (text: string, values: Record<string, string>) => text.replace(/\{(\w+)\}/g, (m, k: string) => values[k] ?? m);

/** Mails the user a link that sets `email_verified` for their current address. False when they have no address. */
export async function sendVerificationMail(db: Database, mailer: Mailer, issuer: string, brand: Brand, t: Messages, userId: string): Promise<boolean> {
  const user = await findUserById(db, userId);
  if (!user?.email) return false;
  const token = randomBytes(32).toString('base64url');
  await db('email_verifications').insert({ token_hash: hashOf(token), user_id: user.id, email: user.email, expires_at: db.raw(`now() + interval '${VERIFY_TTL_H} hours'`) });
  const values = { brand: brand.name, user: user.username, link: `${issuer}/verify-email?token=${token}`, hours: String(VERIFY_TTL_H) };
  await mailer.send(user.email, plain(t.verifyMailSubject, values), plain(t.verifyMailBody, values));
  return true;
}

/** The link's row while unused, unexpired and for the address the account still has. */
async function pendingVerification(db: Database, token: string) {
  if (!/^[A-Za-z0-9_-]{43}$/.test(token)) return undefined;
  return db('email_verifications as v')
    .join('users as u', 'u.id', 'v.user_id')
    .where({ 'v.token_hash': hashOf(token) })
    .whereNull('v.used_at')
    .andWhereRaw('v.expires_at > now()')
    .andWhereRaw('lower(u.email) = lower(v.email)')
    .first('v.user_id', 'v.email') as Promise<{ user_id: string; email: string } | undefined>;
}

export type VerificationDeps = { db: Database; log: Logger; brand: Brand; csrfKey: string };

/** `/verify-email?token=…`: a page with one button (a mail scanner's visit changes nothing); its post verifies the address. */
export function emailVerificationRoutes({ db, log, brand, csrfKey }: VerificationDeps): Router {
  const router = new Router({ prefix: '/verify-email' });
  const forms = formTokens(csrfKey, 'verify');
  const formToken = (token: string) => forms.make(token);
  const card = (p: PageContext, body: unknown) => page(p, p.t.verifyTitle, html`<h1>${p.t.verifyTitle}</h1>${body}`);
  const invalid = (ctx: Context, p: PageContext) => {
    ctx.status = 410;
    ctx.type = 'html';
    ctx.body = card(p, html`<p role="alert">${p.t.verifyInvalid}</p>`);
  };
  router.use(async (ctx, next) => {
    ctx.set('cache-control', 'no-store');
    await next();
  });

  router.get('/', async (ctx) => {
    const p = requestPageContext(brand, ctx);
    const token = typeof ctx.query.token === 'string' ? ctx.query.token : '';
    const row = await pendingVerification(db, token);
    if (!row) return invalid(ctx, p);
    ctx.type = 'html';
    ctx.body = card(
      p,
      html`<p class="lead">${p.t.verifyLead.replace('{email}', row.email)}</p>
<form method="post" action="/verify-email">
  <input type="hidden" name="token" value="${token}">
  <input type="hidden" name="csrf" value="${formToken(token)}">
  <button type="submit">${p.t.verifyEmailButton}</button>
</form>`,
    );
  });

  router.post('/', async (ctx) => {
    const p = requestPageContext(brand, ctx);
    const form = await readForm(ctx);
    const token = form.token ?? '';
    if (!forms.valid(form.csrf, token)) {
      ctx.status = 403;
      ctx.type = 'html';
      ctx.body = card(p, html`<p role="alert">${p.t.refusedMessage}</p>`);
      return;
    }
    // Spent and applied together, and only while the account still has that address.
    const verified = await db.transaction(async (trx) => {
      const [spent] = await trx('email_verifications')
        .where({ token_hash: hashOf(token) })
        .whereNull('used_at')
        .andWhereRaw('expires_at > now()')
        .update({ used_at: trx.fn.now() })
        .returning(['user_id', 'email']);
      if (!spent) return undefined;
      const n = await trx('users').where({ id: spent.user_id }).andWhereRaw('lower(email) = lower(?)', [spent.email]).update({ email_verified: true, updated_at: trx.fn.now() });
      return n === 1 ? (spent.user_id as string) : undefined;
    });
    if (!verified) return invalid(ctx, p);
    log.info('email verified', { sub: verified });
    ctx.type = 'html';
    ctx.body = card(p, html`<p role="status">${p.t.verifyDone}</p>`);
  });
  return router;
}
