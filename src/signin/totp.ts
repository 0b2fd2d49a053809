import { generateSecret, generateURI, verify } from 'otplib';
import QRCode from 'qrcode';

/**
 * Authenticator codes (TOTP, RFC 6238) through otplib, with the parameters every authenticator app
 * reads: SHA-1, 6 digits, 30 s. A code is accepted from the current step or the one before or after
 * (a clock off by up to 30 s), and only from a step later than the last one accepted.
 */
export const TOTP_PERIOD_S = 30;

export const newTotpSecret = (): string => generateSecret();

/** The otpauth:// URI an authenticator app reads from the QR code. */
export function totpUri(secret: string, issuer: string, account: string): string {
  return generateURI({ issuer, label: account, secret });
}

/** The QR code of that URI as an SVG document, drawn on the server. */
export function qrSvg(uri: string): Promise<string> {
  return QRCode.toString(uri, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
}

/** Six digits, spaces allowed (as apps show them): anything else is not a code. */
export function normalizeTotp(input: string): string | undefined {
  const code = input.replace(/\s+/g, '');
  return /^\d{6}$/.test(code) ? code : undefined;
}

/** The time step a code belongs to when it is right and later than `afterTimeStep`; undefined otherwise. */
export async function checkTotp(secret: string, code: string, afterTimeStep: number | null): Promise<number | undefined> {
  const result = await verify({ secret, token: code, epochTolerance: TOTP_PERIOD_S, ...(afterTimeStep !== null ? { afterTimeStep } : {}) });
  // otplib answers a TOTP check with the step the code matched (an HOTP one has none).
  return result.valid && 'timeStep' in result ? result.timeStep : undefined;
}
