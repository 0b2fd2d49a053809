/**
 * Stronger sign-in (issue 18): second factors, how strongly a person signed in (amr/acr), and the
 * policy that asks for more. The one place the capability is registered: the provider's
 * configuration and login checks, the interaction pages, and the tokens' claims.
 */
import { errors, type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import type { Database } from '../db/connect.ts';
import { ACR_VALUES_SUPPORTED } from './acr.ts';
import { stepUpCheck } from './policy.ts';

export { signInSteps, type SignInSteps } from './routes.ts';
import type Router from '@koa/router';
import type Provider from 'oidc-provider';
import type { Logger } from '../log.ts';
import type { Brand } from '../interactions/brand.ts';
import type { Passwords } from '../auth/passwords.ts';
import type { LoginLimits } from '../auth/login-limits.ts';
import { passwordReset, type Mailer, type PasswordReset } from './password-reset.ts';
import { emailVerificationRoutes } from './email-verification.ts';
import { accountRoutes } from './account.ts';
export { authClaimsOf } from './token-claims.ts';

/** The ID token claims a `claims` request may ask for: how and when the person signed in. Everything else is asked for with scopes, so consent shows it. */
const REQUESTABLE_CLAIMS = new Set(['acr', 'amr', 'auth_time']);

async function assertClaimsParameter(_ctx: KoaContextWithOIDC, claims: Record<string, unknown>): Promise<void> {
  for (const container of ['userinfo', 'id_token'] as const) {
    const members = claims[container];
    if (members === undefined) continue;
    for (const [name, value] of Object.entries(members as Record<string, unknown>)) {
      if (value !== null && (typeof value !== 'object' || Array.isArray(value))) throw new errors.InvalidRequest(`claims.${container} members must be null or objects`);
      if (container === 'userinfo' || !REQUESTABLE_CLAIMS.has(name)) {
        throw new errors.InvalidRequest(`the claims parameter may ask only for id_token ${[...REQUESTABLE_CLAIMS].join(', ')}; ask for other claims with scopes`);
      }
    }
  }
}

/** What the sign-in capability sets in oidc-provider's configuration. */
export function signInConfiguration(): Pick<Configuration, 'acrValues'> & { claimsParameter: NonNullable<Configuration['features']>['claimsParameter'] } {
  return {
    acrValues: ACR_VALUES_SUPPORTED,
    claimsParameter: { enabled: true, assertClaimsParameter: assertClaimsParameter as never },
  };
}

/** Adds the step-up check to the login prompt of an interaction policy. */
export function withStepUp<P extends { get(name: string): { checks: unknown[] } | undefined }>(policy: P, db: Database): P {
  policy.get('login')!.checks.push(stepUpCheck(db));
  return policy;
}

export type SignInPagesDeps = { provider: Provider; db: Database; log: Logger; brand: Brand; csrfKey: string; passwords: Passwords; loginLimits: LoginLimits; mailer: Mailer | undefined };

/**
 * The capability's pages outside the sign-in interaction, each router under its own prefix:
 * `/reset` (password reset links), `/verify-email`, `/account`. `reset` also serves the
 * interaction's "Forgot your password?" step. The pages' script is `/assets/passkey.js` (PASSKEY_SCRIPT).
 */
export function signInPages(deps: SignInPagesDeps): { reset: PasswordReset; routers: Router[] } {
  const { provider, db, log, brand, csrfKey, passwords, loginLimits, mailer } = deps;
  const reset = passwordReset({ db, log, brand, issuer: provider.issuer, csrfKey, passwords, mailer, loginLimits });
  return {
    reset,
    routers: [reset.resetRouter(), emailVerificationRoutes({ db, log, brand, csrfKey }), accountRoutes({ provider, db, log, brand, csrfKey, passwords, loginLimits, mailer })],
  };
}

export { PASSKEY_SCRIPT } from './passkey-script.ts';
export type { Mailer } from './password-reset.ts';
