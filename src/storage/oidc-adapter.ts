import { errors, type Adapter, type AdapterPayload } from 'oidc-provider';
import { findUnstorableText, unstorableText } from '../model/json.ts';
import type { Database } from '../db/connect.ts';
import { prepared } from '../db/prepared.ts';
import { findClientForRequest } from './clients.ts';
import { clientMetadataFor, type ClientScopeExpansion } from '../oidc/client-metadata.ts';
import { live, payloadOfRow } from './payload-row.ts';
import { currentUnit, DEFERRED_MODELS, type PayloadRow } from './unit-of-work.ts';
import { readSpendableWithClaimSources } from './claim-sources.ts';
import { revokeGrant } from './unit-of-work-commit.ts';

/**
 * oidc-provider's storage contract over the `oidc_payloads` table. Every model the provider keeps
 * (sessions, grants, codes, tokens, interactions) lives there with its expiry, so a restart or a
 * second instance sees the same state. Clients come from the `clients` table, read at request time
 * (reused for a few seconds: see findClientForRequest).
 *
 * Inside a token request (a code exchange, a refresh), writes to the token models are recorded in
 * the request's unit of work and commit together when its answer is ready (unit-of-work.ts).
 */
/**
 * Models a request spends (consume): a code, a rotated refresh token. Two requests may read one of
 * them unspent at the same time; only the first to mark it consumed wins (see consume, and the
 * token request's commit: unit-of-work-commit.ts).
 */
const SINGLE_USE = new Set(['AuthorizationCode', 'RefreshToken', 'DeviceCode', 'BackchannelAuthenticationRequest']);

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
      const row: PayloadRow = {
        model: this.model,
        id,
        payload: JSON.stringify(payload),
        grant_id: payload.grantId ?? null,
        user_code: payload.userCode ?? null,
        uid: payload.uid ?? null,
        expires_at: expiresIn ? new Date(Date.now() + expiresIn * 1000) : null,
      };
      const unit = this.#unit();
      if (unit) return unit.recordUpsert(row);
      await db('oidc_payloads').insert(row).onConflict(['model', 'id']).merge().options(prepared(db, 'payload_upsert'));
    }

    /** The unit of work this model's writes go to, when in a token request. */
    #unit() {
      return DEFERRED_MODELS.has(this.model) ? currentUnit() : undefined;
    }

    // Ids come from requests: one PostgreSQL cannot compare (a NUL…) names nothing stored.
    async find(id: string): Promise<AdapterPayload | undefined> {
      if (unstorableText(id)) return undefined;
      if (this.model === 'Client') {
        const client = await findClientForRequest(db, id);
        return client && clientMetadataFor(client, clientScope);
      }
      const unit = this.#unit();
      if (!unit) return this.#findWhere({ id });
      const known = unit.known(this.model, id);
      if (known.found) return known.payload;
      // The code or refresh token comes with its claim sources and grant, in one round trip.
      if (this.model === 'AuthorizationCode' || this.model === 'RefreshToken') {
        const read = await readSpendableWithClaimSources(db, this.model, id);
        unit.spendable = read;
        unit.rememberRead(this.model, id, read.payload);
        const grantId = read.payload?.grantId;
        if (grantId && read.sources && 'grantPayload' in read.sources) unit.rememberRead('Grant', grantId, read.sources.grantPayload);
        return read.payload;
      }
      const payload = await this.#findWhere({ id });
      unit.rememberRead(this.model, id, payload);
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
     * code or refresh token never yields two sets of tokens. In a token request the spend is recorded
     * and happens with the request's commit, which refuses a token spent by another the same way.
     */
    async consume(id: string): Promise<void> {
      if (unstorableText(id)) return;
      const unit = this.#unit();
      if (unit) return unit.recordConsume(this.model, id);
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
      const unit = this.#unit();
      if (unit) return unit.recordDestroy(this.model, id);
      await db('oidc_payloads').where({ model: this.model, id }).delete();
    }

    async revokeByGrantId(grantId: string): Promise<void> {
      if (unstorableText(grantId)) return;
      const unit = this.#unit();
      if (unit) return unit.recordRevoke(grantId);
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
  return (await revokeAccountSessions(db, accountId)).revoked;
}

/** A browser session as oidc-provider stores it: which clients it signed in to, with their `sid`. */
export type EndedSession = { accountId: string; authorizations?: Record<string, { sid?: string; grantId?: string }> };

/**
 * revokeAccount, answering also the sessions it ended (unexpired ones), so each client of each can
 * be told (back-channel logout, session-revoked events). One statement; `db` may be a transaction.
 */
export async function revokeAccountSessions(db: Database, accountId: string, keepSessionId?: string): Promise<{ revoked: number; sessions: EndedSession[] }> {
  // keepSessionId: the browser session that asked (a password changed on /account) stays signed in.
  const { rows } = (await db.raw(
    `with d as (delete from oidc_payloads where payload->>'accountId' = ? and not (model = 'Session' and id = ?) returning model, payload, expires_at)
     select count(*)::int as revoked,
            coalesce(jsonb_agg(payload) filter (where model = 'Session' and (expires_at is null or expires_at > now())), '[]'::jsonb) as sessions
     from d`,
    [accountId, keepSessionId ?? ''],
  )) as { rows: Array<{ revoked: number; sessions: EndedSession[] | string }> };
  const row = rows[0]!;
  return { revoked: Number(row.revoked), sessions: typeof row.sessions === 'string' ? JSON.parse(row.sessions) : row.sessions };
}

/**
 * One browser session of the account ended (its user signed it out from /account): the session,
 * the grants made in it and their tokens. Answers the session as it was (for back-channel logout),
 * or undefined when the account has no such session. `db` may be a transaction.
 */
export async function revokeOneSession(db: Database, accountId: string, sessionId: string): Promise<EndedSession | undefined> {
  const [row] = (await db('oidc_payloads').where({ model: 'Session', id: sessionId }).andWhereRaw("payload->>'accountId' = ?", [accountId]).delete().returning('payload')) as Array<{
    payload: EndedSession | string;
  }>;
  if (!row) return undefined;
  const session = typeof row.payload === 'string' ? (JSON.parse(row.payload) as EndedSession) : row.payload;
  const grants = Object.values(session.authorizations ?? {})
    .map((a) => a.grantId)
    .filter((g): g is string => typeof g === 'string');
  if (grants.length) {
    await db('oidc_payloads')
      .whereIn('grant_id', grants)
      .orWhere((q) => q.where({ model: 'Grant' }).whereIn('id', grants))
      .delete();
  }
  return session;
}
