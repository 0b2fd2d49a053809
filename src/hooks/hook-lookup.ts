/**
 * The connection-time half of the webhook address policy: a DNS lookup for got (`dnsLookup`) that
 * resolves the name and refuses it when any address it gets is not allowed. The check holds for the
 * address actually connected to, so a name that resolved to a public address at registration and
 * to 127.0.0.1 now (DNS rebinding) is refused.
 */
import dns from 'node:dns';
import type { LookupFunction } from 'node:net';
import type { AddressPolicy } from './address-policy.ts';

/** The error code a refused address carries; the webhook caller reports it as `address_refused`. */
export const ADDRESS_REFUSED = 'ETESSERA_ADDRESS_REFUSED';

export function guardedLookup(policy: AddressPolicy, resolve: typeof dns.lookup = dns.lookup): LookupFunction {
  return (hostname, options, callback) => {
    resolve(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, '', 0);
      const list = addresses as unknown as dns.LookupAddress[];
      const exempt = policy.allowsName(hostname);
      const refused = exempt ? undefined : list.find((a) => !policy.allowsAddress(a.address));
      if (refused || list.length === 0) {
        const error = Object.assign(new Error(`${hostname} resolves to an address webhooks may not reach`), { code: ADDRESS_REFUSED });
        return callback(error, '', 0);
      }
      if ((options as dns.LookupOptions).all) return (callback as unknown as (e: null, a: dns.LookupAddress[]) => void)(null, list);
      callback(null, list[0]!.address, list[0]!.family);
    });
  };
}
