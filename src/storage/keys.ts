import { randomBytes } from 'node:crypto';
import { exportJWK, generateKeyPair, calculateJwkThumbprint, type JWK } from 'jose';
import type { Database } from '../db/connect.ts';
import type { SigningAlg } from '../model/signing-alg.ts';

// Serialises first-start generation across instances sharing one database.
const BOOTSTRAP_LOCK = 4242_0001;

async function newKey(alg: SigningAlg): Promise<{ kid: string; alg: SigningAlg; private_jwk: JWK }> {
  const { privateKey } = await generateKeyPair(alg, { extractable: true, ...(alg === 'RS256' ? { modulusLength: 2048 } : {}) });
  const jwk = await exportJWK(privateKey);
  const kid = await calculateJwkThumbprint(jwk);
  return { kid, alg, private_jwk: { ...jwk, kid, alg, use: 'sig' } };
}

async function insertKeys(db: Database, algs: SigningAlg[]) {
  const rows = await Promise.all(algs.map(newKey));
  await db('signing_keys').insert(rows.map((r) => ({ ...r, private_jwk: JSON.stringify(r.private_jwk) })));
  return rows.map((r) => r.kid);
}

/**
 * The private JWKS, newest key first: oidc-provider signs with the first key of an algorithm
 * and still verifies with every key, which is how rotation keeps old tokens valid.
 * ES256 is listed before RS256 so it is the default.
 */
export async function loadSigningKeys(db: Database): Promise<JWK[]> {
  const rows = await db('signing_keys').select('private_jwk', 'alg').orderBy([{ column: 'created_at', order: 'desc' }, { column: 'kid' }]);
  const rank = (alg: string) => (alg === 'ES256' ? 0 : 1);
  return rows.sort((a, b) => rank(a.alg) - rank(b.alg)).map((r) => r.private_jwk as JWK);
}

/** Adds a new key of each algorithm; the old ones stay until removed, so issued tokens still verify. */
export async function rotateSigningKeys(db: Database): Promise<string[]> {
  return insertKeys(db, ['ES256', 'RS256']);
}

export async function removeSigningKey(db: Database, kid: string): Promise<boolean> {
  const remaining = await db('signing_keys').whereNot({ kid }).count<{ count: number }>('* as count').first();
  if (Number(remaining?.count ?? 0) === 0) throw new Error('refusing to remove the last signing key');
  return (await db('signing_keys').where({ kid }).delete()) > 0;
}

export type ProviderSecrets = { cookieKeys: string[] };

/** First start creates keys and secrets; every later start, and every other instance, reads the same ones. */
export async function ensureProviderSecrets(db: Database): Promise<ProviderSecrets> {
  return db.transaction(async (trx) => {
    await trx.raw('select pg_advisory_xact_lock(?)', [BOOTSTRAP_LOCK]);
    const existingKey = await trx('signing_keys').first('kid');
    if (!existingKey) await insertKeys(trx, ['ES256', 'RS256']);
    let row = await trx('provider_secrets').where({ name: 'cookie_keys' }).first('value');
    if (!row) {
      const value = [randomBytes(32).toString('base64url')];
      await trx('provider_secrets').insert({ name: 'cookie_keys', value: JSON.stringify(value) });
      row = { value };
    }
    return { cookieKeys: row.value as string[] };
  });
}

export type SigningKeyInfo = { kid: string; alg: SigningAlg; created_at: Date; signs: boolean };

/**
 * The keys as an operator needs to see them, newest first: the newest key of each algorithm is the
 * one that signs (loadSigningKeys' order); the others only verify tokens they signed earlier.
 */
export async function listSigningKeys(db: Database): Promise<SigningKeyInfo[]> {
  const rows: { kid: string; alg: SigningAlg; created_at: Date }[] = await db('signing_keys').select('kid', 'alg', 'created_at').orderBy([{ column: 'created_at', order: 'desc' }, { column: 'kid' }]);
  const signing = new Set<string>();
  return rows.map((r) => {
    const signs = !signing.has(r.alg);
    signing.add(r.alg);
    return { kid: r.kid, alg: r.alg, created_at: r.created_at, signs };
  });
}
