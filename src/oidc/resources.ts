import { errors, type Configuration } from 'oidc-provider';
import type { Database } from '../db/connect.ts';
import { findResourceServerForRequest } from '../storage/resource-servers.ts';

type ResourceIndicators = NonNullable<NonNullable<Configuration['features']>['resourceIndicators']>;

/**
 * RFC 8707 resource indicators: a token for a registered resource server gets `aud` = its audience
 * (by default its identifier) and, unless it asks for opaque, is an RFC 9068 JWT signed with its
 * `signing_alg`. A client reaches only the resource servers in its `allowed_resources`;
 * `default_resource` applies when the request names none. A client whose `scope` lists some of a
 * resource server's scopes may ask it for those only; otherwise for all of them.
 */
export function resourceIndicators(db: Database): ResourceIndicators {
  return {
    enabled: true,
    defaultResource: async (_ctx, client, oneOf) => oneOf ?? (client['default_resource'] as string | undefined),
    useGrantedResource: async () => true,
    getResourceServerInfo: async (_ctx, resourceIndicator, client) => {
      const allowed = (client['allowed_resources'] as string[] | undefined) ?? [];
      if (!allowed.includes(resourceIndicator)) {
        throw new errors.InvalidTarget(`client is not allowed to request tokens for ${resourceIndicator}`);
      }
      const rs = await findResourceServerForRequest(db, resourceIndicator);
      if (!rs) throw new errors.InvalidTarget(`unknown resource server ${resourceIndicator}`);
      const listed = new Set((client['resource_scopes'] as string[] | undefined) ?? []);
      const limited = rs.scopes.filter((s) => listed.has(s));
      return {
        audience: rs.audience,
        scope: (limited.length ? limited : rs.scopes).join(' '),
        accessTokenTTL: rs.access_token_ttl,
        accessTokenFormat: rs.access_token_format,
        ...(rs.access_token_format === 'jwt' ? { jwt: { sign: { alg: rs.signing_alg } } } : {}),
      };
    },
  };
}
