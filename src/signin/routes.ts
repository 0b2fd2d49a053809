import type Router from '@koa/router';
import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import type { Database } from '../db/connect.ts';
import type { Logger } from '../log.ts';
import type { Brand } from '../interactions/brand.ts';
import type { ClientView } from '../interactions/client-view.ts';
import type { PageContext } from '../interactions/page-context.ts';
import { readForm } from '../http/form.ts';
import { codeCounterKeys, decide, minutesOf, type LoginLimits } from '../auth/login-limits.ts';
import { forgiveLoginAttempt, reserveLoginAttempt } from '../storage/login-failures.ts';
import { findUserById } from '../storage/users.ts';
import { acrOf, amrOf, type Amr } from './acr.ts';
import { policyRequiresMfa, requestWantsMfa, STEP_UP_REASONS, unattainableEssentialAcr } from './policy.ts';
import { addConfirmedTotp, findTotp, hasConfirmedFactor, replaceRecoveryCodes, spendRecoveryCode, spendTimeStep } from './storage.ts';
import { checkTotp, newTotpSecret, normalizeTotp, qrSvg, totpUri } from './totp.ts';
import { codePage, enrolPage, recoveryCodesPage } from './views.ts';

/** A sign-in whose first factor is proven and whose second is awaited, kept in the interaction (server side). */
type Pending = { accountId: string; amr: Amr[]; enrolSecret?: string };
const PENDING = 'tessera_signin';

type Interaction = Awaited<ReturnType<Provider['interactionDetails']>>;

/** What the interaction routes lend the second step: the same details, form tokens and refusal page. */
export type InteractionKit = {
  details(ctx: Context): Promise<{ interaction: Interaction; client: ClientView; p: PageContext }>;
  csrfFor(uid: string): string;
  csrfValid(uid: string, token: string | undefined): boolean;
  forbidden(ctx: Context, p: PageContext): void;
};

export type SignInDeps = { provider: Provider; db: Database; log: Logger; loginLimits: LoginLimits; brand: Brand };

export const TOTP_LABEL = 'Authenticator app';

/**
 * The second step of a sign-in, on the login prompt: after the password, a user with an
 * authenticator gives its code (or a recovery code); a user without one who must have a second
 * factor sets it up there. A session signed in with a password alone and asked for more (step-up)
 * gives only the code.
 */
export function signInSteps({ provider, db, log, loginLimits, brand }: SignInDeps) {
  /** The sign-in awaiting its second factor in this interaction, if any. */
  function pendingOf(interaction: Interaction): Pending | undefined {
    const stored = (interaction.result as Record<string, unknown> | undefined)?.[PENDING] as Pending | undefined;
    if (stored) return stored;
    const session = interaction.session as { accountId?: string; amr?: Amr[] } | undefined;
    const reasons = interaction.prompt.reasons;
    if (session?.accountId && reasons.length && reasons.every((r) => STEP_UP_REASONS.has(r))) {
      return { accountId: session.accountId, amr: session.amr?.length ? session.amr : ['pwd'] };
    }
    return undefined;
  }

  const keep = (ctx: Context, pending: Pending) => provider.interactionResult(ctx.req, ctx.res, { [PENDING]: pending }, { mergeWithLastSubmission: false });

  async function finish(ctx: Context, interaction: Interaction, accountId: string, methods: Amr[]) {
    const amr = amrOf(methods);
    log.info('login succeeded', { sub: accountId, client_id: interaction.params.client_id, amr });
    await provider.interactionFinished(ctx.req, ctx.res, { login: { accountId, amr, acr: acrOf(amr) } }, { mergeWithLastSubmission: false });
    ctx.respond = false;
  }

  /** The enrolment page, with a secret made for this interaction (kept in it until the first code confirms it). */
  async function showEnrolment(ctx: Context, interaction: Interaction, client: ClientView, p: PageContext, pending: Pending, error?: string) {
    let secret = pending.enrolSecret;
    if (!secret) {
      secret = newTotpSecret();
      await keep(ctx, { ...pending, enrolSecret: secret });
    }
    const user = await findUserById(db, pending.accountId);
    const qr = await qrSvg(totpUri(secret, brand.name, user?.username ?? pending.accountId));
    ctx.type = 'html';
    ctx.body = enrolPage(p, { uid: interaction.uid, csrf: kit.csrfFor(interaction.uid), client, qrSvg: qr, secret, error });
  }

  /** Counted like a password attempt, before the code is checked: the counters, or the refusal when over the limit. */
  async function reserve(ctx: Context, accountId: string, p: PageContext): Promise<{ keys: ReturnType<typeof codeCounterKeys> } | { status: number; error: string }> {
    const keys = codeCounterKeys(accountId, ctx.ip, loginLimits);
    const attempt = await reserveLoginAttempt(db, keys, loginLimits.windowS);
    if (attempt.reserved) return { keys };
    const limit = decide(attempt.counters, loginLimits);
    const retryAfterS = limit.limited ? limit.retryAfterS : 1;
    log.warn('second factor rate limited', { by: limit.limited ? limit.by : 'unknown', retry_after_s: retryAfterS, sub: accountId });
    ctx.set('retry-after', String(retryAfterS));
    const minutes = minutesOf(retryAfterS);
    return { status: 429, error: p.t.tooManyAttempts.replace('{wait}', minutes === 1 ? p.t.minutesOne : p.t.minutesMany.replace('{count}', String(minutes))) };
  }

  let kit: InteractionKit;

  return {
    /**
     * The login prompt's page when a second step is due (the code, or the enrolment); undefined for
     * the password page. A request whose essential acr nothing here can give ends at once.
     */
    async loginStep(ctx: Context, interaction: Interaction, client: ClientView, p: PageContext): Promise<boolean> {
      if (unattainableEssentialAcr(interaction.params)) {
        await provider.interactionFinished(ctx.req, ctx.res, { error: 'unmet_authentication_requirements', error_description: 'the requested authentication context cannot be obtained' }, { mergeWithLastSubmission: false });
        ctx.respond = false;
        return true;
      }
      const pending = pendingOf(interaction);
      if (!pending) return false;
      if (await hasConfirmedFactor(db, pending.accountId)) {
        ctx.type = 'html';
        ctx.body = codePage(p, { uid: interaction.uid, csrf: kit.csrfFor(interaction.uid), client });
      } else {
        await showEnrolment(ctx, interaction, client, p, pending);
      }
      return true;
    },

    /** After a right password: finishes the sign-in, or keeps it pending and shows the second step. */
    async afterPassword(ctx: Context, interaction: Interaction, accountId: string): Promise<void> {
      const second =
        (await hasConfirmedFactor(db, accountId)) ||
        requestWantsMfa(interaction.params) ||
        (await policyRequiresMfa(db, await provider.Client.find(String(interaction.params.client_id)), accountId));
      if (!second) return finish(ctx, interaction, accountId, ['pwd']);
      log.info('password accepted, second factor due', { sub: accountId, client_id: interaction.params.client_id });
      await keep(ctx, { accountId, amr: ['pwd'] });
      ctx.status = 303;
      ctx.redirect(`/interaction/${interaction.uid}`);
    },

    routes(router: Router, interactionKit: InteractionKit) {
      kit = interactionKit;

      router.post('/:uid/code', async (ctx) => {
        const { interaction, client, p } = await kit.details(ctx);
        const form = await readForm(ctx);
        if (!kit.csrfValid(interaction.uid, form.csrf)) return kit.forbidden(ctx, p);
        const pending = pendingOf(interaction);
        if (interaction.prompt.name !== 'login' || !pending) return kit.forbidden(ctx, p);
        const again = (status: number, error: string) => {
          ctx.status = status;
          ctx.type = 'html';
          ctx.body = codePage(p, { uid: interaction.uid, csrf: kit.csrfFor(interaction.uid), client, error });
        };
        const reserved = await reserve(ctx, pending.accountId, p);
        if (!('keys' in reserved)) return again(reserved.status, reserved.error);
        const { keys } = reserved;
        const input = form.code ?? '';
        const totp = await findTotp(db, pending.accountId);
        const digits = normalizeTotp(input);
        let method: Amr | undefined;
        if (totp?.confirmed && digits) {
          const step = await checkTotp(totp.secret, digits, totp.last_time_step);
          if (step !== undefined && (await spendTimeStep(db, totp.id, step))) method = 'otp';
        } else if (!digits && (await spendRecoveryCode(db, pending.accountId, input))) {
          // A recovery code stands in for the authenticator: RFC 8176 has no value of its own for it.
          method = 'otp';
          log.info('recovery code used', { sub: pending.accountId });
        }
        if (!method) {
          log.info('second factor failed', { sub: pending.accountId, client_id: interaction.params.client_id });
          return again(401, p.t.wrongCode);
        }
        await forgiveLoginAttempt(db, keys);
        await finish(ctx, interaction, pending.accountId, [...pending.amr, method]);
      });

      router.post('/:uid/enrol', async (ctx) => {
        const { interaction, client, p } = await kit.details(ctx);
        const form = await readForm(ctx);
        if (!kit.csrfValid(interaction.uid, form.csrf)) return kit.forbidden(ctx, p);
        const pending = pendingOf(interaction);
        if (interaction.prompt.name !== 'login' || !pending?.enrolSecret) return kit.forbidden(ctx, p);
        const again = async (status: number, error: string) => {
          await showEnrolment(ctx, interaction, client, p, pending, error);
          ctx.status = status;
        };
        const reserved = await reserve(ctx, pending.accountId, p);
        if (!('keys' in reserved)) return again(reserved.status, reserved.error);
        const { keys } = reserved;
        const digits = normalizeTotp(form.code ?? '');
        const step = digits ? await checkTotp(pending.enrolSecret, digits, null) : undefined;
        if (step === undefined) {
          log.info('authenticator confirmation failed', { sub: pending.accountId });
          return again(400, p.t.wrongCode);
        }
        await forgiveLoginAttempt(db, keys);
        if (!(await addConfirmedTotp(db, pending.accountId, pending.enrolSecret, TOTP_LABEL, step))) {
          // Another sign-in added one meanwhile: this secret is not it, so the code proves nothing here.
          return kit.forbidden(ctx, p);
        }
        const codes = await replaceRecoveryCodes(db, pending.accountId);
        log.info('authenticator added', { sub: pending.accountId, client_id: interaction.params.client_id });
        const amr = amrOf([...pending.amr, 'otp']);
        log.info('login succeeded', { sub: pending.accountId, client_id: interaction.params.client_id, amr });
        const next = await provider.interactionResult(ctx.req, ctx.res, { login: { accountId: pending.accountId, amr, acr: acrOf(amr) } }, { mergeWithLastSubmission: false });
        ctx.type = 'html';
        ctx.body = recoveryCodesPage(p, { codes, next });
      });
    },
  };
}

export type SignInSteps = ReturnType<typeof signInSteps>;
