import type { Database } from '../db/connect.ts';
import type { Page } from '../model/page.ts';
import { Conflict, isUniqueViolation } from '../errors.ts';
import { NewResourceServer, type ResourceServer } from '../model/resource-server.ts';
import { CLIENT_CACHE_TTL_MS, createReadCache } from './read-cache.ts';

// Read at every token request for a resource; the same staleness bound as clients.
const cache = createReadCache<ResourceServer>(CLIENT_CACHE_TTL_MS);

const columns = ['identifier', 'audience', 'name', 'description', 'scopes', 'access_token_format', 'signing_alg', 'access_token_ttl'];

export async function createResourceServer(db: Database, input: NewResourceServer): Promise<ResourceServer> {
  const rs = NewResourceServer.parse(input);
  try {
    const [row] = await db('resource_servers')
      .insert({ ...rs, audience: rs.audience ?? rs.identifier, scopes: JSON.stringify(rs.scopes) })
      .returning(columns);
    cache.forget(db, rs.identifier);
    return row as ResourceServer;
  } catch (err) {
    if (isUniqueViolation(err)) throw new Conflict(`a resource server with identifier ${rs.identifier} or audience ${rs.audience ?? rs.identifier} already exists`);
    throw err;
  }
}

export async function findResourceServer(db: Database, identifier: string): Promise<ResourceServer | undefined> {
  return db('resource_servers').select(columns).where({ identifier }).first();
}

/** findResourceServer for the request path: reused for CLIENT_CACHE_TTL_MS. */
export async function findResourceServerForRequest(db: Database, identifier: string): Promise<ResourceServer | undefined> {
  return cache.get(db, identifier, () => findResourceServer(db, identifier));
}

/** One page in identifier order, with one row more than the page's limit (see admin/paging.ts). */
export async function listResourceServers(db: Database, page: Page): Promise<ResourceServer[]> {
  const q = db('resource_servers').select(columns).orderBy('identifier').limit(page.limit + 1);
  if (page.after !== undefined) q.where('identifier', '>', page.after);
  return q;
}

/** The resource servers among `identifiers` (a client's allowed_resources). */
export async function findResourceServers(db: Database, identifiers: string[]): Promise<ResourceServer[]> {
  if (!identifiers.length) return [];
  return db('resource_servers').select(columns).whereIn('identifier', identifiers);
}

/** Refused while a client still lists it: its clients would otherwise lose their tokens without a word. */
export async function deleteResourceServer(db: Database, identifier: string): Promise<boolean> {
  const users = await db('clients').select('client_id').whereRaw('allowed_resources @> ?::jsonb', [JSON.stringify([identifier])]).orderBy('client_id').limit(20);
  if (users.length) {
    throw new Conflict(`resource server ${identifier} is in the allowed_resources of ${users.map((u) => u.client_id).join(', ')}: remove it from those clients first`);
  }
  const deleted = (await db('resource_servers').where({ identifier }).delete()) > 0;
  cache.forget(db, identifier);
  return deleted;
}
