import type { ServerResponse } from 'node:http';
import type Provider from 'oidc-provider';
import type { Logger } from '../log.ts';
import { isDatabaseUnavailable } from '../db/unavailable.ts';
import { requestIdOf } from '../http/request-context.ts';

/** Turns the provider's error events into log lines: the OAuth error and the client, never token values. */
export function watchProviderEvents(provider: Provider, log: Logger): void {
  const clientError = (event: string) => (ctx: { oidc?: { client?: { clientId: string } } }, err: Error & { error?: string; error_description?: string }) =>
    log.info(event, { error: err.error ?? err.name, error_description: err.error_description, client_id: ctx.oidc?.client?.clientId });
  for (const event of ['authorization.error', 'grant.error', 'introspection.error', 'revocation.error', 'userinfo.error', 'end_session.error']) {
    (provider.on as (e: string, l: (...args: never[]) => void) => void)(event, clientError(event));
  }
  // Back-channel logout at /session/end: the client and the outcome, never the logout token.
  (provider.on as (e: string, l: (...args: never[]) => void) => void)('backchannel.error', ((_ctx: unknown, err: Error, client: { clientId: string }) =>
    log.warn('backchannel logout not recorded', { client_id: client?.clientId, err: err.message })) as never);
  (provider.on as (e: string, l: (...args: never[]) => void) => void)('backchannel.success', ((_ctx: unknown, client: { clientId: string }) =>
    log.debug('backchannel logout recorded', { client_id: client?.clientId })) as never);
  // An unreachable database is an outage to watch, not a bug: one warning line, no stack.
  provider.on('server_error', (ctx: { path?: string; res?: ServerResponse }, err: Error) => {
    const request_id = requestIdOf(ctx.res);
    if (isDatabaseUnavailable(err)) log.warn('database unavailable', { request_id, path: ctx.path, err: err.message });
    else log.error('server error', { request_id, err: err.message, stack: err.stack });
  });
}
