import { createHmac, timingSafeEqual } from 'node:crypto';
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
import { ORGANIZATION_PROMPT } from '../oidc/organization-policy.ts';
import { counterKeys, decide, minutesText, type LoginLimits } from '../auth/login-limits.ts';
import { forgiveLoginAttempt, releaseLoginAttempt, reserveLoginAttempt } from '../storage/login-failures.ts';

type Deps = { provider: Provider; db: Database; log: Logger; metrics: Metrics; csrfKey: string; passwords: Passwords; loginLimits: LoginLimits };

/**
 * Our own login and consent pages (no devInteractions). Each form carries a token bound to the
 * interaction, on top of the interaction cookie, so a cross-site post cannot complete a step.
 */
export function interactionRoutes({ provider, db, log, metrics, csrfKey, passwords, loginLimits }: Deps): Router {
  const router = new Router({ prefix: '/interaction' });
  const csrfFor = (uid: string) => createHmac('sha256', csrfKey).update(`interaction:${uid}`).digest('base64url');
  const csrfValid = (uid: string, token: string | undefined) => {
    const expected = Buffer.from(csrfFor(uid));
    const actual = Buffer.from(token ?? '');
    return actual.length === expected.length && timingSafeEqual(actual, expected);
  };
  const devices = deviceCookies(csrfKey);

  const details = async (ctx: Context) => {
    const interaction = await provider.interactionDetails(ctx.req, ctx.res);
    if (interaction.uid !== ctx.params.uid) throw Object.assign(new Error('interaction mismatch'), { name: 'SessionNotFound' });
    const client = await provider.Client.find(interaction.params.client_id as string);
    return { interaction, clientName: client?.clientName ?? client?.clientId ?? 'an application' };
  };

  router.use(async (ctx, next) => {
    ctx.set('cache-control', 'no-store');
    try {
      await next();
    } catch (err) {
      const name = (err as Error).name;
      if (name === 'SessionNotFound' || name === 'InvalidRequest') {
        ctx.status = 400;
        ctx.type = 'html';
        ctx.body = errorPage('Sign-in expired', 'This sign-in page has expired or was opened in another browser. Go back to the application and start again.');
        return;
      }
      throw err;
    }
  });

  router.get('/:uid', async (ctx) => {
    const { interaction, clientName } = await details(ctx);
    const uid = interaction.uid;
    ctx.type = 'html';
    if (interaction.prompt.name === 'login') {
      ctx.body = loginPage({ uid, csrf: csrfFor(uid), clientName, username: interaction.params.login_hint as string | undefined });
    } else if (interaction.prompt.name === ORGANIZATION_PROMPT) {
      const choices = await organizationChoices(interaction);
      ctx.body = organizationPage({ uid, csrf: csrfFor(uid), clientName, choices });
    } else {
      const missing = interaction.prompt.details as { missingOIDCScope?: string[]; missingResourceScopes?: Record<string, string[]> };
      const scopes = [...(missing.missingOIDCScope ?? []), ...Object.values(missing.missingResourceScopes ?? {}).flat()];
      ctx.body = consentPage({ uid, csrf: csrfFor(uid), clientName, scopes: [...new Set(scopes)], resources: Object.keys(missing.missingResourceScopes ?? {}) });
    }
  });

  router.post('/:uid/login', async (ctx) => {
    const { interaction, clientName } = await details(ctx);
    const form = await readForm(ctx);
    if (!csrfValid(interaction.uid, form.csrf)) return forbidden(ctx);
    const username = (form.username ?? '').trim();
    const again = (status: number, error: string) => {
      ctx.status = status;
      ctx.type = 'html';
      ctx.body = loginPage({ uid: interaction.uid, csrf: csrfFor(interaction.uid), clientName, username, error });
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
      return again(429, `Too many failed sign-in attempts. For your security, try again in ${minutesText(retryAfterS)}.`);
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
      return again(503, 'Sign-in is busy right now. Try again in a moment.');
    }
    if (!user || !user.password_hash || !ok) {
      log.info('login failed', { reason: 'bad_credentials', client_id: interaction.params.client_id });
      return again(401, 'Wrong username or password.');
    }
    await forgiveLoginAttempt(db, keys);
    if (!user.enabled) {
      log.info('login refused', { reason: 'disabled', sub: user.id });
      return again(401, 'This account is disabled. Contact your administrator.');
    }
    if (passwords.needsRehash(user.password_hash)) await upgradeHash(user.id, user.password_hash, form.password ?? '');
    devices.issue(ctx, username);
    log.info('login succeeded', { sub: user.id, client_id: interaction.params.client_id });
    await provider.interactionFinished(ctx.req, ctx.res, { login: { accountId: user.id } }, { mergeWithLastSubmission: false });
    ctx.respond = false;
  });

  router.post('/:uid/organization', async (ctx) => {
    const { interaction } = await details(ctx);
    const form = await readForm(ctx);
    if (!csrfValid(interaction.uid, form.csrf)) return forbidden(ctx);
    if (interaction.prompt.name !== ORGANIZATION_PROMPT) return forbidden(ctx);
    const choices = await organizationChoices(interaction);
    if (!choices.some((c) => c.alias === form.organization)) return forbidden(ctx);
    await provider.interactionFinished(ctx.req, ctx.res, { organization: { alias: form.organization } }, { mergeWithLastSubmission: true });
    ctx.respond = false;
  });

  router.post('/:uid/confirm', async (ctx) => {
    const { interaction } = await details(ctx);
    const form = await readForm(ctx);
    if (!csrfValid(interaction.uid, form.csrf)) return forbidden(ctx);
    if (interaction.prompt.name !== 'consent' || !interaction.session?.accountId) return forbidden(ctx);
    const grant = interaction.grantId
      ? await provider.Grant.find(interaction.grantId)
      : new provider.Grant({ accountId: interaction.session.accountId, clientId: interaction.params.client_id as string });
    if (!grant) return forbidden(ctx);
    const missing = interaction.prompt.details as { missingOIDCScope?: string[]; missingOIDCClaims?: string[]; missingResourceScopes?: Record<string, string[]> };
    if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
    if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
    for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {})) grant.addResourceScope(indicator, scopes.join(' '));
    const grantId = await grant.save();
    await provider.interactionFinished(ctx.req, ctx.res, { consent: { grantId } }, { mergeWithLastSubmission: true });
    ctx.respond = false;
  });

  router.post('/:uid/abort', async (ctx) => {
    const { interaction } = await details(ctx);
    const form = await readForm(ctx);
    if (!csrfValid(interaction.uid, form.csrf)) return forbidden(ctx);
    await provider.interactionFinished(
      ctx.req,
      ctx.res,
      { error: 'access_denied', error_description: 'the user cancelled the request' },
      { mergeWithLastSubmission: false },
    );
    ctx.respond = false;
  });

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

function forbidden(ctx: Context) {
  ctx.status = 403;
  ctx.type = 'html';
  ctx.body = errorPage('Request refused', 'This form could not be verified. Reload the sign-in page and try again.');
}
