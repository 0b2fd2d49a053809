import type { KoaContextWithOIDC } from 'oidc-provider';
import { splitScope } from '../claims/scopes.ts';

export type IssueContext = {
  accountId: string | undefined;
  clientId: string;
  grantId: string | undefined;
  grantType: string;
  /** Scopes granted for this issue (the OIDC scopes of the code, refresh token or access token). */
  scopes: string[];
  resource: string | null;
  requestId: string;
};

type TokenLike = { accountId?: string; grantId?: string; scope?: string; resourceServer?: { audience?: string }; gty?: string };

/**
 * What is being issued, read from oidc-provider's request context: at the token endpoint from the
 * code or refresh token being used (or the client credentials token), at userinfo from the access token.
 */
export function issueContext(ctx: KoaContextWithOIDC, token?: TokenLike): IssueContext {
  const e = ctx.oidc.entities as Record<string, TokenLike | undefined>;
  const source = e.AuthorizationCode ?? e.RefreshToken ?? e.AccessToken ?? e.ClientCredentials ?? token ?? {};
  const grantType = (ctx.oidc.params?.grant_type as string | undefined) ?? (ctx.oidc.route === 'userinfo' ? 'userinfo' : 'unknown');
  // A refresh may narrow the scope; the provider has already checked it is a subset.
  const narrowed = grantType === 'refresh_token' ? (ctx.oidc.params?.scope as string | undefined) : undefined;
  return {
    accountId: source.accountId ?? token?.accountId,
    clientId: ctx.oidc.client!.clientId,
    grantId: source.grantId ?? token?.grantId,
    grantType,
    scopes: splitScope(narrowed ?? source.scope ?? token?.scope),
    resource: token?.resourceServer?.audience ?? (ctx.oidc.params?.resource as string | undefined) ?? null,
    requestId: String(ctx.res.getHeader('x-request-id') ?? ''),
  };
}
