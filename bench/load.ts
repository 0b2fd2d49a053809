/**
 * One measurement: autocannon against one server, for a bounded time, at a number of connections.
 *
 * Rotating refresh tokens need one chain per connection. autocannon calls `onResponse` and then,
 * synchronously and on the same connection, `setupRequest` for that connection's next request; the
 * new refresh token is handed over between those two calls. Each connection starts from a token of
 * the pool; a refused refresh breaks its chain, and every later request of it fails too, so a
 * correct run shows zero errors.
 */
import autocannon from 'autocannon';

export type Measured = { rps: number; p50: number; p99: number; errors: number; requests: number };

export type LoadRequest = { method: 'GET' | 'POST' | 'PUT'; path: string; headers: Record<string, string>; body?: string };

export type Load =
  /** The same request every time (client_credentials, introspection). */
  | { kind: 'fixed'; request: LoadRequest }
  /** A request built for each call (the admin PUT, which rotates over users). */
  | { kind: 'varying'; request: (i: number) => LoadRequest }
  /** refresh_token grant chains, one per connection, from `pool` (at least one token per connection). */
  | { kind: 'refresh'; pool: string[]; request: (refreshToken: string) => LoadRequest };

export async function measure(url: string, load: Load, connections: number, durationS: number): Promise<Measured> {
  let invalid = 0;
  let counter = 0;
  const setup = (req: Record<string, unknown>, r: LoadRequest) => ({ ...req, method: r.method, path: r.path, headers: r.headers, body: r.body });

  let request: Record<string, unknown>;
  if (load.kind === 'fixed') {
    request = { ...load.request };
  } else if (load.kind === 'varying') {
    request = { setupRequest: (req: Record<string, unknown>) => setup(req, load.request(counter++)) };
  } else {
    if (load.pool.length < connections) throw new Error(`${connections} connections need ${connections} refresh tokens, the pool has ${load.pool.length}`);
    const pool = [...load.pool];
    // undefined: this connection has no chain yet; null: its chain was refused.
    let handoff: string | null | undefined;
    request = {
      setupRequest: (req: Record<string, unknown>) => {
        let token = handoff;
        handoff = undefined;
        if (token === undefined) token = pool.pop() ?? 'pool-exhausted';
        return setup(req, load.request(token ?? 'chain-broken'));
      },
      onResponse: (status: number, body: string) => {
        let next: unknown;
        try {
          next = status === 200 ? (JSON.parse(body) as { refresh_token?: unknown }).refresh_token : undefined;
        } catch {
          next = undefined;
        }
        if (typeof next === 'string') handoff = next;
        else {
          handoff = null;
          if (status === 200) invalid++;
        }
      },
    };
  }

  const result = await autocannon({ url, connections, duration: durationS, pipelining: 1, timeout: 10, requests: [request as autocannon.Request] });
  return {
    rps: Math.round(result.requests.average * 10) / 10,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts + result.non2xx + invalid,
    requests: result.requests.total,
  };
}
