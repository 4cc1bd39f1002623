/** Load and latency measurements used by the benchmark. */
import autocannon from 'autocannon';
import { performance } from 'node:perf_hooks';
import { Pool } from 'undici';

export interface Target {
  name: string;
  origin: string;
  path: string;
  headers: Record<string, string>;
}

export interface LoadResult {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
}

/** Closed-loop load with `connections` concurrent keep-alive connections for `seconds`. */
export async function load(target: Target, body: string, connections: number, seconds: number): Promise<LoadResult> {
  const result = await autocannon({
    url: target.origin + target.path,
    method: 'POST',
    headers: { 'content-type': 'application/json', ...target.headers },
    body,
    connections,
    duration: seconds,
  });
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
  };
}

export interface SequentialResult {
  /** Whole-response latency, ms. */
  total: { p50: number; p99: number };
  /** Time to the first body byte, ms. */
  ttfb: { p50: number; p99: number };
  /** Body chunks received per request (for streams: shows nothing is coalesced). */
  chunksPerRequest: number;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** One request at a time over one keep-alive connection: the latency the gateway adds, without queueing. */
export async function sequential(target: Target, body: string, count: number, warmup: number): Promise<SequentialResult> {
  const pool = new Pool(target.origin, { connections: 1 });
  const totals: number[] = [];
  const ttfbs: number[] = [];
  let chunks = 0;
  try {
    for (let i = 0; i < warmup + count; i++) {
      const start = performance.now();
      const res = await pool.request({
        path: target.path,
        method: 'POST',
        headers: { 'content-type': 'application/json', ...target.headers },
        body,
      });
      let first = 0;
      for await (const _chunk of res.body) {
        if (first === 0) first = performance.now();
        if (i >= warmup) chunks++;
      }
      const end = performance.now();
      if (res.statusCode !== 200) throw new Error(`${target.name}: status ${res.statusCode}`);
      if (i < warmup) continue;
      totals.push(end - start);
      ttfbs.push(first - start);
    }
  } finally {
    await pool.close();
  }
  totals.sort((a, b) => a - b);
  ttfbs.sort((a, b) => a - b);
  return {
    total: { p50: percentile(totals, 50), p99: percentile(totals, 99) },
    ttfb: { p50: percentile(ttfbs, 50), p99: percentile(ttfbs, 99) },
    chunksPerRequest: chunks / count,
  };
}
