import { scrypt, timingSafeEqual } from 'node:crypto';

// Hashes stored by versions before argon2id: scrypt$<log2 N>$<r>$<p>$<salt b64url>$<hash b64url>.
// Verified only, never made: a successful sign-in replaces them with argon2id.

export const isLegacyScryptHash = (stored: string) => stored.startsWith('scrypt$');

export async function verifyLegacyScrypt(password: string, stored: string): Promise<boolean> {
  const [, logN, r, p, salt, hash] = stored.split('$');
  if (!logN || !r || !p || !salt || !hash) return false;
  const N = 2 ** Number(logN);
  if (!(Number(logN) >= 1 && Number(logN) <= 22)) return false;
  const expected = Buffer.from(hash, 'base64url');
  const actual = await new Promise<Buffer | undefined>((resolve) =>
    scrypt(password, Buffer.from(salt, 'base64url'), expected.length || 32, { N, r: Number(r), p: Number(p), maxmem: 256 * N * Number(r) + 1024 * 1024 }, (err, key) => resolve(err ? undefined : key)),
  );
  return actual !== undefined && actual.length === expected.length && timingSafeEqual(actual, expected);
}
