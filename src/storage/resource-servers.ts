import type { Database } from '../db/connect.ts';
import { Conflict, isUniqueViolation } from '../errors.ts';
import { NewResourceServer, type ResourceServer } from '../model/resource-server.ts';

export async function createResourceServer(db: Database, input: NewResourceServer): Promise<ResourceServer> {
  const rs = NewResourceServer.parse(input);
  try {
    const [row] = await db('resource_servers')
      .insert({ ...rs, scopes: JSON.stringify(rs.scopes) })
      .returning(['identifier', 'name', 'scopes', 'access_token_format', 'access_token_ttl']);
    return row as ResourceServer;
  } catch (err) {
    if (isUniqueViolation(err)) throw new Conflict(`resource server ${rs.identifier} already exists`);
    throw err;
  }
}

export async function findResourceServer(db: Database, identifier: string): Promise<ResourceServer | undefined> {
  return db('resource_servers').select(['identifier', 'name', 'scopes', 'access_token_format', 'access_token_ttl']).where({ identifier }).first();
}
