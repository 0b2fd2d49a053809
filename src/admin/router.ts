import Router from '@koa/router';
import type Provider from 'oidc-provider';
import type { Database } from '../db/connect.ts';
import { adminAuth } from './auth.ts';
import { problems, Problem } from './problem.ts';
import { privilegesRoutes } from './privileges-routes.ts';
import { usersRoutes } from './users-routes.ts';
import { factorAdminRoutes } from '../signin/admin-routes.ts';
import type { Mailer } from '../signin/password-reset.ts';
import type { Brand } from '../interactions/brand.ts';
import { organizationsRoutes } from './organizations-routes.ts';
import { clientsRoutes } from './clients-routes.ts';
import { openApiDocument } from './openapi.ts';
import { tokenPreviewRoutes } from './token-preview.ts';
import type { HookRunner } from '../hooks/runner.ts';
import type { Passwords } from '../auth/passwords.ts';
import type { PayloadHookConfig } from '../hooks/config.ts';
import type { AddressPolicy } from '../hooks/address-policy.ts';
import type { SignOut } from '../oidc/backchannel-logout.ts';
import type { Signals } from '../signals/index.ts';

/** /admin/v1: JSON, problem+json errors, every request authenticated by a Tessera token. */
export type AdminDeps = { provider: Provider; db: Database; passwords: Passwords; hooks: HookRunner; globalHook: PayloadHookConfig | undefined; hookAddressPolicy: AddressPolicy; maxProfileBytes: number; signOut: SignOut; signals: Signals; /** Mail for verification links (src/signin/); without it that operation answers 409. */ mailer?: Mailer; brand?: Brand };

export function adminRouter({ provider, db, passwords, hooks, globalHook, hookAddressPolicy, maxProfileBytes, signOut, signals, mailer, brand }: AdminDeps): Router {
  const document = openApiDocument(provider.issuer);
  const router = new Router({ prefix: '/admin/v1' });
  router.use(problems());
  router.use(async (ctx, next) => {
    ctx.set('cache-control', 'no-store');
    await next();
  });
  // The description of the API is public; everything else needs a token.
  router.get('/openapi.json', (ctx) => {
    ctx.body = document;
  });
  router.use(adminAuth(provider, db));
  for (const routes of [privilegesRoutes(db, maxProfileBytes, signals), usersRoutes(db, passwords, signOut, signals), factorAdminRoutes(db, provider.issuer, mailer, brand), organizationsRoutes(provider, db, signals), clientsRoutes(db, hookAddressPolicy), tokenPreviewRoutes(db, hooks, globalHook)]) router.use(routes.routes());
  router.all('/{*rest}', () => {
    throw new Problem(404, 'Not found', 'no such admin resource');
  });
  return router;
}
