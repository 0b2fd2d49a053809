import { formTokens } from '../http/form-token.ts';
import Router from '@koa/router';
import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import type { Database } from '../db/connect.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import { readForm } from '../http/form.ts';
import { findUserForLogin, upgradePasswordHash } from '../storage/users.ts';
import type { Passwords } from '../auth/passwords.ts';
import { HashQueueFull } from '../auth/hash-queue.ts';
import { deviceCookies } from '../auth/device-cookie.ts';
import { consentPage, errorPage, loginPage, organizationPage } from './views.ts';
import { contentSecurityPolicy } from '../http/security-headers.ts';
import type { Brand } from './brand.ts';
import type { ClientView } from './client-view.ts';
import { pageContext, type PageContext } from './page-context.ts';
import { describeScopes } from './scope-texts.ts';
import { scopeFacts, signedInUser } from './consent-facts.ts';
import { endSignIn } from './switch-user.ts';
import { ORGANIZATION_PROMPT } from '../oidc/organization-policy.ts';
import { counterKeys, decide, minutesOf, type LoginLimits } from '../auth/login-limits.ts';
import { forgiveLoginAttempt, releaseLoginAttempt, reserveLoginAttempt } from '../storage/login-failures.ts';
import { signInSteps } from '../signin/index.ts';
import type { PasswordReset } from '../signin/password-reset.ts';
import { html } from './html.ts';

type Deps = { provider: Provider; db: Database; log: Logger; metrics: Metrics; csrfKey: string; passwords: Passwords; loginLimits: LoginLimits; brand: Brand; reset?: PasswordReset };

/**
 * Our own login and consent pages (no devInteractions). Each form carries a token bound to the
 * interaction, on top of the interaction cookie, so a cross-site post cannot complete a step.
 */
export function interactionRoutes({ provider, db, log, metrics, csrfKey, passwords, loginLimits, brand, reset }: Deps): Router {
  const router = new Router({ prefix: '/interaction' });
  const csrf = formTokens(csrfKey, 'interaction');
  const csrfFor = (uid: string) => csrf.make(uid);
  const csrfValid = (uid: string, token: string | undefined) => csrf.valid(token, uid);
  const devices = deviceCookies(csrfKey);
  // The second step after the password, and step-up (src/signin/).
  const steps = signInSteps({ provider, db, log, loginLimits, brand });

  const details = async (ctx: Context) => {
    const interaction = await provider.interactionDetails(ctx.req, ctx.res);
    if (interaction.uid !== ctx.params.uid) throw Object.assign(new Error('interaction mismatch'), { name: 'SessionNotFound' });
    const client = await provider.Client.find(interaction.params.client_id as string);
    const view: ClientView = {
      name: client?.clientName ?? client?.clientId ?? String(interaction.params.client_id),
      logoUri: client?.logoUri,
      clientUri: client?.clientUri,
      policyUri: client?.policyUri,
      tosUri: client?.tosUri,
    };
    // Besides the brand's, the application's logo is the one image from elsewhere its pages may show.
    ctx.set('content-security-policy', contentSecurityPolicy([brand.logoUrl, view.logoUri]));
    return { interaction, client: view, p: pageFor(ctx, interaction.params.ui_locales) };
  };
  /** The page's language: the request's ui_locales, else the browser's Accept-Language. */
  const pageFor = (ctx: Context, uiLocales?: unknown): PageContext => pageContext(brand, { uiLocales, acceptLanguage: ctx.get('accept-language') });

  router.use(async (ctx, next) => {
    ctx.set('cache-control', 'no-store');
    try {
      await next();
    } catch (err) {
      const name = (err as Error).name;
      if (name === 'SessionNotFound' || name === 'InvalidRequest') {
        ctx.status = 400;
        ctx.type = 'html';
        const p = pageFor(ctx, ctx.query.ui_locales);
        ctx.body = errorPage(p, p.t.expiredTitle, p.t.expiredMessage);
        return;
      }
      throw err;
    }
  });

  router.get('/:uid', async (ctx) => {
    const { interaction, client, p } = await details(ctx);
    const uid = interaction.uid;
    ctx.type = 'html';
    if (interaction.prompt.name === 'login') {
      if (await steps.loginStep(ctx, interaction, client, p)) return;
      ctx.body = await passwordPage(ctx, interaction, client, p, { username: interaction.params.login_hint as string | undefined });
    } else if (interaction.prompt.name === ORGANIZATION_PROMPT) {
      const choices = await organizationChoices(interaction);
      ctx.body = organizationPage(p, { uid, csrf: csrfFor(uid), client, choices });
    } else {
      const missing = interaction.prompt.details as { missingOIDCScope?: string[]; missingResourceScopes?: Record<string, string[]> };
      const accountId = interaction.session?.accountId;
      const [facts, user] = await Promise.all([
        scopeFacts(db, brand.name, interaction, missing.missingResourceScopes ?? {}),
        accountId ? signedInUser(db, accountId) : '',
      ]);
      ctx.body = consentPage(p, { uid, csrf: csrfFor(uid), client, user, scopes: describeScopes(p.t, missing.missingOIDCScope ?? [], facts) });
    }
  });

  router.post('/:uid/login', async (ctx) => {
    const { interaction, client, p } = await details(ctx);
    const { t } = p;
    const form = await readForm(ctx);
    if (!csrfValid(interaction.uid, form.csrf)) return forbidden(ctx, p);
    const username = (form.username ?? '').trim();
    const again = async (status: number, error: string) => {
      ctx.body = await passwordPage(ctx, interaction, client, p, { username, error });
      ctx.status = status;
      ctx.type = 'html';
    };
    // Counted before the password is checked, atomically: a limited attempt costs no hashing, and even
    // the right password is refused. A browser that signed in as this user before is counted on its own.
    const keys = counterKeys(username, ctx.ip, loginLimits, devices.read(ctx, username));
    const attempt = await reserveLoginAttempt(db, keys, loginLimits.windowS);
    if (!attempt.reserved) {
      const limit = decide(attempt.counters, loginLimits);
      const retryAfterS = limit.limited ? limit.retryAfterS : 1;
      log.warn('login rate limited', { by: limit.limited ? limit.by : 'unknown', retry_after_s: retryAfterS, client_id: interaction.params.client_id });
      ctx.set('retry-after', String(retryAfterS));
      const minutes = minutesOf(retryAfterS);
      const wait = minutes === 1 ? t.minutesOne : t.minutesMany.replace('{count}', String(minutes));
      return again(429, t.tooManyAttempts.replace('{wait}', wait));
    }
    const user = username ? await findUserForLogin(db, username) : undefined;
    let ok: boolean;
    try {
      // Unknown users are checked against a decoy of the same cost, so the answer takes as long either way.
      ok = await passwords.verify(form.password ?? '', user?.password_hash);
      metrics.passwordChecks.inc({ outcome: ok ? 'match' : 'mismatch' });
    } catch (err) {
      if (!(err instanceof HashQueueFull)) throw err;
      metrics.passwordChecks.inc({ outcome: 'busy' });
      // Not checked, so not counted: the person may simply try again.
      await releaseLoginAttempt(db, keys);
      log.warn('login refused', { reason: 'password_checks_busy', client_id: interaction.params.client_id });
      ctx.set('retry-after', '1');
      return again(503, t.busy);
    }
    if (!user || !user.password_hash || !ok) {
      log.info('login failed', { reason: 'bad_credentials', client_id: interaction.params.client_id });
      return again(401, t.wrongPassword);
    }
    await forgiveLoginAttempt(db, keys);
    if (!user.enabled) {
      log.info('login refused', { reason: 'disabled', sub: user.id });
      return again(401, t.accountDisabled);
    }
    if (passwords.needsRehash(user.password_hash)) await upgradeHash(user.id, user.password_hash, form.password ?? '');
    devices.issue(ctx, username);
    await steps.afterPassword(ctx, interaction, user.id);
  });

  router.post('/:uid/organization', async (ctx) => {
    const { interaction, p } = await details(ctx);
    const form = await readForm(ctx);
    if (!csrfValid(interaction.uid, form.csrf)) return forbidden(ctx, p);
    if (interaction.prompt.name !== ORGANIZATION_PROMPT) return forbidden(ctx, p);
    const choices = await organizationChoices(interaction);
    if (!choices.some((c) => c.alias === form.organization)) return forbidden(ctx, p);
    await provider.interactionFinished(ctx.req, ctx.res, { organization: { alias: form.organization } }, { mergeWithLastSubmission: true });
    ctx.respond = false;
  });

  router.post('/:uid/confirm', async (ctx) => {
    const { interaction, p } = await details(ctx);
    const form = await readForm(ctx);
    if (!csrfValid(interaction.uid, form.csrf)) return forbidden(ctx, p);
    if (interaction.prompt.name !== 'consent' || !interaction.session?.accountId) return forbidden(ctx, p);
    const grant = interaction.grantId
      ? await provider.Grant.find(interaction.grantId)
      : new provider.Grant({ accountId: interaction.session.accountId, clientId: interaction.params.client_id as string });
    if (!grant) return forbidden(ctx, p);
    const missing = interaction.prompt.details as { missingOIDCScope?: string[]; missingOIDCClaims?: string[]; missingResourceScopes?: Record<string, string[]> };
    if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
    if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
    for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {})) grant.addResourceScope(indicator, scopes.join(' '));
    const grantId = await grant.save();
    await provider.interactionFinished(ctx.req, ctx.res, { consent: { grantId } }, { mergeWithLastSubmission: true });
    ctx.respond = false;
  });

  // "Not you?": the person signed in is signed out of this browser, and the same request starts over at sign-in.
  router.post('/:uid/switch-user', async (ctx) => {
    const { interaction, p } = await details(ctx);
    const form = await readForm(ctx);
    if (!csrfValid(interaction.uid, form.csrf)) return forbidden(ctx, p);
    if (!interaction.session?.accountId) return forbidden(ctx, p);
    await endSignIn(provider, interaction);
    log.info('sign-in restarted as another user', { client_id: interaction.params.client_id });
    ctx.redirect(interaction.returnTo);
  });

  router.post('/:uid/abort', async (ctx) => {
    const { interaction, p } = await details(ctx);
    const form = await readForm(ctx);
    if (!csrfValid(interaction.uid, form.csrf)) return forbidden(ctx, p);
    await provider.interactionFinished(
      ctx.req,
      ctx.res,
      { error: 'access_denied', error_description: 'the user cancelled the request' },
      { mergeWithLastSubmission: false },
    );
    ctx.respond = false;
  });

  /** The sign-in page: the password form, and "Sign in with a passkey" (src/signin/). */
  async function passwordPage(ctx: Context, interaction: Awaited<ReturnType<typeof details>>['interaction'], client: ClientView, p: PageContext, v: { username?: string; error?: string }) {
    const more = html`${reset?.forgotLink(p, interaction.uid) ?? ''}${await steps.passkeySignIn(ctx, interaction, p)}`;
    return loginPage(p, { uid: interaction.uid, csrf: csrfFor(interaction.uid), client, ...v, more });
  }

  const kit = { details, csrfFor, csrfValid, forbidden, loginPage: passwordPage };
  steps.routes(router, kit);
  reset?.routes(router, kit);

  /** A hash of older parameters (or scrypt) is replaced now that the password is known; a failure only waits for the next sign-in. */
  async function upgradeHash(id: string, oldHash: string, password: string) {
    try {
      await upgradePasswordHash(db, id, oldHash, await passwords.hash(password));
      log.info('password hash upgraded', { sub: id });
    } catch (err) {
      log.warn('password hash upgrade failed', { sub: id, err: (err as Error).message });
    }
  }

  /** The organizations offered on the page: the user's own, as the policy computed them. */
  async function organizationChoices(interaction: { prompt: { details: unknown } }) {
    const details = interaction.prompt.details as { choices?: Array<{ alias: string; name: string; roles: string[] }> };
    return details.choices ?? [];
  }

  return router;
}

function forbidden(ctx: Context, p: PageContext) {
  ctx.status = 403;
  ctx.type = 'html';
  ctx.body = errorPage(p, p.t.refusedTitle, p.t.refusedMessage);
}
