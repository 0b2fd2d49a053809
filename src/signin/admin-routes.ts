import Router from '@koa/router';
import type { Database } from '../db/connect.ts';
import { requireScope } from '../admin/auth.ts';
import { audit } from '../admin/audit.ts';
import { Problem } from '../admin/problem.ts';
import { userOr404 } from '../admin/users-routes.ts';
import { listFactors, remainingRecoveryCodes, removeFactor, resetFactors } from './storage.ts';
import { issueResetLink, type Mailer } from './password-reset.ts';
import { sendVerificationMail } from './email-verification.ts';
import type { Brand } from '../interactions/brand.ts';
import { LOCALES } from '../interactions/locales/index.ts';

/**
 * A user's second factors through the admin API: list them (never a secret), remove one, or reset
 * all with the recovery codes (a lost phone); and a password reset link for the operator to hand
 * over. Each change is audited; the user's next sign-in that needs a second factor sets one up again.
 */
export function factorAdminRoutes(db: Database, issuer: string, mailer?: Mailer, brand?: Brand): Router {
  const router = new Router();
  const admin = requireScope('admin');
  const found = (id: string) => userOr404(db, id);

  router.get('/users/:id/factors', admin, async (ctx) => {
    const user = await found(ctx.params.id!);
    const [items, left] = await Promise.all([listFactors(db, user.id), remainingRecoveryCodes(db, user.id)]);
    ctx.body = { items, recovery_codes_left: left };
  });

  router.delete('/users/:id/factors/:factor_id', admin, async (ctx) => {
    const user = await found(ctx.params.id!);
    if (!(await removeFactor(db, user.id, ctx.params.factor_id!))) throw new Problem(404, 'Not found', `user ${user.id} has no factor ${ctx.params.factor_id}`);
    audit(ctx, 'user.factor.remove', { user_id: user.id, factor_id: ctx.params.factor_id });
    ctx.status = 204;
  });

  router.delete('/users/:id/factors', admin, async (ctx) => {
    const user = await found(ctx.params.id!);
    const removed = await resetFactors(db, user.id);
    audit(ctx, 'user.factors.reset', { user_id: user.id, removed });
    ctx.body = { removed };
  });

  // A reset link for the user, handed over by the operator (works without SMTP); the link itself is never logged.
  router.post('/users/:id/password-reset', admin, async (ctx) => {
    const user = await found(ctx.params.id!);
    const link = await issueResetLink(db, user.id, issuer);
    audit(ctx, 'user.password_reset_link', { user_id: user.id });
    ctx.status = 201;
    ctx.body = link;
  });

  // Mails the user a link that verifies their current address (so email_verified means they showed they read it).
  router.post('/users/:id/verify-email', admin, async (ctx) => {
    const user = await found(ctx.params.id!);
    if (!mailer || !brand) throw new Problem(409, 'Conflict', 'mail is not set up (TESSERA_SMTP_URL, TESSERA_MAIL_FROM)');
    if (!user.email) throw new Problem(409, 'Conflict', `user ${user.id} has no email address`);
    await sendVerificationMail(db, mailer, issuer, brand, LOCALES.en, user.id);
    audit(ctx, 'user.verify_email', { user_id: user.id });
    ctx.status = 202;
    ctx.body = { sent: true };
  });

  return router;
}
