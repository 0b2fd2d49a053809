import type { Configuration, KoaContextWithOIDC } from 'oidc-provider';
import { errorPage, loggedOutPage, logoutPage } from '../interactions/views.ts';

// The provider's own HTML (errors, logout), in the same look as the login pages.
export const renderError: NonNullable<Configuration['renderError']> = async (ctx, out) => {
  ctx.type = 'html';
  const details: Record<string, string> = { error: String(out.error) };
  if (out.error_description) details.description = String(out.error_description);
  ctx.body = errorPage('Something went wrong', 'The application sent a request this server cannot accept.', details);
};

export const logoutSource = async (ctx: KoaContextWithOIDC, form: string) => {
  ctx.type = 'html';
  ctx.body = logoutPage(form, ctx.oidc.client?.clientName);
};

export const postLogoutSuccessSource = async (ctx: KoaContextWithOIDC) => {
  ctx.type = 'html';
  ctx.body = loggedOutPage(ctx.oidc.client?.clientName);
};
