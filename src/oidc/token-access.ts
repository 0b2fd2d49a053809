import { errors, type Client, type KoaContextWithOIDC } from 'oidc-provider';
import type { Database } from '../db/connect.ts';
import { findResourceServerForRequest } from '../storage/resource-servers.ts';

type TokenLike = { clientId?: string; aud?: string | string[]; resourceServer?: { audience?: string } };

/**
 * Who may introspect or revoke a token. Tokens carry users' privileges and hook claims, so not
 * every confidential client may read every token: the client it was issued to may, and so may a
 * client allowed the resource server the token is meant for (an API introspecting its tokens).
 * A token names its resource server by audience, which may differ from the identifier that
 * `allowed_resources` lists.
 */
export function tokenAccessPolicy(db: Database) {
  return async function mayAccessToken(_ctx: KoaContextWithOIDC, client: Client, token: TokenLike): Promise<boolean> {
    if (token.clientId === client.clientId) return true;
    if (client.clientAuthMethod === 'none') return false;
    const audiences = new Set([token.resourceServer?.audience, ...[token.aud ?? []].flat()].filter((a): a is string => typeof a === 'string'));
    if (!audiences.size) return false;
    for (const identifier of (client['allowed_resources'] as string[] | undefined) ?? []) {
      const rs = await findResourceServerForRequest(db, identifier);
      if (rs && audiences.has(rs.audience)) return true;
    }
    return false;
  };
}

/** Only the client a token was issued to may revoke it (RFC 7009). */
export function mayRevokeToken(_ctx: KoaContextWithOIDC, client: Client, token: TokenLike): boolean {
  if (token.clientId === client.clientId) return true;
  if (client.clientAuthMethod === 'none') return false;
  throw new errors.InvalidRequest('client is not authorized to revoke the presented token');
}
