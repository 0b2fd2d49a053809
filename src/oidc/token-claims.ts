import { errors, type KoaContextWithOIDC } from 'oidc-provider';
import type { Database } from '../db/connect.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import { readClaimSources, type ClaimSourceRows, type SpendableRead } from '../storage/claim-sources.ts';
import { currentUnit } from '../storage/unit-of-work.ts';
import type { User } from '../model/user.ts';
import { organizationRequest, ORGANIZATION_SCOPE, ALL_ORGANIZATIONS_SCOPE, HASURA_SCOPE, PRIVILEGES_SCOPE } from '../claims/scopes.ts';
import { selectOrganizations, hookOrganization, type Membership } from '../claims/organization.ts';
import { placedClaims, withPayload, type ClaimSources, type Target } from '../claims/assemble.ts';
import { checkTokenSize, type MergeResult } from '../claims/naming.ts';
import type { PayloadHookConfig } from '../hooks/config.ts';
import { GLOBAL_HOOK, type HookRunner } from '../hooks/runner.ts';
import { issueContext, type IssueContext } from './issue-context.ts';
import { authClaimsOf } from '../signin/index.ts';

/**
 * A closed payload hook that failed: the token request fails with a clear, retryable error.
 * HTTP 400 because RFC 6749 token errors are 400s, which relying-party libraries parse as OAuth
 * errors (a 503 reaches apps as an unexplained status); the code says "retry later".
 */
export class PayloadHookFailed extends errors.OIDCProviderError {
  constructor(cause: string) {
    super(400, 'temporarily_unavailable');
    this.error_description = `the payload hook failed (${cause}); no token was issued`;
    this.expose = true;
  }
}

export type TokenClaimsDeps = {
  db: Database;
  log: Logger;
  metrics: Metrics;
  hooks: HookRunner;
  globalHook: PayloadHookConfig | undefined;
  maxTokenBytes: number;
};

type Base = { issue: IssueContext; sources: ClaimSources; requestedScope: string | undefined };
type Payload = { hookActive: boolean; requestedScope: string | undefined; claims: Record<string, unknown> | undefined; policy: 'open' | 'closed' };

/**
 * Computes the claims of one token response. Everything is read when the token is issued (SPEC 7),
 * once per response: the ID token and the access token share one database read and one hook call.
 */
export function createTokenClaims(deps: TokenClaimsDeps) {
  const bases = new WeakMap<object, Promise<Base>>();
  const payloads = new WeakMap<object, Promise<Payload>>();
  /** An organization switch asked for on this request (refresh_token with `organization=<alias>`). */
  const switches = new WeakMap<object, string>();

  async function loadBase(ctx: KoaContextWithOIDC, token?: Parameters<typeof issueContext>[1]): Promise<Base> {
    const issue = issueContext(ctx, token);
    const chosen = switches.get(ctx);
    if (!issue.accountId) {
      return { issue, sources: { sub: undefined, scopes: issue.scopes, inClaim: [], active: null, privileges: undefined }, requestedScope: ctx.oidc.params?.scope as string | undefined };
    }
    // Only what the granted scopes need is read: a plain `openid profile` issue costs one query.
    const needs = {
      memberships: organizationRequest(issue.scopes).kind !== 'none' || chosen !== undefined || issue.scopes.includes(HASURA_SCOPE),
      privileges: issue.scopes.includes(PRIVILEGES_SCOPE),
    };
    // A code or refresh token was read with its claim sources (storage/oidc-adapter.ts): they are
    // used when they cover what these scopes need.
    const { memberships, privileges, grant } =
      covering(currentUnit()?.spendable, needs, issue) ?? (await readClaimSources(deps.db, { userId: issue.accountId, grantId: issue.grantId, ...needs }));
    if (chosen !== undefined && !issue.scopes.includes(ORGANIZATION_SCOPE) && !issue.scopes.includes(ALL_ORGANIZATIONS_SCOPE)) {
      throw new errors.InvalidScope('switching organization needs a grant with the organization scope', ORGANIZATION_SCOPE);
    }
    let request = organizationRequest(issue.scopes);
    // A member removed since the grant loses that organization rather than the whole token.
    if (request.kind === 'aliases') request = { kind: 'aliases', aliases: request.aliases.filter((a) => memberships.some((m) => m.alias === a)) };
    const selection = selectOrganizations(request, memberships, grant?.organization_id ?? null, chosen);
    if (!selection.ok && selection.error === 'not_member') {
      throw new errors.InvalidRequest(`the user is not a member of organization ${selection.alias}`);
    }
    const { inClaim, active } = selection.ok ? selection : { inClaim: [], active: null };
    return {
      issue,
      sources: { sub: issue.accountId, scopes: issue.scopes, inClaim, active, privileges },
      requestedScope: grant?.requested_scope ?? undefined,
    };
  }

  function base(ctx: KoaContextWithOIDC, token?: Parameters<typeof issueContext>[1]): Promise<Base> {
    let p = bases.get(ctx);
    if (!p) bases.set(ctx, (p = loadBase(ctx, token)));
    return p;
  }

  /** The client's own hook setting, if it has one, and the one that applies (its own, or the global one). */
  function hookOf(ctx: KoaContextWithOIDC): { own: PayloadHookConfig | undefined; config: PayloadHookConfig | undefined } {
    const own = (ctx.oidc.client as unknown as Record<string, unknown>)['payload_hook'] as PayloadHookConfig | undefined;
    return { own, config: own ?? deps.globalHook };
  }

  async function callHook(ctx: KoaContextWithOIDC, b: Base): Promise<Payload> {
    const { own, config } = hookOf(ctx);
    if (!config) return { hookActive: false, requestedScope: undefined, claims: undefined, policy: 'closed' };
    const requestedScope = b.issue.grantType === 'client_credentials' ? ((ctx.oidc.params?.scope as string | undefined) ?? '') : (b.requestedScope ?? b.issue.scopes.join(' '));
    const outcome = await deps.hooks.run(
      config,
      {
        client_id: b.issue.clientId,
        ...(b.issue.accountId ? { sub: b.issue.accountId } : {}),
        scope: b.issue.scopes.join(' '),
        requested_scope: requestedScope,
        grant_type: b.issue.grantType,
        organization: hookOrganization(b.sources.active),
        resource: b.issue.resource,
        ...(b.issue.accountId ? authClaimsOf(ctx) : {}),
        request_id: b.issue.requestId,
      },
      own ? `client:${b.issue.clientId}` : GLOBAL_HOOK,
    );
    const policy = config.failure ?? 'closed';
    if (outcome.status === 'failed') {
      if (outcome.policy === 'closed') throw new PayloadHookFailed(outcome.cause);
      return { hookActive: true, requestedScope, claims: undefined, policy };
    }
    return { hookActive: true, requestedScope, claims: outcome.claims, policy };
  }

  function payload(ctx: KoaContextWithOIDC, b: Base): Promise<Payload> {
    let p = payloads.get(ctx);
    if (!p) payloads.set(ctx, (p = callHook(ctx, b)));
    return p;
  }

  /** Logs and counts renames and drops, then applies the size budget (a hook failure when over). */
  function finish(ctx: KoaContextWithOIDC, target: Target, protocol: Record<string, unknown>, placed: Record<string, unknown>, p: Payload): Record<string, unknown> {
    let merged: MergeResult = withPayload({ ...protocol, ...placed }, p);
    // Made only when there is something to log: most tokens have nothing to report.
    const log = () => deps.log.child({ client_id: ctx.oidc.client?.clientId, target });
    for (const r of merged.renamed) {
      deps.metrics.claimRenames.inc({ claim: r.from });
      log().info('payload claim renamed', { from: r.from, to: r.to });
    }
    // Renamed names are protected ones (a bounded set); dropped ones may be anything a hook sent,
    // so they are counted without a label and logged cut short.
    for (const d of merged.dropped) {
      deps.metrics.claimDrops.inc();
      log().warn('payload claim dropped', { claim: d.length > 64 ? `${d.slice(0, 64)}…` : d });
    }
    // The token is not signed yet: its size is estimated from the JSON of its claims (base64url: 4/3) plus header and signature.
    const estimate = Math.ceil((Buffer.byteLength(JSON.stringify(merged.claims)) * 4) / 3) + 140;
    const size = checkTokenSize(estimate, merged.claims, deps.maxTokenBytes);
    if (!size.ok) {
      deps.metrics.tokenBudgetExceeded.inc({ target });
      log().warn('token over size budget', { bytes: size.bytes, limit: size.limit, largest: size.largest });
      if (p.hookActive && p.claims) {
        deps.metrics.hookFailures.inc({ source: 'budget', cause: 'token_too_large' });
        if (p.policy === 'closed') throw new PayloadHookFailed('token_too_large');
        merged = withPayload({ ...protocol, ...placed }, { ...p, claims: undefined });
      }
    }
    for (const key of Object.keys(protocol)) delete merged.claims[key];
    return merged.claims;
  }

  return {
    /** extraTokenClaims: what an access token (JWT or opaque, then introspection) carries beyond the protocol claims. */
    async forAccessToken(ctx: KoaContextWithOIDC, token: Parameters<typeof issueContext>[1]): Promise<Record<string, unknown>> {
      // client_credentials without a payload hook: no user's claims and no hook's, so nothing of
      // ours to add to the token oidc-provider makes. Going through the claims step anyway was
      // about a twelfth of such a request's CPU.
      if (ctx.oidc.params?.grant_type === 'client_credentials' && !hookOf(ctx).config) return {};
      const b = await base(ctx, token);
      const p = await payload(ctx, b);
      const claims = finish(ctx, 'access_token', protocolOf(token as Record<string, unknown>), placedClaims(b.sources, 'access_token'), p);
      // How the user signed in (src/signin/): protocol claims, which no hook claim can take (naming.ts).
      return b.issue.accountId ? { ...claims, ...authClaimsOf(ctx) } : claims;
    },
    /** Added to the ID token after oidc-provider's scope filtering; `present` is what it already holds. */
    async forIdToken(ctx: KoaContextWithOIDC, present: Record<string, unknown>): Promise<Record<string, unknown>> {
      const b = await base(ctx);
      const p = await payload(ctx, b);
      return finish(ctx, 'id_token', present, placedClaims(b.sources, 'id_token'), p);
    },
    /** Tessera's claims for account.claims(): organization and privileges, filtered by scope like any other. */
    async forAccount(ctx: KoaContextWithOIDC): Promise<Record<string, unknown>> {
      const b = await base(ctx);
      return placedClaims(b.sources, ctx.oidc.route === 'userinfo' ? 'userinfo' : 'id_token');
    },
    /** refresh_token with `organization=<alias>`: remembered for this request, checked when claims are read. */
    requestSwitch(ctx: KoaContextWithOIDC, alias: string) {
      switches.set(ctx, alias);
    },
    /** The user read with the code or refresh token (storage/oidc-adapter.ts), so findAccount need not read it again. */
    userRead(id: string): User | undefined {
      const user = currentUnit()?.spendable?.sources?.user;
      return user?.id === id ? user : undefined;
    },
    async activeOrganization(ctx: KoaContextWithOIDC): Promise<Membership | null> {
      return (await base(ctx)).sources.active;
    },
  };
}

export type TokenClaims = ReturnType<typeof createTokenClaims>;

/**
 * The sources read with the token, when they hold what this issue needs; undefined when they fall
 * short. A part read beyond the need does no harm: the claims rules place only what the scopes allow.
 */
function covering(spendable: SpendableRead | undefined, needs: { memberships: boolean; privileges: boolean }, issue: IssueContext): ClaimSourceRows | undefined {
  const { payload, sources, read } = spendable ?? {};
  if (!payload || payload.accountId !== issue.accountId || payload.grantId !== issue.grantId) return undefined;
  if (!sources || !read || (needs.memberships && !read.memberships) || (needs.privileges && !read.privileges)) return undefined;
  return sources;
}

/** The protocol claims an access token will carry, as they stand before signing, so none is ever replaced. */
function protocolOf(token: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [claim, field] of [['sub', 'accountId'], ['client_id', 'clientId'], ['scope', 'scope'], ['jti', 'jti']] as const) {
    if (token[field] !== undefined) out[claim] = token[field];
  }
  return out;
}
