import type Koa from 'koa';
import type { Knex } from 'knex';
import type Provider from 'oidc-provider';
import type { Database } from '../db/connect.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import type { AddressPolicy } from '../hooks/address-policy.ts';
import { enqueueForClients, enqueueForGrants, type UserEvent } from './events.ts';
import { startDelivery, type DeliverySettings } from './delivery.ts';
import { signalsRouter, transmitterMetadata } from './routes.ts';
import { signalSessionEnd } from './session-end.ts';

export * from './events.ts';
export { recordLogouts, noticesOf, BACKCHANNEL_LOGOUT } from './backchannel.ts';

/**
 * The Shared Signals transmitter, in one place: what the rest of Tessera calls to record an event
 * (inside the transaction of the change), the HTTP routes (metadata and stream management), and the
 * push delivery worker.
 */
export type Signals = {
  /** Records an event about users for the streams of clients they hold a grant with. */
  forGrants(trx: Knex, type: string, items: UserEvent[], grantScope?: string): Promise<number>;
  /** Records an event about one user for the streams of the given clients. */
  forClients(trx: Knex, type: string, userId: string, clientIds: string[], event: Record<string, unknown>): Promise<number>;
  /** After the transaction committed: deliver now rather than at the next poll. */
  nudge(): void;
};

/** For code that must record events but runs without a transmitter (the CLI): rows are written, a running server delivers them. */
export const recordOnly: Signals = {
  forGrants: enqueueForGrants,
  forClients: enqueueForClients,
  nudge() {},
};

export function createSignals(deps: { provider: Provider; db: Database; log: Logger; metrics: Metrics; addressPolicy: AddressPolicy; delivery: DeliverySettings & { enabled: boolean } }) {
  const { provider, db, log, metrics } = deps;
  const count = (type: string, n: number) => {
    if (n) metrics.signalsQueued.inc({ event: type.slice(type.lastIndexOf('/') + 1) }, n);
    return n;
  };
  const worker = deps.delivery.enabled ? startDelivery({ db, issuer: provider.issuer, log, metrics, settings: deps.delivery, addressPolicy: deps.addressPolicy }) : undefined;
  const nudge = () => worker?.nudge();
  const router = signalsRouter({ provider, db, addressPolicy: deps.addressPolicy, nudge });
  const routes = router.routes() as unknown as Koa.Middleware;
  const metadata = transmitterMetadata(provider.issuer);

  const signals: Signals = {
    forGrants: async (trx, type, items, grantScope) => count(type, await enqueueForGrants(trx, type, items, grantScope)),
    forClients: async (trx, type, userId, clientIds, event) => count(type, await enqueueForClients(trx, type, userId, clientIds, event)),
    nudge,
  };

  signalSessionEnd(provider, db, signals, log);

  /** GET /.well-known/ssf-configuration and everything under /ssf/, spelled exactly. */
  const http: Koa.Middleware = async (ctx, next) => {
    if (ctx.path === '/.well-known/ssf-configuration') {
      if (ctx.method !== 'GET' && ctx.method !== 'HEAD') return next();
      ctx.set('cache-control', 'public, max-age=300');
      ctx.body = metadata;
      return;
    }
    if (ctx.path === '/ssf' || ctx.path.startsWith('/ssf/')) return routes(ctx, next);
    return next();
  };

  return { signals, http, stop: async () => worker?.stop() };
}
