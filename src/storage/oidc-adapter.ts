import { errors, type Adapter, type AdapterPayload } from 'oidc-provider';
import { findUnstorableText, unstorableText } from '../model/json.ts';
import type { Database } from '../db/connect.ts';
import { prepared } from '../db/prepared.ts';
import { findClientForRequest } from './clients.ts';
import { clientMetadataFor, type ClientScopeExpansion } from '../oidc/client-metadata.ts';
import { live, payloadOfRow } from './payload-row.ts';
import { deferSpend, forgetAllReads, forgetRead, readEarlier, rememberRead, takePendingSpend } from './request-state.ts';

/**
 * oidc-provider's storage contract over the `oidc_payloads` table. Every model the provider keeps
 * (sessions, grants, codes, tokens, interactions) lives there with its expiry, so a restart or a
 * second instance sees the same state. Clients come from the `clients` table, read at request time
 * (reused for a few seconds: see findClientForRequest).
 */
/**
 * Models a request spends (consume): a code, a rotated refresh token. Two requests may read one of
 * them unspent at the same time; only the first to mark it consumed wins (see #spend).
 */
const SINGLE_USE = new Set(['AuthorizationCode', 'RefreshToken', 'DeviceCode', 'BackchannelAuthenticationRequest']);

type PayloadRow = { model: string; id: string; payload: string; grant_id: string | null; user_code: string | null; uid: string | null; expires_at: Date | null };

export function createAdapterClass(db: Database, clientScope?: ClientScopeExpansion): new (model: string) => Adapter {
  return class PostgresAdapter implements Adapter {
    readonly model: string;

    constructor(model: string) {
      this.model = model;
    }

    async upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void> {
      if (this.model === 'Client') throw new Error('clients are managed through the admin API or CLI');
      // A request parameter PostgreSQL cannot keep (a NUL in `state`…) is the client's error, not ours.
      if (findUnstorableText(payload)) throw new errors.InvalidRequest('a request parameter contains characters that cannot be stored (NUL or invalid Unicode)');
      forgetRead(this.model, id);
      const row: PayloadRow = {
        model: this.model,
        id,
        payload: JSON.stringify(payload),
        grant_id: payload.grantId ?? null,
        user_code: payload.userCode ?? null,
        uid: payload.uid ?? null,
        expires_at: expiresIn ? new Date(Date.now() + expiresIn * 1000) : null,
      };
      const rotated = this.model === 'RefreshToken' ? takePendingSpend(this.model) : undefined;
      if (rotated !== undefined) return this.#rotate(rotated, row);
      await db('oidc_payloads').insert(row).onConflict(['model', 'id']).merge().options(prepared(db, 'payload_upsert'));
    }

    /**
     * Refresh token rotation in one statement: the old token is marked consumed and its successor
     * stored only if the old one was still unspent, so a request that lost the race stores nothing.
     */
    async #rotate(oldId: string, row: PayloadRow): Promise<void> {
      const { rows } = await db
        .raw(
          `with spent as (
             update oidc_payloads set consumed_at = now() where model = ? and id = ? and consumed_at is null returning 1
           )
           insert into oidc_payloads (model, id, payload, grant_id, user_code, uid, expires_at)
           select ?, ?, ?::jsonb, ?, ?, ?, ? where exists (select 1 from spent)
           on conflict (model, id) do update set payload = excluded.payload, grant_id = excluded.grant_id, user_code = excluded.user_code, uid = excluded.uid, expires_at = excluded.expires_at
           returning 1 as stored`,
          [row.model, oldId, row.model, row.id, row.payload, row.grant_id, row.user_code, row.uid, row.expires_at],
        )
        .options(prepared(db, 'refresh_token_rotate'));
      if (rows.length === 0) await this.#lostRace(oldId);
    }

    // Ids come from requests: one PostgreSQL cannot compare (a NUL…) names nothing stored.
    async find(id: string): Promise<AdapterPayload | undefined> {
      if (unstorableText(id)) return undefined;
      if (this.model === 'Client') {
        const client = await findClientForRequest(db, id);
        return client && clientMetadataFor(client, clientScope);
      }
      const earlier = readEarlier(this.model, id);
      if (earlier.found) return earlier.payload;
      const payload = await this.#findWhere({ id });
      if (SINGLE_USE.has(this.model)) rememberRead(this.model, id, payload);
      return payload;
    }

    async findByUid(uid: string) {
      return unstorableText(uid) ? undefined : this.#findWhere({ uid });
    }

    async findByUserCode(userCode: string) {
      return unstorableText(userCode) ? undefined : this.#findWhere({ user_code: userCode });
    }

    /**
     * Marks the row consumed, atomically: when another request spent it first (both had read it
     * unspent), this request lost the race and the use is a replay. oidc-provider answers a replay
     * it sees (a token already marked consumed) by revoking the grant; this does the same, so one
     * code or refresh token never yields two sets of tokens.
     */
    async consume(id: string): Promise<void> {
      if (unstorableText(id)) return;
      forgetRead(this.model, id);
      // A rotated refresh token is spent by the statement that stores its successor (#rotate).
      if (this.model === 'RefreshToken' && deferSpend(this.model, id, () => this.#spend(id))) return;
      await this.#spend(id);
    }

    async #spend(id: string): Promise<void> {
      const spent = await db('oidc_payloads').where({ model: this.model, id }).whereNull('consumed_at').update({ consumed_at: db.fn.now() }).options(prepared(db, 'payload_consume'));
      if (spent === 0 && SINGLE_USE.has(this.model)) await this.#lostRace(id);
    }

    /** Another request spent the token first: a replay, answered as oidc-provider answers one. */
    async #lostRace(id: string): Promise<never> {
      const row = await db('oidc_payloads').select('grant_id').where({ model: this.model, id }).first();
      if (row?.grant_id) await revokeGrant(db, row.grant_id);
      throw new errors.InvalidGrant(`${this.model === 'RefreshToken' ? 'refresh token' : 'code'} already used`);
    }

    async destroy(id: string): Promise<void> {
      if (unstorableText(id)) return;
      forgetRead(this.model, id);
      await db('oidc_payloads').where({ model: this.model, id }).delete();
    }

    async revokeByGrantId(grantId: string): Promise<void> {
      if (unstorableText(grantId)) return;
      forgetAllReads();
      await db('oidc_payloads').where({ grant_id: grantId }).delete();
    }

    async #findWhere(where: { id: string } | { uid: string } | { user_code: string }): Promise<AdapterPayload | undefined> {
      const row = await db('oidc_payloads')
        .select('payload', 'consumed_at')
        .where({ model: this.model, ...where })
        .andWhereRaw(live())
        .first()
        .options(prepared(db, `payload_by_${Object.keys(where)[0]}`));
      return row ? payloadOfRow(row) : undefined;
    }
  };
}

/** The grant and everything issued under it (what oidc-provider's own revocation removes). */
async function revokeGrant(db: Database, grantId: string): Promise<void> {
  await db('oidc_payloads').where({ grant_id: grantId }).orWhere({ model: 'Grant', id: grantId }).delete();
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
