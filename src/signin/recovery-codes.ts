import { createHash, randomBytes } from 'node:crypto';

/**
 * Recovery codes: ten per user, shown once when the authenticator is confirmed, each usable once.
 * A code is 50 random bits (ten base32 letters and digits, shown as `xxxxx-xxxxx`), so a hash
 * without a slow function is enough; the user's id salts it.
 */
export const RECOVERY_CODE_COUNT = 10;
const ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';

export function newRecoveryCodes(): string[] {
  return Array.from({ length: RECOVERY_CODE_COUNT }, () => {
    const bytes = randomBytes(10);
    const chars = [...bytes].map((b) => ALPHABET[b % 32]).join('');
    return `${chars.slice(0, 5)}-${chars.slice(5)}`;
  });
}

/** As typed: case, spaces and dashes do not matter. Undefined when it cannot be a recovery code. */
export function normalizeRecoveryCode(input: string): string | undefined {
  const code = input.toLowerCase().replace(/[\s-]+/g, '');
  return /^[a-z2-7]{10}$/.test(code) ? code : undefined;
}

export function hashRecoveryCode(userId: string, normalized: string): string {
  return createHash('sha256').update(`recovery\0${userId}\0${normalized}`).digest('base64url');
}
