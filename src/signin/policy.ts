import { interactionPolicy, type KoaContextWithOIDC } from 'oidc-provider';
import type { Database } from '../db/connect.ts';
import { ACR, acrAskedFor, satisfies, stronger } from './acr.ts';
import { memberOfMfaOrganization } from './storage.ts';

const { Check } = interactionPolicy;

/** The reason a signed-in session is sent back to the login prompt for its second factor. */
export const STEP_UP_REASON = 'tessera_mfa';

/** Login prompt reasons the second-factor page answers on its own (the session's password still counts). */
export const STEP_UP_REASONS = new Set([STEP_UP_REASON, 'essential_acr', 'essential_acrs']);

type RequestParams = { acr_values?: unknown; claims?: unknown };

/** The acr values a `claims` request marks essential for the ID token, if any. */
export function essentialAcrs(claims: unknown): string[] | undefined {
  let parsed: unknown = claims;
  if (typeof claims === 'string') {
    try {
      parsed = JSON.parse(claims);
    } catch {
      return undefined;
    }
  }
  const acr = (parsed as { id_token?: { acr?: { essential?: unknown; value?: unknown; values?: unknown } } } | undefined)?.id_token?.acr;
  if (!acr || acr.essential !== true) return undefined;
  if (typeof acr.value === 'string') return [acr.value];
  if (Array.isArray(acr.values)) return acr.values.filter((v): v is string => typeof v === 'string');
  return undefined;
}

/**
 * The acr the authorization request asks of the sign-in, if more than a password: from acr_values
 * when they list only values stronger than a password, or from an essential acr without `pwd`
 * (the weakest acceptable value: `mfa` if listed, else `phr`). The stronger of the two.
 */
export function requestedAcr(params: RequestParams): string | undefined {
  const essential = essentialAcrs(params.claims);
  const fromClaims = essential && essential.length && !essential.includes(ACR.pwd) ? (essential.includes(ACR.mfa) ? ACR.mfa : essential.includes(ACR.phr) ? ACR.phr : undefined) : undefined;
  return stronger(acrAskedFor(params.acr_values), fromClaims);
}

export const requestWantsMfa = (params: RequestParams): boolean => requestedAcr(params) !== undefined;

/**
 * An essential acr that no sign-in here can give (values Tessera does not know): the request ends
 * with `unmet_authentication_requirements` instead of asking again and again.
 */
export function unattainableEssentialAcr(params: RequestParams): boolean {
  const essential = essentialAcrs(params.claims);
  return Boolean(essential && essential.length && !essential.some((v) => v === ACR.pwd || v === ACR.mfa || v === ACR.phr));
}

/**
 * The acr recorded for a sign-in: what its methods make, unless the request made acr values
 * essential that do not include it but that it satisfies (a passkey sign-in asked for `mfa`): then
 * the strongest of those, so the essential request is met exactly, as oidc-provider checks it.
 */
export function acrFor(achieved: string, params: RequestParams): string {
  const essential = essentialAcrs(params.claims);
  if (!essential?.length || essential.includes(achieved)) return achieved;
  const met = essential.filter((v) => satisfies(achieved, v) && Object.values(ACR).includes(v as never));
  return met.reduce<string | undefined>((a, b) => stronger(a, b), undefined) ?? achieved;
}

/**
 * The deployment's rule for this sign-in: the client's `mfa: required`, or the user's membership of
 * an organization with `mfa: required` (which then holds for every client the member signs in to).
 */
export async function policyRequiresMfa(db: Database, client: unknown, accountId: string): Promise<boolean> {
  if ((client as Record<string, unknown> | undefined)?.['mfa'] === 'required') return true;
  return memberOfMfaOrganization(db, accountId);
}

/**
 * Added to oidc-provider's login prompt: a session signed in with a password alone goes back to
 * the login prompt when the request or the policy wants a second factor (step-up). Essential acr claims are
 * checked by oidc-provider's own `essential_acr(s)` checks.
 */
export function stepUpCheck(db: Database) {
  return new Check(STEP_UP_REASON, 'a second factor is required', 'login_required', async (ctx: KoaContextWithOIDC) => {
    const accountId = ctx.oidc.session?.accountId;
    if (!accountId) return Check.NO_NEED_TO_PROMPT;
    const requested = requestedAcr(ctx.oidc.params as RequestParams);
    if (requested && !satisfies(ctx.oidc.acr, requested)) return Check.REQUEST_PROMPT;
    if (satisfies(ctx.oidc.acr, ACR.mfa)) return Check.NO_NEED_TO_PROMPT;
    return (await policyRequiresMfa(db, ctx.oidc.client, accountId)) ? Check.REQUEST_PROMPT : Check.NO_NEED_TO_PROMPT;
  });
}
