import Provider, { errors, type Adapter, type AdapterPayload } from 'oidc-provider';
import { findUnstorableText, unstorableText } from '../model/json.ts';
import type { Database } from '../db/connect.ts';
import { prepared } from '../db/prepared.ts';
import { findClientForRequest } from './clients.ts';
import { toClientMetadata } from '../oidc/client-metadata.ts';

/**
 * oidc-provider's storage contract over the `oidc_payloads` table. Every model the provider keeps
 * (sessions, grants, codes, tokens, interactions) lives there with its expiry, so a restart or a
 * second instance sees the same state. Clients come from the `clients` table, read at request time
 * (reused for a few seconds: see findClientForRequest).
 */
/**
 * Models a request spends (consume): a code, a rotated refresh token. Two requests may read one of
 * them unspent at the same time; only the first to mark it consumed wins (see consume).
 */
const SINGLE_USE = new Set(['AuthorizationCode', 'RefreshToken', 'DeviceCode', 'BackchannelAuthenticationRequest']);

/**
 * What this request has already read: Tessera computes a token's claims from the code or refresh
 * token (and reads the grant with the claims) before oidc-provider reads them again to spend the
 * token; those second reads are answered from here. Safe because consume refuses a token another
 * request spent in between, and any write through this adapter forgets the row.
 */
const readThisRequest = new WeakMap<object, Map<string, AdapterPayload | undefined>>();
function requestReads(): Map<string, AdapterPayload | undefined> | undefined {
  const ctx = Provider.ctx;
  if (!ctx) return undefined;
  let reads = readThisRequest.get(ctx);
  if (!reads) readThisRequest.set(ctx, (reads = new Map()));
  return reads;
}

/**
 * A row this request read by other means (the claims statement also reads the grant): the
 * provider's own read of it in the same request is answered from here.
 */
export function rememberRead(model: string, id: string, payload: AdapterPayload | undefined): void {
  requestReads()?.set(`${model}:${id}`, structuredClone(payload));
}

/**
 * What a client's scope implies (organization scopes, see organization-scopes.ts); `version` changes
 * whenever `expand` would give another answer for the same scope.
 */
export type ClientScopeExpansion = { expand(scope: string): string; version(): number };

/**
 * A client's metadata as handed to oidc-provider, built once per kept client row and scope version
 * (building it, with the organization scopes, was a tenth of a client_credentials request's CPU).
 * Each request gets its own copy: oidc-provider may adjust what it is given.
 */
const builtMetadata = new WeakMap<object, { version: number; metadata: AdapterPayload }>();
function clientMetadataFor(client: Parameters<typeof toClientMetadata>[0], scope?: ClientScopeExpansion): AdapterPayload {
  const version = scope?.version() ?? 0;
  let built = builtMetadata.get(client);
  if (!built || built.version !== version) {
    built = { version, metadata: toClientMetadata(client, scope?.expand) as AdapterPayload };
    builtMetadata.set(client, built);
  }
  return Object.fromEntries(Object.entries(built.metadata).map(([k, v]) => [k, Array.isArray(v) ? [...v] : v && typeof v === 'object' ? { ...v } : v]));
}

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
      this.#forget(id);
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
        .merge()
        .options(prepared(db, 'payload_upsert'));
    }

    // Ids come from requests: one PostgreSQL cannot compare (a NUL…) names nothing stored.
    async find(id: string): Promise<AdapterPayload | undefined> {
      if (unstorableText(id)) return undefined;
      if (this.model === 'Client') {
        const client = await findClientForRequest(db, id);
        return client && clientMetadataFor(client, clientScope);
      }
      const reads = requestReads();
      const key = `${this.model}:${id}`;
      if (reads?.has(key)) return structuredClone(reads.get(key));
      const payload = await this.#findWhere({ id });
      if (SINGLE_USE.has(this.model)) reads?.set(key, structuredClone(payload));
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
      this.#forget(id);
      const spent = await db('oidc_payloads').where({ model: this.model, id }).whereNull('consumed_at').update({ consumed_at: db.fn.now() }).options(prepared(db, 'payload_consume'));
      if (spent > 0 || !SINGLE_USE.has(this.model)) return;
      const row = await db('oidc_payloads').select('grant_id').where({ model: this.model, id }).first();
      if (row?.grant_id) await revokeGrant(db, row.grant_id);
      throw new errors.InvalidGrant(`${this.model === 'RefreshToken' ? 'refresh token' : 'code'} already used`);
    }

    async destroy(id: string): Promise<void> {
      if (unstorableText(id)) return;
      this.#forget(id);
      await db('oidc_payloads').where({ model: this.model, id }).delete();
    }

    async revokeByGrantId(grantId: string): Promise<void> {
      if (unstorableText(grantId)) return;
      requestReads()?.clear();
      await db('oidc_payloads').where({ grant_id: grantId }).delete();
    }

    #forget(id: string) {
      requestReads()?.delete(`${this.model}:${id}`);
    }

    async #findWhere(where: { id: string } | { uid: string } | { user_code: string }): Promise<AdapterPayload | undefined> {
      const row = await db('oidc_payloads')
        .select('payload', 'consumed_at')
        .where({ model: this.model, ...where })
        .andWhere((q) => q.whereNull('expires_at').orWhere('expires_at', '>', db.fn.now()))
        .first()
        .options(prepared(db, `payload_by_${Object.keys(where)[0]}`));
      if (!row) return undefined;
      const payload = row.payload as AdapterPayload;
      return row.consumed_at ? { ...payload, consumed: Math.floor(new Date(row.consumed_at).getTime() / 1000) } : payload;
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
