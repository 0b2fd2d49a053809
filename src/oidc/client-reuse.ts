import type Provider from 'oidc-provider';
import type { Adapter } from 'oidc-provider';

/**
 * oidc-provider's Client.find, for a client its adapter knows, serializes the client's whole
 * metadata and hashes it (SHA-256) at every call, to find the Client it made for that metadata.
 * Our adapter hands out one frozen metadata object per client row and scope version
 * (client-metadata.ts), so the Client made for an object is kept with it and handed back without
 * the hash: about 7 µs of a client_credentials request's 200. An edited client is a new row, hence
 * a new object, and goes through oidc-provider's own find (and its checks) again.
 */
export function reuseClientsOfSameMetadata(provider: Provider): void {
  const Client = provider.Client;
  const find = Client.find.bind(Client);
  // The adapter oidc-provider's own find asks (a static getter its types leave out).
  const adapter = () => (Client as unknown as { adapter: Adapter }).adapter;
  const made = new WeakMap<object, InstanceType<typeof Client>>();
  Client.find = async (id: string) => {
    const metadata = typeof id === 'string' && id ? await adapter().find(id) : undefined;
    if (!metadata) return find(id);
    const known = made.get(metadata);
    if (known) return known;
    const client = await find(id);
    // Kept only when find saw this same metadata (the client was not edited in between).
    if (client && (await adapter().find(id)) === metadata) made.set(metadata, client);
    return client;
  };
}
