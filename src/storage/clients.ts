import { randomBytes } from 'node:crypto';
import type { Database } from '../db/connect.ts';
import { prepared } from '../db/prepared.ts';
import { Conflict, isUniqueViolation } from '../errors.ts';
import { ClientPatch, NewClient, applicationTypeOf, type Client } from '../model/client.ts';
import { checkClientAgainstStore } from './client-rules.ts';
import { CLIENT_CACHE_TTL_MS, createReadCache } from './read-cache.ts';
import { revokeClientTokens } from './client-tokens.ts';

const cache = createReadCache<Client>(CLIENT_CACHE_TTL_MS);

const columns = [
  'client_id', 'client_secret', 'client_name', 'application_type', 'redirect_uris', 'post_logout_redirect_uris', 'grant_types', 'token_endpoint_auth_method', 'scope',
  'default_resource', 'allowed_resources', 'allowed_origins', 'first_party', 'mfa', 'id_token_signed_response_alg', 'userinfo_signed_response_alg', 'introspection_signed_response_alg', 'payload_hook',
  'backchannel_logout_uri', 'backchannel_logout_session_required',
  'logo_uri', 'client_uri', 'policy_uri', 'tos_uri',
];

export const generateSecret = () => randomBytes(32).toString('base64url');

/** Creates a client; a confidential one gets a generated secret unless one is given (bootstrap). */
export async function createClient(db: Database, input: NewClient, secret?: string): Promise<Client> {
  const c = NewClient.parse(input);
  await checkClientAgainstStore(db, c);
  const client_secret = c.token_endpoint_auth_method === 'none' ? null : (secret ?? generateSecret());
  const row = toRow({ ...c, client_id: c.client_id ?? randomBytes(12).toString('base64url') }, client_secret);
  try {
    const [created] = await db('clients').insert(row).returning(columns);
    cache.forget(db, row.client_id);
    return created as Client;
  } catch (err) {
    if (isUniqueViolation(err)) throw new Conflict(`client ${row.client_id} already exists`);
    throw err;
  }
}

// jsonb columns take JSON text: arrays would otherwise be sent as PostgreSQL arrays.
function toRow(c: ReturnType<typeof NewClient.parse> & { client_id: string }, client_secret: string | null) {
  return {
    ...c,
    client_secret,
    // Stored as resolved, so a later PATCH of the redirect URIs does not silently change the type.
    application_type: applicationTypeOf(c),
    redirect_uris: JSON.stringify(c.redirect_uris),
    post_logout_redirect_uris: JSON.stringify(c.post_logout_redirect_uris),
    grant_types: JSON.stringify(c.grant_types),
    allowed_resources: JSON.stringify(c.allowed_resources),
    allowed_origins: JSON.stringify(c.allowed_origins),
    userinfo_signed_response_alg: c.userinfo_signed_response_alg ?? null,
    introspection_signed_response_alg: c.introspection_signed_response_alg ?? null,
    payload_hook: c.payload_hook ? JSON.stringify(c.payload_hook) : null,
    backchannel_logout_uri: c.backchannel_logout_uri ?? null,
    logo_uri: c.logo_uri ?? null,
    client_uri: c.client_uri ?? null,
    policy_uri: c.policy_uri ?? null,
    tos_uri: c.tos_uri ?? null,
  };
}

export async function findClient(db: Database, clientId: string): Promise<Client | undefined> {
  return db('clients').select(columns).where({ client_id: clientId }).first().options(prepared(db, 'client_by_id'));
}

/** findClient for the request path (oidc-provider asks at every request): reused for CLIENT_CACHE_TTL_MS. */
export async function findClientForRequest(db: Database, clientId: string): Promise<Client | undefined> {
  return cache.get(db, clientId, () => findClient(db, clientId));
}

/** Creates the client or brings it to the given settings and secret (the bootstrap admin client). */
export async function upsertClient(db: Database, input: NewClient & { client_id: string }, secret: string): Promise<Client> {
  const c = NewClient.parse(input);
  await checkClientAgainstStore(db, c);
  const [row] = await db('clients')
    .insert(toRow({ ...c, client_id: input.client_id }, secret))
    .onConflict('client_id')
    .merge()
    .returning(columns);
  cache.forget(db, input.client_id);
  return row as Client;
}

export async function countClients(db: Database): Promise<number> {
  const row = await db('clients').count<{ count: number }>('* as count').first();
  return Number(row?.count ?? 0);
}

/** Applies a patch, then checks the whole client again (a patch must not break a cross-field rule). */
export async function updateClient(db: Database, clientId: string, patch: ClientPatch): Promise<Client | undefined> {
  const current = await findClient(db, clientId);
  if (!current) return undefined;
  const p = ClientPatch.parse(patch);
  const next: Record<string, unknown> = withoutNulls({ ...current, client_secret: undefined, client_id: undefined });
  for (const [k, v] of Object.entries(p)) {
    if (v === null) delete next[k];
    else if (v !== undefined) next[k] = v;
  }
  const merged = NewClient.parse({ ...next, client_id: clientId });
  await checkClientAgainstStore(db, merged);
  const row = toRow({ ...merged, client_id: clientId }, current.client_secret);
  const [saved] = await db('clients')
    .where({ client_id: clientId })
    .update({ ...row, client_secret: merged.token_endpoint_auth_method === 'none' ? null : (current.client_secret ?? generateSecret()), default_resource: merged.default_resource ?? null, updated_at: db.fn.now() })
    .returning(columns);
  cache.forget(db, clientId);
  return saved as Client;
}

/** A new secret; the tokens the client got with its old one (client_credentials) are revoked with it. */
export async function rotateClientSecret(db: Database, clientId: string): Promise<Client | undefined> {
  const saved = await db.transaction(async (trx) => {
    const [row] = await trx('clients').where({ client_id: clientId }).whereNot({ token_endpoint_auth_method: 'none' }).update({ client_secret: generateSecret(), updated_at: trx.fn.now() }).returning(columns);
    if (row) await revokeClientTokens(trx, clientId, ['ClientCredentials']);
    return row;
  });
  cache.forget(db, clientId);
  return saved as Client | undefined;
}

/** Deletes the client and everything issued to it (tokens, codes, grants). */
export async function deleteClient(db: Database, clientId: string): Promise<boolean> {
  const deleted = await db.transaction(async (trx) => {
    const n = await trx('clients').where({ client_id: clientId }).delete();
    if (n > 0) await revokeClientTokens(trx, clientId);
    return n > 0;
  });
  cache.forget(db, clientId);
  return deleted;
}

function withoutNulls<T extends Record<string, unknown>>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== null && v !== undefined)) as Partial<T>;
}
