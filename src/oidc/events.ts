import type Provider from 'oidc-provider';
import type { Logger } from '../log.ts';

/** Turns the provider's error events into log lines: the OAuth error and the client, never token values. */
export function watchProviderEvents(provider: Provider, log: Logger): void {
  const clientError = (event: string) => (ctx: { oidc?: { client?: { clientId: string } } }, err: Error & { error?: string; error_description?: string }) =>
    log.info(event, { error: err.error ?? err.name, error_description: err.error_description, client_id: ctx.oidc?.client?.clientId });
  for (const event of ['authorization.error', 'grant.error', 'introspection.error', 'revocation.error', 'userinfo.error', 'end_session.error']) {
    (provider.on as (e: string, l: (...args: never[]) => void) => void)(event, clientError(event));
  }
  provider.on('server_error', (_ctx: unknown, err: Error) => log.error('server error', { err: err.message, stack: err.stack }));
}
