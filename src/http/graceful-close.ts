import type http from 'node:http';

/**
 * Stops accepting connections and resolves once every open one is gone. Idle keep-alive
 * connections are closed at once and again as in-flight requests finish (a kept-alive client would
 * otherwise hold the server open); whatever is still open after `graceMs` is closed by force.
 * Resolves with how many connections had to be forced (0 for a clean close).
 */
export function closeGracefully(server: http.Server, graceMs: number): Promise<{ forced: number }> {
  return new Promise((resolve) => {
    let forced = 0;
    const sweep = setInterval(() => server.closeIdleConnections(), 100);
    const grace = setTimeout(() => {
      server.getConnections((_err, count) => {
        forced = count;
        server.closeAllConnections();
      });
    }, graceMs);
    server.close(() => {
      clearInterval(sweep);
      clearTimeout(grace);
      resolve({ forced });
    });
    server.closeIdleConnections();
  });
}
