import type { Configuration } from 'oidc-provider';
import { ipOfHost, isPublicAddress, type AddressPolicy } from '../hooks/address-policy.ts';

/**
 * The requests oidc-provider makes itself (back-channel logout tokens): its own guard refuses every
 * special-use address when connecting. A host the operator lists in TESSERA_HOOK_ALLOWED_HOSTS (a
 * name, or an address or CIDR it names) is let through, as for clients' webhooks; anything else
 * keeps oidc-provider's guard.
 */
export function outboundFetch(policy: AddressPolicy): NonNullable<Configuration['fetch']> {
  return (url, options) => {
    const host = new URL(String(url)).hostname.toLowerCase().replace(/^\[|\]$/g, '').replace(/\.$/, '');
    const ip = ipOfHost(host);
    const listed = policy.allowsName(host) || (ip !== undefined && !isPublicAddress(ip) && policy.allowsAddress(ip));
    if (listed) delete (options as { dispatcher?: unknown }).dispatcher;
    return fetch(url, options);
  };
}
