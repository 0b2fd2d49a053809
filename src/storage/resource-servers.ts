import type { Database } from '../db/connect.ts';
import { Conflict, isUniqueViolation } from '../errors.ts';
import { NewResourceServer, type ResourceServer } from '../model/resource-server.ts';

const columns = ['identifier', 'name', 'scopes', 'access_token_format', 'access_token_ttl'];

export async function createResourceServer(db: Database, input: NewResourceServer): Promise<ResourceServer> {
  const rs = NewResourceServer.parse(input);
  try {
    const [row] = await db('resource_servers')
      .insert({ ...rs, scopes: JSON.stringify(rs.scopes) })
      .returning(columns);
    return row as ResourceServer;
  } catch (err) {
    if (isUniqueViolation(err)) throw new Conflict(`resource server ${rs.identifier} already exists`);
    throw err;
  }
}

export async function findResourceServer(db: Database, identifier: string): Promise<ResourceServer | undefined> {
  return db('resource_servers').select(columns).where({ identifier }).first();
}

export async function listResourceServers(db: Database): Promise<ResourceServer[]> {
  return db('resource_servers').select(columns).orderBy('identifier');
}

export async function deleteResourceServer(db: Database, identifier: string): Promise<boolean> {
  return (await db('resource_servers').where({ identifier }).delete()) > 0;
}
