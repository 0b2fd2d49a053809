import { errors, type Client, type KoaContextWithOIDC } from 'oidc-provider';

type TokenLike = { clientId?: string; aud?: string | string[]; resourceServer?: { audience?: string } };

/**
 * Who may introspect or revoke a token. Tokens carry users' privileges and hook claims, so not
 * every confidential client may read every token: the client it was issued to may, and so may a
 * client allowed the token's audience (an API introspecting tokens meant for it).
 */
export function mayAccessToken(_ctx: KoaContextWithOIDC, client: Client, token: TokenLike): boolean {
  if (token.clientId === client.clientId) return true;
  const audiences = [token.resourceServer?.audience, ...[token.aud ?? []].flat()].filter((a): a is string => typeof a === 'string');
  const allowed = (client['allowed_resources'] as string[] | undefined) ?? [];
  return client.clientAuthMethod !== 'none' && audiences.some((a) => allowed.includes(a));
}

/** Only the client a token was issued to may revoke it (RFC 7009). */
export function mayRevokeToken(_ctx: KoaContextWithOIDC, client: Client, token: TokenLike): boolean {
  if (token.clientId === client.clientId) return true;
  if (client.clientAuthMethod === 'none') return false;
  throw new errors.InvalidRequest('client is not authorized to revoke the presented token');
}
