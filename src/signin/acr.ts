/**
 * How strongly a person signed in: the `amr` values of RFC 8176 that Tessera records in the
 * session, and the `acr` (authentication context class) it derives from them.
 */
export const ACR = {
  pwd: 'urn:tessera:acr:pwd',
  mfa: 'urn:tessera:acr:mfa',
  /** Phishing-resistant: a sign-in with a passkey. */
  phr: 'urn:tessera:acr:phr',
} as const;

export const ACR_VALUES_SUPPORTED = [ACR.pwd, ACR.mfa, ACR.phr];

/** RFC 8176 method references Tessera uses. */
export type Amr = 'pwd' | 'otp' | 'hwk' | 'swk' | 'mfa' | 'user';

/** The methods of a sign-in, with `mfa` added when there were two distinct factors. */
export function amrOf(methods: Amr[]): Amr[] {
  const own = [...new Set(methods.filter((m) => m !== 'mfa'))];
  return own.length >= 2 ? [...own, 'mfa'] : own;
}

/** A passkey (hwk or swk, with user verification) is phishing-resistant; two factors otherwise make mfa. */
export function acrOf(amr: readonly string[]): string {
  if (amr.includes('mfa') && (amr.includes('hwk') || amr.includes('swk'))) return ACR.phr;
  return amr.includes('mfa') ? ACR.mfa : ACR.pwd;
}

/** The stronger of two acr values (undefined: nothing asked). */
export const stronger = (a: string | undefined, b: string | undefined): string | undefined => (a === undefined ? b : b === undefined ? a : satisfies(a, b) ? a : b);

/** Whether a session's acr is at least as strong as the one asked for (phr > mfa > pwd). */
export function satisfies(have: string | undefined, wanted: string): boolean {
  const rank = (acr: string | undefined) => (acr === ACR.phr ? 3 : acr === ACR.mfa ? 2 : acr === ACR.pwd ? 1 : 0);
  return rank(have) >= rank(wanted);
}

/**
 * The acr an authorization request insists on through `acr_values`, when every value it lists is
 * stronger than a password: the weakest of them (`mfa` if listed, else `phr`); undefined when a
 * password is enough (no acr_values, or one of them is `pwd` or unknown).
 */
export function acrAskedFor(acrValues: unknown): string | undefined {
  if (typeof acrValues !== 'string' || !acrValues.trim()) return undefined;
  const values = acrValues.trim().split(/\s+/);
  if (!values.every((v) => v === ACR.mfa || v === ACR.phr)) return undefined;
  return values.includes(ACR.mfa) ? ACR.mfa : ACR.phr;
}
