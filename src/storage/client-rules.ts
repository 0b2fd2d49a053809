import { ZodError } from 'zod';
import type { Database } from '../db/connect.ts';
import type { NewClient } from '../model/client.ts';
import { isProviderScope, splitScope } from '../claims/scopes.ts';
import { findResourceServers } from './resource-servers.ts';

type Parsed = ReturnType<typeof NewClient.parse>;

/**
 * The rules of a client that depend on what is stored (SPEC 8, Validation): every allowed resource
 * is a registered resource server, and every scope value is one Tessera answers or one of those
 * resource servers' scopes. oidc-provider would otherwise refuse the client at every request
 * (`invalid_client_metadata`), or the client would ask for tokens nobody can issue.
 * Throws a ZodError naming the field, like the schema itself.
 */
export async function checkClientAgainstStore(db: Database, c: Parsed): Promise<void> {
  const servers = await findResourceServers(db, c.allowed_resources);
  const issues: ZodError['issues'] = [];
  c.allowed_resources.forEach((identifier, i) => {
    if (!servers.some((s) => s.identifier === identifier)) issues.push({ code: 'custom', path: ['allowed_resources', i], message: `no resource server ${identifier}`, input: identifier });
  });
  const resourceScopes = new Set(servers.flatMap((s) => s.scopes));
  const unknown = splitScope(c.scope).filter((s) => !isProviderScope(s) && !resourceScopes.has(s));
  if (unknown.length) {
    const message = `${unknown.join(', ')} ${unknown.length > 1 ? 'are' : 'is'} neither an OpenID or Tessera scope nor a scope of a resource server in allowed_resources`;
    issues.push({ code: 'custom', path: ['scope'], message, input: c.scope });
  }
  if (issues.length) throw new ZodError(issues);
}
