import type Router from '@koa/router';
import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import type { Database } from '../db/connect.ts';
import type { Logger } from '../log.ts';
import type { Brand } from '../interactions/brand.ts';
import type { ClientView } from '../interactions/client-view.ts';
import type { PageContext } from '../interactions/page-context.ts';
import type { SafeHtml } from '../interactions/html.ts';
import { readForm } from '../http/form.ts';
import { codeCounterKeys, decide, minutesOf, type LoginLimits } from '../auth/login-limits.ts';
import { forgiveLoginAttempt, reserveLoginAttempt } from '../storage/login-failures.ts';
import { findUserById } from '../storage/users.ts';
import { ACR, acrOf, amrOf, stronger, type Amr } from './acr.ts';
import { acrFor, policyRequiresMfa, requestedAcr, STEP_UP_REASONS, unattainableEssentialAcr } from './policy.ts';
import {
  addConfirmedTotp,
  addPasskey,
  findPasskey,
  findTotp,
  listPasskeys,
  remainingRecoveryCodes,
  replaceRecoveryCodes,
  spendRecoveryCode,
  spendTimeStep,
  usePasskey,
} from './storage.ts';
import { checkTotp, newTotpSecret, normalizeTotp, qrSvg, totpUri } from './totp.ts';
import { authenticationOptions, credentialIdOf, passkeyAmr, registrationOptions, relyingPartyOf, verifyAssertion, verifyRegistration } from './passkeys.ts';
import { codePage, enrolPage, passkeyForm, recoveryCodesPage } from './views.ts';

/** A sign-in whose first factor is proven and whose second is awaited, kept in the interaction (server side). */
type Pending = { accountId: string; amr: Amr[]; enrolSecret?: string };
const PENDING = 'tessera_signin';
/**
 * The WebAuthn challenge of the passkey button on this interaction's page (one at a time, replaced
 * at each page and spent at each answer), with its ceremony: a challenge drawn to sign in with a
 * passkey never registers one, and the other way round.
 */
const CHALLENGE = 'tessera_webauthn';
type Challenge = { challenge: string; ceremony: 'get' | 'create' };

type Interaction = Awaited<ReturnType<Provider['interactionDetails']>>;
type Result = Record<string, unknown>;

/** What the interaction routes lend the second step: the same details, form tokens and refusal page. */
export type InteractionKit = {
  details(ctx: Context): Promise<{ interaction: Interaction; client: ClientView; p: PageContext }>;
  csrfFor(uid: string): string;
  csrfValid(uid: string, token: string | undefined): boolean;
  forbidden(ctx: Context, p: PageContext): void;
  /** The password page again (after a refused passkey). */
  loginPage(ctx: Context, interaction: Interaction, client: ClientView, p: PageContext, v: { username?: string; error?: string }): Promise<string>;
};

export type SignInDeps = { provider: Provider; db: Database; log: Logger; loginLimits: LoginLimits; brand: Brand };

export const TOTP_LABEL = 'Authenticator app';
export const PASSKEY_LABEL = 'Passkey';

/**
 * The second step of a sign-in, on the login prompt: after the password, a user with a factor gives
 * it (an authenticator code, a recovery code or a passkey); a user without one who must have a
 * second factor adds one there. A session signed in with a password alone and asked for more
 * (step-up) gives only the second factor. The sign-in page also offers a passkey alone.
 */
export function signInSteps({ provider, db, log, loginLimits, brand }: SignInDeps) {
  const rp = relyingPartyOf(provider.issuer, brand.name);
  let kit: InteractionKit;

  const resultOf = (interaction: Interaction): Result => ({ ...((interaction.result as Result | undefined) ?? {}) });

  /** The sign-in awaiting its second factor in this interaction, if any. */
  function pendingOf(interaction: Interaction): Pending | undefined {
    const stored = resultOf(interaction)[PENDING] as Pending | undefined;
    if (stored) return stored;
    const session = interaction.session as { accountId?: string; amr?: Amr[] } | undefined;
    const reasons = interaction.prompt.reasons;
    if (session?.accountId && reasons.length && reasons.every((r) => STEP_UP_REASONS.has(r))) {
      return { accountId: session.accountId, amr: session.amr?.length ? session.amr : ['pwd'] };
    }
    return undefined;
  }

  /** Keeps values in the interaction's result (server side), beside what it holds already. */
  async function save(ctx: Context, interaction: Interaction, values: Result) {
    const result = { ...resultOf(interaction), ...values };
    await provider.interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission: false });
    interaction.result = result as never;
  }

  /** What this sign-in needs: the request's acr, and `mfa` when the client or an organization requires it. */
  async function neededAcr(interaction: Interaction, accountId: string): Promise<string | undefined> {
    const requested = requestedAcr(interaction.params);
    if (requested === ACR.phr) return requested;
    const policy = await policyRequiresMfa(db, await provider.Client.find(String(interaction.params.client_id)), accountId);
    return stronger(requested, policy ? ACR.mfa : undefined);
  }

  async function finish(ctx: Context, interaction: Interaction, accountId: string, methods: Amr[]) {
    const returnTo = await loginResult(ctx, interaction, accountId, methods);
    ctx.status = 303;
    ctx.redirect(returnTo);
  }

  async function loginResult(ctx: Context, interaction: Interaction, accountId: string, methods: Amr[]) {
    const amr = amrOf(methods);
    const acr = acrFor(acrOf(amr), interaction.params);
    log.info('login succeeded', { sub: accountId, client_id: interaction.params.client_id, amr });
    return provider.interactionResult(ctx.req, ctx.res, { login: { accountId, amr, acr } }, { mergeWithLastSubmission: false });
  }

  /** A new WebAuthn challenge for the page about to be drawn (the previous one can no longer be answered). */
  async function passkeyOptions(ctx: Context, interaction: Interaction, ceremony: 'get' | 'create', accountId?: string, extra: Result = {}) {
    let options;
    if (ceremony === 'create') {
      const user = (await findUserById(db, accountId!))!;
      options = await registrationOptions(rp, user, await listPasskeys(db, user.id));
    } else {
      options = await authenticationOptions(rp, accountId ? await listPasskeys(db, accountId) : undefined);
    }
    await save(ctx, interaction, { ...extra, [CHALLENGE]: { challenge: options.challenge, ceremony } satisfies Challenge });
    return options;
  }

  /** The page's challenge for this ceremony, spent now: each answers one response at most. */
  async function spendChallenge(ctx: Context, interaction: Interaction, ceremony: Challenge['ceremony']): Promise<string | undefined> {
    const stored = resultOf(interaction)[CHALLENGE] as Challenge | undefined;
    if (!stored) return undefined;
    await save(ctx, interaction, { [CHALLENGE]: undefined });
    return stored.ceremony === ceremony ? stored.challenge : undefined;
  }

  /** Whether the user has a second factor already: then only that factor proves them, never a new one. */
  async function hasFactor(accountId: string): Promise<boolean> {
    const [totp, passkeys] = await Promise.all([findTotp(db, accountId), listPasskeys(db, accountId)]);
    return Boolean(totp?.confirmed) || passkeys.length > 0;
  }

  /** The second step's page: the code and/or the passkey, or the enrolment when the user has no factor. */
  async function showSecondStep(ctx: Context, interaction: Interaction, client: ClientView, p: PageContext, pending: Pending, error?: { status: number; text: string }) {
    const needed = await neededAcr(interaction, pending.accountId);
    const [totp, passkeys] = await Promise.all([findTotp(db, pending.accountId), listPasskeys(db, pending.accountId)]);
    const base = { uid: interaction.uid, csrf: kit.csrfFor(interaction.uid), client, error: error?.text };
    // A user who has a factor proves it, whatever the request asks: a request for a passkey
    // (urn:tessera:acr:phr) never lets a password alone add one. The code then gives mfa, lower
    // than asked, as OpenID Connect allows for acr_values; an essential phr ends unmet.
    const codes = Boolean(totp?.confirmed);
    ctx.type = 'html';
    if (codes || passkeys.length) {
      const passkey = passkeys.length ? { ceremony: 'get' as const, options: await passkeyOptions(ctx, interaction, 'get', pending.accountId), label: p.t.passkeyUse } : undefined;
      ctx.body = codePage(p, { ...base, codes, passkey });
    } else {
      // Nothing the user has would do: they add a factor. The authenticator's secret is made for this sign-in.
      const offerTotp = needed !== ACR.phr && !totp?.confirmed;
      const enrolSecret = offerTotp ? (pending.enrolSecret ?? newTotpSecret()) : pending.enrolSecret;
      const options = await passkeyOptions(ctx, interaction, 'create', pending.accountId, { [PENDING]: { ...pending, enrolSecret } });
      const user = await findUserById(db, pending.accountId);
      const totpView = offerTotp ? { secret: enrolSecret!, qrSvg: await qrSvg(totpUri(enrolSecret!, brand.name, user?.username ?? pending.accountId)) } : undefined;
      ctx.body = enrolPage(p, { ...base, totp: totpView, passkey: { ceremony: 'create', options, label: p.t.passkeyCreate } });
    }
    if (error) ctx.status = error.status;
  }

  /** Counted like a password attempt, before the code is checked: the counters, or the refusal when over the limit. */
  async function reserve(ctx: Context, accountId: string, p: PageContext): Promise<{ keys: ReturnType<typeof codeCounterKeys> } | { status: number; text: string }> {
    const keys = codeCounterKeys(accountId, ctx.ip, loginLimits);
    const attempt = await reserveLoginAttempt(db, keys, loginLimits.windowS);
    if (attempt.reserved) return { keys };
    const limit = decide(attempt.counters, loginLimits);
    const retryAfterS = limit.limited ? limit.retryAfterS : 1;
    log.warn('second factor rate limited', { by: limit.limited ? limit.by : 'unknown', retry_after_s: retryAfterS, sub: accountId });
    ctx.set('retry-after', String(retryAfterS));
    const minutes = minutesOf(retryAfterS);
    return { status: 429, text: p.t.tooManyAttempts.replace('{wait}', minutes === 1 ? p.t.minutesOne : p.t.minutesMany.replace('{count}', String(minutes))) };
  }

  /** After the first code or passkey: recovery codes when the user has none left, then on to the application. */
  async function afterFirstFactor(ctx: Context, interaction: Interaction, p: PageContext, pending: Pending, method: Amr[]) {
    const codes = (await remainingRecoveryCodes(db, pending.accountId)) ? undefined : await replaceRecoveryCodes(db, pending.accountId);
    if (!codes) return finish(ctx, interaction, pending.accountId, [...pending.amr, ...method]);
    const next = await loginResult(ctx, interaction, pending.accountId, [...pending.amr, ...method]);
    ctx.type = 'html';
    ctx.body = recoveryCodesPage(p, { codes, next });
  }

  const parseResponse = (text: string | undefined): unknown => {
    try {
      return JSON.parse(text ?? '');
    } catch {
      return undefined;
    }
  };

  return {
    /**
     * The login prompt's page when a second step is due; false for the password page. A request
     * whose essential acr nothing here can give ends at once.
     */
    async loginStep(ctx: Context, interaction: Interaction, client: ClientView, p: PageContext): Promise<boolean> {
      if (unattainableEssentialAcr(interaction.params)) {
        await provider.interactionFinished(ctx.req, ctx.res, { error: 'unmet_authentication_requirements', error_description: 'the requested authentication context cannot be obtained' }, { mergeWithLastSubmission: false });
        ctx.respond = false;
        return true;
      }
      const pending = pendingOf(interaction);
      if (!pending) return false;
      await showSecondStep(ctx, interaction, client, p, pending);
      return true;
    },

    /** "Sign in with a passkey" under the password form, with a fresh challenge. */
    async passkeySignIn(ctx: Context, interaction: Interaction, p: PageContext): Promise<SafeHtml> {
      const options = await passkeyOptions(ctx, interaction, 'get');
      return passkeyForm(p, interaction.uid, kit.csrfFor(interaction.uid), 'passkey', { ceremony: 'get', options, label: p.t.passkeySignIn });
    },

    /** After a right password: finishes the sign-in, or keeps it pending and shows the second step. */
    async afterPassword(ctx: Context, interaction: Interaction, accountId: string): Promise<void> {
      const [totp, passkeys] = await Promise.all([findTotp(db, accountId), listPasskeys(db, accountId)]);
      const second = Boolean(totp?.confirmed) || passkeys.length > 0 || (await neededAcr(interaction, accountId)) !== undefined;
      if (!second) return finish(ctx, interaction, accountId, ['pwd']);
      log.info('password accepted, second factor due', { sub: accountId, client_id: interaction.params.client_id });
      await save(ctx, interaction, { [PENDING]: { accountId, amr: ['pwd'] } });
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
        const reserved = await reserve(ctx, pending.accountId, p);
        if (!('keys' in reserved)) return showSecondStep(ctx, interaction, client, p, pending, reserved);
        const input = form.code ?? '';
        const totp = await findTotp(db, pending.accountId);
        const digits = normalizeTotp(input);
        let method: Amr | undefined;
        if (totp?.confirmed && digits) {
          const step = await checkTotp(totp.secret, digits, totp.last_time_step);
          if (step !== undefined && (await spendTimeStep(db, totp.id, step))) method = 'otp';
        } else if (!digits && (await spendRecoveryCode(db, pending.accountId, input))) {
          // A recovery code stands in for the lost factor: RFC 8176 has no value of its own for it.
          method = 'otp';
          log.info('recovery code used', { sub: pending.accountId });
        }
        if (!method) {
          log.info('second factor failed', { sub: pending.accountId, client_id: interaction.params.client_id });
          return showSecondStep(ctx, interaction, client, p, pending, { status: 401, text: p.t.wrongCode });
        }
        await forgiveLoginAttempt(db, reserved.keys);
        await finish(ctx, interaction, pending.accountId, [...pending.amr, method]);
      });

      router.post('/:uid/enrol', async (ctx) => {
        const { interaction, client, p } = await kit.details(ctx);
        const form = await readForm(ctx);
        if (!kit.csrfValid(interaction.uid, form.csrf)) return kit.forbidden(ctx, p);
        const pending = pendingOf(interaction);
        if (interaction.prompt.name !== 'login' || !pending?.enrolSecret) return kit.forbidden(ctx, p);
        // Enrolment is for a user with no factor yet; one who has one proves it instead.
        if (await hasFactor(pending.accountId)) return kit.forbidden(ctx, p);
        const reserved = await reserve(ctx, pending.accountId, p);
        if (!('keys' in reserved)) return showSecondStep(ctx, interaction, client, p, pending, reserved);
        const digits = normalizeTotp(form.code ?? '');
        const step = digits ? await checkTotp(pending.enrolSecret, digits, null) : undefined;
        if (step === undefined) {
          log.info('authenticator confirmation failed', { sub: pending.accountId });
          return showSecondStep(ctx, interaction, client, p, pending, { status: 400, text: p.t.wrongCode });
        }
        await forgiveLoginAttempt(db, reserved.keys);
        // Another sign-in added one meanwhile: this secret is not it, so the code proves nothing here.
        if (!(await addConfirmedTotp(db, pending.accountId, pending.enrolSecret, TOTP_LABEL, step))) return kit.forbidden(ctx, p);
        log.info('authenticator added', { sub: pending.accountId, client_id: interaction.params.client_id });
        await afterFirstFactor(ctx, interaction, p, pending, ['otp']);
      });

      // A passkey: the second step after a password (the user's own passkeys), or alone at the sign-in page (any discoverable one).
      router.post('/:uid/passkey', async (ctx) => {
        const { interaction, client, p } = await kit.details(ctx);
        const form = await readForm(ctx, 64 * 1024);
        if (!kit.csrfValid(interaction.uid, form.csrf)) return kit.forbidden(ctx, p);
        const challenge = await spendChallenge(ctx, interaction, 'get');
        if (interaction.prompt.name !== 'login' || !challenge) return kit.forbidden(ctx, p);
        const pending = pendingOf(interaction);
        const response = parseResponse(form.response);
        const passkey = await findPasskey(db, credentialIdOf(response) ?? '');
        const user = passkey && (!pending || passkey.user_id === pending.accountId) ? await findUserById(db, passkey.user_id) : undefined;
        const counter = user?.enabled ? await verifyAssertion(rp, challenge, response, passkey!) : undefined;
        if (counter === undefined || !(await usePasskey(db, passkey!.id, counter))) {
          log.info('passkey refused', { client_id: interaction.params.client_id, known: Boolean(passkey) });
          const refused = { status: 401, text: p.t.passkeyFailed };
          if (pending) return showSecondStep(ctx, interaction, client, p, pending, refused);
          ctx.status = 401;
          ctx.type = 'html';
          ctx.body = await kit.loginPage(ctx, interaction, client, p, { error: p.t.passkeyFailed });
          return;
        }
        await finish(ctx, interaction, user!.id, [...(pending?.amr ?? []), ...passkeyAmr(passkey!.device_type)]);
      });

      router.post('/:uid/passkey-register', async (ctx) => {
        const { interaction, client, p } = await kit.details(ctx);
        const form = await readForm(ctx, 64 * 1024);
        if (!kit.csrfValid(interaction.uid, form.csrf)) return kit.forbidden(ctx, p);
        const challenge = await spendChallenge(ctx, interaction, 'create');
        const pending = pendingOf(interaction);
        // Registering is the enrolment of a user with no factor yet, on the enrolment page's own challenge.
        if (interaction.prompt.name !== 'login' || !pending || !challenge || (await hasFactor(pending.accountId))) return kit.forbidden(ctx, p);
        const credential = await verifyRegistration(rp, challenge, parseResponse(form.response));
        if (!credential || !(await addPasskey(db, { ...credential, user_id: pending.accountId, label: PASSKEY_LABEL }))) {
          log.info('passkey registration refused', { sub: pending.accountId });
          return showSecondStep(ctx, interaction, client, p, pending, { status: 400, text: p.t.passkeyFailed });
        }
        log.info('passkey added', { sub: pending.accountId, client_id: interaction.params.client_id });
        await afterFirstFactor(ctx, interaction, p, pending, passkeyAmr(credential.device_type));
      });
    },
  };
}

export type SignInSteps = ReturnType<typeof signInSteps>;
