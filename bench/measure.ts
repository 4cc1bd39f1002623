/** Load and latency measurements used by the benchmark. */
import autocannon from 'autocannon';
import { performance } from 'node:perf_hooks';
import { Pool } from 'undici';
import { readFileSync } from 'node:fs';

export interface Target {
  name: string;
  origin: string;
  path: string;
  headers: Record<string, string>;
  /** The serving process, whose CPU time per request is measured (Linux /proc). */
  pid?: number;
}

export interface LoadResult {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
  /** CPU time (user + system, all threads) the serving process spent per request, in µs; NaN when unknown. */
  cpuUs: number;
}

/** User + system CPU time of a process so far, in µs (Linux); NaN elsewhere. */
function cpuTimeUs(pid: number | undefined): number {
  if (pid === undefined) return NaN;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name: utime and stime are the 12th and 13th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS) * 1e6;
  } catch {
    return NaN;
  }
}
/** USER_HZ: 100 on every Linux the benchmark runs on. */
const CLOCK_TICKS = 100;

/** Closed-loop load with `connections` concurrent keep-alive connections for `seconds`. */
/** `rate`: requests per second across all connections (a fixed offered load); unset, as fast as they go. */
export async function load(target: Target, body: string, connections: number, seconds: number, rate?: number): Promise<LoadResult> {
  const cpuBefore = cpuTimeUs(target.pid);
  const result = await autocannon({
    url: target.origin + target.path,
    method: 'POST',
    headers: { 'content-type': 'application/json', ...target.headers },
    body,
    connections,
    duration: seconds,
    ...(rate === undefined ? {} : { overallRate: rate }),
  });
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
    cpuUs: (cpuTimeUs(target.pid) - cpuBefore) / result.requests.total,
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

/**
 * One request at a time over one keep-alive connection per target: the latency each adds, without queueing.
 * Targets are interleaved request by request, so background noise on a shared machine hits them all alike.
 */
export async function sequential(targets: Target[], body: string, count: number, warmup: number): Promise<Record<string, SequentialResult>> {
  const pools = targets.map((t) => new Pool(t.origin, { connections: 1 }));
  const totals = targets.map(() => [] as number[]);
  const ttfbs = targets.map(() => [] as number[]);
  const chunks = targets.map(() => 0);
  try {
    for (let i = 0; i < warmup + count; i++) {
      for (let t = 0; t < targets.length; t++) {
        const target = targets[t]!;
        const start = performance.now();
        const res = await pools[t]!.request({
          path: target.path,
          method: 'POST',
          headers: { 'content-type': 'application/json', ...target.headers },
          body,
        });
        let first = 0;
        for await (const _chunk of res.body) {
          if (first === 0) first = performance.now();
          if (i >= warmup) chunks[t]!++;
        }
        const end = performance.now();
        if (res.statusCode !== 200) throw new Error(`${target.name}: status ${res.statusCode}`);
        if (i < warmup) continue;
        totals[t]!.push(end - start);
        ttfbs[t]!.push(first - start);
      }
    }
  } finally {
    await Promise.all(pools.map((p) => p.close()));
  }
  const out: Record<string, SequentialResult> = {};
  targets.forEach((target, t) => {
    const total = totals[t]!.sort((a, b) => a - b);
    const ttfb = ttfbs[t]!.sort((a, b) => a - b);
    out[target.name] = {
      total: { p50: percentile(total, 50), p99: percentile(total, 99) },
      ttfb: { p50: percentile(ttfb, 50), p99: percentile(ttfb, 99) },
      chunksPerRequest: chunks[t]! / count,
    };
  });
  return out;
}
