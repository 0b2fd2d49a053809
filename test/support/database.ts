import { randomBytes } from 'node:crypto';
import pg from 'pg';

export type ThrowawayDatabase = { url: string; drop(): Promise<void> };

/**
 * A new, empty database on the PostgreSQL server of `serverUrl` (its own database name is only
 * used to reach the server), for a test that must see what a first start does. drop() removes it.
 */
export async function throwawayDatabase(serverUrl: string, prefix = 'tessera_test'): Promise<ThrowawayDatabase> {
  const name = `${prefix}_${randomBytes(4).toString('hex')}`;
  const admin = new URL(serverUrl);
  admin.pathname = '/postgres';
  const query = async (sql: string) => {
    const client = new pg.Client({ connectionString: admin.href, connectionTimeoutMillis: 5_000 });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  await query(`create database ${name}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return { url: url.href, drop: () => query(`drop database if exists ${name} with (force)`) };
}
