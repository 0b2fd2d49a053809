import { randomBytes } from 'node:crypto';
import { Algorithm, hash, verify } from '@node-rs/argon2';
import { isLegacyScryptHash, verifyLegacyScrypt } from './legacy-scrypt.ts';

/**
 * Passwords are stored as argon2id PHC strings ($argon2id$v=19$m=…,t=…,p=1$salt$hash), OWASP's current
 * minimum by default. The parameters travel inside each hash, so raising them never breaks old hashes,
 * and a hash made with weaker ones (or the scrypt format of earlier versions) is upgraded at the next
 * successful sign-in.
 */
export type PasswordHashing = { memoryKiB: number; passes: number };

/** OWASP Password Storage Cheat Sheet: argon2id, m = 19 MiB, t = 2, p = 1. */
export const DEFAULT_PASSWORD_HASHING: PasswordHashing = { memoryKiB: 19456, passes: 2 };

// Typed the same whichever way it was composed (é as one code point or two).
const normalized = (password: string) => password.normalize('NFKC');

export function hashPassword(password: string, hashing: PasswordHashing): Promise<string> {
  return hash(normalized(password), { algorithm: Algorithm.Argon2id, memoryCost: hashing.memoryKiB, timeCost: hashing.passes, parallelism: 1 });
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  if (isLegacyScryptHash(stored)) return verifyLegacyScrypt(normalized(password), stored);
  if (!stored.startsWith('$argon2id$')) return false;
  try {
    return await verify(stored, normalized(password));
  } catch {
    return false; // a malformed stored hash never verifies
  }
}

/** True when `stored` is not argon2id with exactly the current parameters: rehash it after a successful check. */
export function needsRehash(stored: string, hashing: PasswordHashing): boolean {
  const params = /^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$/.exec(stored);
  return !params || Number(params[1]) !== hashing.memoryKiB || Number(params[2]) !== hashing.passes || params[3] !== '1';
}

/** A hash of a random password at the current parameters: checked when the user does not exist, so timing does not reveal it. */
export const decoyHash = (hashing: PasswordHashing) => hashPassword(randomBytes(16).toString('hex'), hashing);
