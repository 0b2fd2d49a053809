import { errors, type Adapter, type AdapterPayload } from 'oidc-provider';
import { findUnstorableText, unstorableText } from '../model/json.ts';
import type { Database } from '../db/connect.ts';
import { findClientForRequest } from './clients.ts';
import { toClientMetadata } from '../oidc/client-metadata.ts';

/**
 * oidc-provider's storage contract over the `oidc_payloads` table. Every model the provider keeps
 * (sessions, grants, codes, tokens, interactions) lives there with its expiry, so a restart or a
 * second instance sees the same state. Clients come from the `clients` table, read at request time
 * (reused for a few seconds: see findClientForRequest).
 */
export function createAdapterClass(db: Database, expandClientScope?: (scope: string) => string): new (model: string) => Adapter {
  return class PostgresAdapter implements Adapter {
    readonly model: string;

    constructor(model: string) {
      this.model = model;
    }

    async upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void> {
      if (this.model === 'Client') throw new Error('clients are managed through the admin API or CLI');
      // A request parameter PostgreSQL cannot keep (a NUL in `state`…) is the client's error, not ours.
      if (findUnstorableText(payload)) throw new errors.InvalidRequest('a request parameter contains characters that cannot be stored (NUL or invalid Unicode)');
      await db('oidc_payloads')
        .insert({
          model: this.model,
          id,
          payload: JSON.stringify(payload),
          grant_id: payload.grantId ?? null,
          user_code: payload.userCode ?? null,
          uid: payload.uid ?? null,
          expires_at: expiresIn ? new Date(Date.now() + expiresIn * 1000) : null,
        })
        .onConflict(['model', 'id'])
        .merge();
    }

    // Ids come from requests: one PostgreSQL cannot compare (a NUL…) names nothing stored.
    async find(id: string): Promise<AdapterPayload | undefined> {
      if (unstorableText(id)) return undefined;
      if (this.model === 'Client') {
        const client = await findClientForRequest(db, id);
        return client && (toClientMetadata(client, expandClientScope) as AdapterPayload);
      }
      return this.#findWhere({ id });
    }

    async findByUid(uid: string) {
      return unstorableText(uid) ? undefined : this.#findWhere({ uid });
    }

    async findByUserCode(userCode: string) {
      return unstorableText(userCode) ? undefined : this.#findWhere({ user_code: userCode });
    }

    async consume(id: string): Promise<void> {
      if (unstorableText(id)) return;
      await db('oidc_payloads').where({ model: this.model, id }).whereNull('consumed_at').update({ consumed_at: db.fn.now() });
    }

    async destroy(id: string): Promise<void> {
      if (unstorableText(id)) return;
      await db('oidc_payloads').where({ model: this.model, id }).delete();
    }

    async revokeByGrantId(grantId: string): Promise<void> {
      if (unstorableText(grantId)) return;
      await db('oidc_payloads').where({ grant_id: grantId }).delete();
    }

    async #findWhere(where: Record<string, string>): Promise<AdapterPayload | undefined> {
      const row = await db('oidc_payloads')
        .select('payload', 'consumed_at')
        .where({ model: this.model, ...where })
        .andWhere((q) => q.whereNull('expires_at').orWhere('expires_at', '>', db.fn.now()))
        .first();
      if (!row) return undefined;
      const payload = row.payload as AdapterPayload;
      return row.consumed_at ? { ...payload, consumed: Math.floor(new Date(row.consumed_at).getTime() / 1000) } : payload;
    }
  };
}

/** Removes expired rows; the provider already ignores them, this keeps the table small. */
export async function purgeExpired(db: Database): Promise<number> {
  const removed = await db('oidc_payloads').where('expires_at', '<', db.fn.now()).delete();
  // Tessera's per-grant context goes with its grant.
  await db('grant_context')
    .whereNotExists(db('oidc_payloads').select(db.raw('1')).where('model', 'Grant').whereRaw('oidc_payloads.id = grant_context.grant_id'))
    .andWhere('updated_at', '<', db.raw("now() - interval '1 hour'"))
    .delete();
  return removed;
}

/**
 * Signs a user out everywhere: their sessions, grants, codes, refresh tokens and opaque access
 * tokens go at once. (A JWT access token stays valid until it expires: nothing is asked of the
 * server to check it.)
 */
export async function revokeAccount(db: Database, accountId: string): Promise<number> {
  return db('oidc_payloads').whereRaw("payload->>'accountId' = ?", [accountId]).delete();
}
