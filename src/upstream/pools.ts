/**
 * Connections to upstreams: one keep-alive undici Pool per origin, tuned once, shared by every governed path
 * (provider routes and templated endpoints), so two configurations of the same origin share their connections.
 */
import { Pool } from 'undici';

export interface PoolOptions {
  /** Time to wait for response headers, and the longest silence allowed inside a response body. */
  timeoutMs: number;
  /** Most connections at once, or null for no cap (each request in flight has its own; idle ones are reused). */
  maxConnections: number | null;
}

export class UpstreamPools {
  private readonly pools = new Map<string, Pool>();

  /** The pool of `origin` (e.g. "https://api.mistral.ai"); created on first use. */
  get(origin: string, options: PoolOptions): Pool {
    const key = `${origin} ${options.timeoutMs} ${options.maxConnections}`;
    let pool = this.pools.get(key);
    if (!pool) {
      pool = new Pool(origin, {
        // No fixed cap by default: a cap makes the request beyond it wait for a whole earlier stream to end.
        connections: options.maxConnections,
        pipelining: 1,
        keepAliveTimeout: 30_000,
        headersTimeout: options.timeoutMs,
        bodyTimeout: options.timeoutMs,
      });
      this.pools.set(key, pool);
    }
    return pool;
  }

  async close(): Promise<void> {
    await Promise.all([...this.pools.values()].map((p) => p.close()));
  }
}
