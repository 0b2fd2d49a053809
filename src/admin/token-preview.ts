import Router from '@koa/router';
import { randomUUID } from 'node:crypto';
import { TokenPreviewInput } from '../model/token-preview.ts';
import type { Database } from '../db/connect.ts';
import { GLOBAL_HOOK, type HookRunner } from '../hooks/runner.ts';
import type { PayloadHookConfig } from '../hooks/config.ts';
import { findClient } from '../storage/clients.ts';
import { findUserById } from '../storage/users.ts';
import { readClaimSources } from '../storage/claim-sources.ts';
import { organizationRequest, splitScope } from '../claims/scopes.ts';
import { selectOrganizations, hookOrganization } from '../claims/organization.ts';
import { placedClaims, withPayload, type Target } from '../claims/assemble.ts';
import { standardClaims, STANDARD_SCOPE_CLAIMS } from '../claims/standard.ts';
import { readJson } from './json-body.ts';
import { Problem } from './problem.ts';
import { requireScope } from './auth.ts';

/**
 * POST /token-preview: the claims each token would carry for this client, user and scope, with the
 * renames, drops and the hook's answer, from the same pure functions that issue tokens. Nothing is
 * issued; the hook is really called (that is what is being previewed).
 */
export function tokenPreviewRoutes(db: Database, hooks: HookRunner, globalHook: PayloadHookConfig | undefined): Router {
  const router = new Router();
  router.post('/token-preview', requireScope('admin'), async (ctx) => {
    const input = TokenPreviewInput.parse(await readJson(ctx));
    const client = await findClient(db, input.client_id);
    if (!client) throw new Problem(422, 'Invalid body', 'no such client', [{ path: '/client_id', message: 'no such client' }]);
    const user = input.user_id ? await findUserById(db, input.user_id) : undefined;
    if (input.user_id && !user) throw new Problem(422, 'Invalid body', 'no such user', [{ path: '/user_id', message: 'no such user' }]);
    const scopes = splitScope(input.scope);
    // The same read as a real token issue (token-claims.ts), so the preview cannot drift from it.
    const read = user ? await readClaimSources(db, { userId: user.id, memberships: true, privileges: true }) : undefined;
    const memberships = read?.memberships ?? [];
    const selection = selectOrganizations(organizationRequest(scopes), memberships, null, input.organization);
    if (!selection.ok && selection.error === 'not_member') throw new Problem(422, 'Invalid body', `the user is not a member of ${selection.alias}`, [{ path: '/organization', message: 'not a member' }]);
    const { inClaim, active } = selection.ok ? selection : { inClaim: [], active: null };
    const sources = { sub: user?.id, scopes, inClaim, active, privileges: read?.privileges };

    const config = client.payload_hook ?? globalHook;
    const outcome = config
      ? await hooks.run(
          config,
          {
            client_id: client.client_id,
            ...(user ? { sub: user.id } : {}),
            scope: input.scope,
            requested_scope: input.scope,
            grant_type: user ? 'authorization_code' : 'client_credentials',
            organization: hookOrganization(active),
            resource: input.resource ?? client.default_resource ?? null,
            request_id: randomUUID(),
          },
          client.payload_hook ? `client:${client.client_id}` : GLOBAL_HOOK,
        )
      : undefined;
    const part = { hookActive: config !== undefined, requestedScope: input.scope, claims: outcome?.status === 'ok' ? outcome.claims : undefined };

    // Standard claims as the scope filter releases them (ID token and userinfo only).
    const released = new Set(scopes.flatMap((s) => (STANDARD_SCOPE_CLAIMS as Record<string, readonly string[]>)[s] ?? []));
    const standard = user ? Object.fromEntries(Object.entries(standardClaims(user)).filter(([k]) => released.has(k) || k === 'sub')) : {};
    const build = (target: Target, withHook: boolean) => {
      const base = { ...(target === 'access_token' ? (user ? { sub: user.id } : {}) : standard), ...placedClaims(sources, target) };
      return withHook ? withPayload(base, part) : { claims: base, renamed: [], dropped: [] };
    };
    const idToken = build('id_token', true);
    const accessToken = build('access_token', true);
    ctx.body = {
      id_token: user && scopes.includes('openid') ? idToken.claims : null,
      access_token: { ...accessToken.claims, client_id: client.client_id, scope: input.scope, ...(input.resource ? { aud: input.resource } : {}) },
      userinfo: user ? build('userinfo', false).claims : null,
      renamed: accessToken.renamed,
      dropped: accessToken.dropped,
      hook: outcome ? (outcome.status === 'ok' ? { status: 'ok', source: outcome.source, cached: outcome.cached, claims: outcome.claims ?? null } : { status: 'failed', source: outcome.source, cause: outcome.cause, policy: outcome.policy }) : null,
    };
  });
  return router;
}
