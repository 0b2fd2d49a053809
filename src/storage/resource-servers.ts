import type { Database } from '../db/connect.ts';
import { Conflict, isUniqueViolation } from '../errors.ts';
import { NewResourceServer, type ResourceServer } from '../model/resource-server.ts';
import { createReadCache } from './read-cache.ts';
import { CLIENT_CACHE_TTL_MS } from './clients.ts';

// Read at every token request for a resource; the same staleness bound as clients.
const cache = createReadCache<ResourceServer>(CLIENT_CACHE_TTL_MS);

const columns = ['identifier', 'name', 'scopes', 'access_token_format', 'access_token_ttl'];

export async function createResourceServer(db: Database, input: NewResourceServer): Promise<ResourceServer> {
  const rs = NewResourceServer.parse(input);
  try {
    const [row] = await db('resource_servers')
      .insert({ ...rs, scopes: JSON.stringify(rs.scopes) })
      .returning(columns);
    cache.forget(db, rs.identifier);
    return row as ResourceServer;
  } catch (err) {
    if (isUniqueViolation(err)) throw new Conflict(`resource server ${rs.identifier} already exists`);
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

export async function listResourceServers(db: Database): Promise<ResourceServer[]> {
  return db('resource_servers').select(columns).orderBy('identifier');
}

export async function deleteResourceServer(db: Database, identifier: string): Promise<boolean> {
  const deleted = (await db('resource_servers').where({ identifier }).delete()) > 0;
  cache.forget(db, identifier);
  return deleted;
}
