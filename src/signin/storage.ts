import type { Knex } from 'knex';
import type { Database } from '../db/connect.ts';
import { isUuid } from '../storage/users.ts';
import { hashRecoveryCode, newRecoveryCodes, normalizeRecoveryCode } from './recovery-codes.ts';
import { CREDENTIAL_CHANGE, recordOnly } from '../signals/index.ts';

/** A factor as it may be shown (never its secret). */
export type Factor = { id: string; kind: 'totp' | 'passkey'; label: string; confirmed: boolean; created_at: Date; last_used_at: Date | null };
/** A factor with what checking a code needs: only the sign-in path reads this. */
export type TotpForCheck = { id: string; secret: string; last_time_step: number | null; confirmed: boolean };

const PUBLIC_COLUMNS = ['id', 'kind', 'label', 'confirmed_at', 'created_at', 'last_used_at'];
type Row = { id: string; kind: 'totp'; label: string; confirmed_at: Date | null; created_at: Date; last_used_at: Date | null };
const shown = (r: Row): Factor => ({ id: r.id, kind: r.kind, label: r.label, confirmed: r.confirmed_at !== null, created_at: r.created_at, last_used_at: r.last_used_at });

/** The user's factors; unconfirmed ones (an enrolment not finished) only when asked. */
export async function listFactors(db: Database, userId: string, options: { unconfirmed?: boolean } = {}): Promise<Factor[]> {
  if (!isUuid(userId)) return [];
  const q = db('signin_factors').select(PUBLIC_COLUMNS).where({ user_id: userId }).orderBy('created_at');
  if (!options.unconfirmed) q.whereNotNull('confirmed_at');
  const passkeys = db('signin_passkeys').select('id', 'label', 'created_at', 'last_used_at').where({ user_id: userId }).orderBy('created_at');
  const [totp, keys] = await Promise.all([q as Promise<Row[]>, passkeys as Promise<Array<Omit<Row, 'kind' | 'confirmed_at'>>>]);
  return [...totp.map(shown), ...keys.map((k) => ({ id: k.id, kind: 'passkey' as const, label: k.label, confirmed: true, created_at: k.created_at, last_used_at: k.last_used_at }))];
}

export async function hasConfirmedFactor(db: Database, userId: string): Promise<boolean> {
  if (!isUuid(userId)) return false;
  const [totp, passkey] = await Promise.all([
    db('signin_factors').where({ user_id: userId }).whereNotNull('confirmed_at').first('id'),
    db('signin_passkeys').where({ user_id: userId }).first('id'),
  ]);
  return Boolean(totp || passkey);
}

/**
 * Stores an authenticator app once its first code was right (`timeStep`, so that code cannot be
 * used again). False when the user has one already: it must be removed before another is added.
 */
export async function addConfirmedTotp(db: Database, userId: string, secret: string, label: string, timeStep: number): Promise<boolean> {
  return db.transaction(async (trx) => {
    const { rows } = (await trx.raw(
      `insert into signin_factors (user_id, kind, label, secret, last_time_step, confirmed_at, last_used_at) values (?, 'totp', ?, ?, ?, now(), now())
       on conflict (user_id) where kind = 'totp' do nothing returning id`,
      [userId, label, secret, timeStep],
    )) as { rows: unknown[] };
    if (rows.length === 1) await credentialChanged(trx, userId, ['app'], 'create');
    return rows.length === 1;
  });
}

/** CAEP credential-change to the user's apps that subscribed (src/signals/), in the change's own transaction. */
async function credentialChanged(trx: Knex, userId: string, types: string[], change: 'create' | 'delete'): Promise<void> {
  const items = [...new Set(types)].map((credential_type) => ({ user_id: userId, event: { credential_type, change_type: change } }));
  if (items.length) await recordOnly.forGrants(trx, CREDENTIAL_CHANGE, items);
}

/** CAEP's name for a passkey: bound to this device (platform) or carried between them (roaming). */
const passkeyType = (transports: string[]) => (transports.includes('internal') || transports.includes('hybrid') ? 'fido2-platform' : 'fido2-roaming');

export async function findTotp(db: Database, userId: string): Promise<TotpForCheck | undefined> {
  if (!isUuid(userId)) return undefined;
  const row = await db('signin_factors').select('id', 'secret', 'last_time_step', 'confirmed_at').where({ user_id: userId, kind: 'totp' }).first();
  return row ? { id: row.id, secret: row.secret, last_time_step: row.last_time_step === null ? null : Number(row.last_time_step), confirmed: row.confirmed_at !== null } : undefined;
}

/**
 * Records that a code of `timeStep` was accepted, only if no code of that step or a later one was
 * accepted before (two requests racing with one code: one wins). The first accepted code confirms
 * an enrolment. False when the code was already spent.
 */
export async function spendTimeStep(db: Database, factorId: string, timeStep: number): Promise<boolean> {
  const n = await db('signin_factors')
    .where({ id: factorId })
    .andWhere((q) => q.whereNull('last_time_step').orWhere('last_time_step', '<', timeStep))
    .update({ last_time_step: timeStep, last_used_at: db.fn.now(), confirmed_at: db.raw('coalesce(confirmed_at, now())') });
  return n === 1;
}

/** New recovery codes replace any earlier ones; the codes are returned once, only their hashes kept. */
export async function replaceRecoveryCodes(db: Database, userId: string): Promise<string[]> {
  const codes = newRecoveryCodes();
  await db.transaction(async (trx) => {
    await trx('signin_recovery_codes').where({ user_id: userId }).delete();
    await trx('signin_recovery_codes').insert(codes.map((c) => ({ user_id: userId, code_hash: hashRecoveryCode(userId, normalizeRecoveryCode(c)!) })));
  });
  return codes;
}

/** Spends one recovery code, once: false when it is not one of the user's or was used already. */
export async function spendRecoveryCode(db: Database, userId: string, input: string): Promise<boolean> {
  const normalized = normalizeRecoveryCode(input);
  if (!normalized || !isUuid(userId)) return false;
  const n = await db('signin_recovery_codes').where({ user_id: userId, code_hash: hashRecoveryCode(userId, normalized) }).whereNull('used_at').update({ used_at: db.fn.now() });
  return n === 1;
}

export async function remainingRecoveryCodes(db: Database, userId: string): Promise<number> {
  if (!isUuid(userId)) return 0;
  const row = await db('signin_recovery_codes').where({ user_id: userId }).whereNull('used_at').count({ n: '*' }).first();
  return Number(row?.n ?? 0);
}

/** Removes one factor of a user (and, with the last one gone, the recovery codes). False when there was none. */
export async function removeFactor(db: Database, userId: string, factorId: string): Promise<boolean> {
  if (!isUuid(userId) || !isUuid(factorId)) return false;
  return db.transaction(async (trx) => {
    const apps = await trx('signin_factors').where({ user_id: userId, id: factorId }).delete().returning('id');
    const keys = (await trx('signin_passkeys').where({ user_id: userId, id: factorId }).delete().returning('transports')) as Array<{ transports: string[] }>;
    const n = apps.length + keys.length;
    const left = (await trx('signin_factors').where({ user_id: userId }).first('id')) || (await trx('signin_passkeys').where({ user_id: userId }).first('id'));
    if (n && !left) await trx('signin_recovery_codes').where({ user_id: userId }).delete();
    await credentialChanged(trx, userId, [...apps.map(() => 'app'), ...keys.map((k) => passkeyType(k.transports))], 'delete');
    return n === 1;
  });
}

/** A lost phone: every factor and recovery code of the user goes. Returns how many factors were removed. */
export async function resetFactors(db: Database, userId: string): Promise<number> {
  if (!isUuid(userId)) return 0;
  return db.transaction(async (trx) => {
    const apps = await trx('signin_factors').where({ user_id: userId }).delete().returning('id');
    const keys = (await trx('signin_passkeys').where({ user_id: userId }).delete().returning('transports')) as Array<{ transports: string[] }>;
    await trx('signin_recovery_codes').where({ user_id: userId }).delete();
    await credentialChanged(trx, userId, [...apps.map(() => 'app'), ...keys.map((k) => passkeyType(k.transports))], 'delete');
    return apps.length + keys.length;
  });
}

/** Whether the user belongs to an organization that requires a second factor of its members. */
export async function memberOfMfaOrganization(db: Database, userId: string): Promise<boolean> {
  if (!isUuid(userId)) return false;
  const row = await db('memberships as m').join('organizations as o', 'o.id', 'm.organization_id').where({ 'm.user_id': userId, 'o.mfa': 'required' }).first('o.id');
  return Boolean(row);
}

/** A passkey as an assertion is checked against it. */
export type StoredPasskey = { id: string; user_id: string; credential_id: string; public_key: string; counter: number; transports: string[]; device_type: string };

const PASSKEY_COLUMNS = ['id', 'user_id', 'credential_id', 'public_key', 'counter', 'transports', 'device_type'];
const passkeyOf = (r: Record<string, unknown>): StoredPasskey => ({ ...(r as StoredPasskey), counter: Number(r.counter) });

export async function listPasskeys(db: Database, userId: string): Promise<StoredPasskey[]> {
  if (!isUuid(userId)) return [];
  return ((await db('signin_passkeys').select(PASSKEY_COLUMNS).where({ user_id: userId })) as Array<Record<string, unknown>>).map(passkeyOf);
}

export async function findPasskey(db: Database, credentialId: string): Promise<StoredPasskey | undefined> {
  if (!credentialId || credentialId.length > 1024) return undefined;
  const row = await db('signin_passkeys').select(PASSKEY_COLUMNS).where({ credential_id: credentialId }).first();
  return row ? passkeyOf(row) : undefined;
}

export async function addPasskey(db: Database, p: { user_id: string; credential_id: string; public_key: string; counter: number; transports: string[]; device_type: string; backed_up: boolean; label: string }): Promise<boolean> {
  return db.transaction(async (trx) => {
    const { rows } = (await trx.raw(
      `insert into signin_passkeys (user_id, credential_id, public_key, counter, transports, device_type, backed_up, label) values (?, ?, ?, ?, ?::jsonb, ?, ?, ?)
       on conflict (credential_id) do nothing returning id`,
      [p.user_id, p.credential_id, p.public_key, p.counter, JSON.stringify(p.transports), p.device_type, p.backed_up, p.label],
    )) as { rows: unknown[] };
    if (rows.length === 1) await credentialChanged(trx, p.user_id, [passkeyType(p.transports)], 'create');
    return rows.length === 1;
  });
}

/**
 * Records a use: the signature counter moves forward only (an authenticator that keeps no counter
 * reports 0 every time). False when the stored counter is already past it: a cloned authenticator.
 */
export async function usePasskey(db: Database, id: string, counter: number): Promise<boolean> {
  const n = await db('signin_passkeys')
    .where({ id })
    .andWhere((q) => q.where('counter', '<', counter).orWhere((q2) => q2.where('counter', 0).andWhere(db.raw('?::bigint = 0', [counter]))))
    .update({ counter, last_used_at: db.fn.now() });
  return n === 1;
}

/**
 * Spends every link of the user not used yet: when the password is set (by any link, on /account,
 * by an admin) or the user is signed out everywhere, an older link must not set it again.
 */
export async function spendResetLinks(db: Database | Knex, userId: string): Promise<void> {
  await db('password_resets').where({ user_id: userId }).whereNull('used_at').update({ used_at: db.fn.now() });
}

/** A new name for one of the user's passkeys. False when the user has no such passkey. */
export async function renamePasskey(db: Database, userId: string, passkeyId: string, label: string): Promise<boolean> {
  if (!isUuid(userId) || !isUuid(passkeyId)) return false;
  return (await db('signin_passkeys').where({ user_id: userId, id: passkeyId }).update({ label })) === 1;
}
