import http from 'node:http';
import type { AddressInfo } from 'node:net';

export type Receiver = { url: string; stop(): Promise<void> };

/** A webhook receiver on loopback for hook tests; `url` is its `/payload` address. */
export async function startReceiver(handler: http.RequestListener): Promise<Receiver> {
  const server = http.createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/payload`,
    async stop() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}
