import { z } from 'zod';

/**
 * The one comparison rule for usernames: NFKC, then JavaScript's lower-casing, applied here only (never
 * by SQL's lower(), whose rules depend on the database's locale). Storage, lookup and the login counters
 * all use this key, so `vİctim`, `VICTIM` and `victim` are one account with one set of counters.
 */
export function usernameKey(username: string): string {
  return username.trim().normalize('NFKC').toLowerCase();
}

// Characters a person cannot see or that reorder text: zero-width and format characters (Cf: ZWSP,
// ZWJ, bidi overrides...), controls, separators and other default-ignorable code points.
const INVISIBLE = /[\p{Cf}\p{Cc}\p{Z}\p{Default_Ignorable_Code_Point}\s]/u;

/** True when a username could be told apart from another only by characters nobody sees. */
export function hasInvisibleCharacters(username: string): boolean {
  return INVISIBLE.test(username);
}

export const Username = z
  .string()
  .trim()
  .min(1)
  .max(200)
  .refine((u) => !/\s/.test(u), 'must not contain spaces')
  .refine((u) => !hasInvisibleCharacters(u), 'must not contain invisible, zero-width or text-direction characters');
