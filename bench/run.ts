/**
 * `npm run bench`: the gateway's cost on the request path, measured in one run against the fake Mistral upstream
 * called directly and through a bare pass-through proxy. Each server runs in its own process; the load generator
 * runs here. Prints requests/s and latency for each, the ratios, and the targets.
 *
 * The gateway runs twice: with the default audit durability (`tollgate`, batch) and with
 * CZ_GATEWAY_AUDIT_DURABILITY=sync (`tollgate-sync`), whose cost is reported as ratios to the default.
 *
 * Options (env): BENCH_SECONDS (load duration per target and round, default 5), BENCH_ROUNDS (default 3),
 * BENCH_SEQUENTIAL (requests per target, default 2000). Load runs take turns between targets round by round, and the
 * figures reported are the medians over rounds, so drift on a shared machine does not favour whichever ran first.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { load, sequential, type LoadResult, type Target } from './measure.js';
import { startProcess } from './processes.js';
import { chatBody, setUpGateway, UPSTREAM_KEY } from './setup.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SEQUENTIAL = Number(process.env.BENCH_SEQUENTIAL ?? 2000);
const fmt = (n: number, digits = 2) => n.toFixed(digits);

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function medianLoad(results: LoadResult[]): LoadResult {
  return {
    rps: median(results.map((r) => r.rps)),
    p50: median(results.map((r) => r.p50)),
    p99: median(results.map((r) => r.p99)),
    errors: results.reduce((n, r) => n + r.errors, 0),
    non2xx: results.reduce((n, r) => n + r.non2xx, 0),
    cpuUs: median(results.map((r) => r.cpuUs)),
  };
}

async function main(): Promise<void> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'tollgate-bench-'));
  const syncDataDir = await mkdtemp(path.join(os.tmpdir(), 'tollgate-bench-sync-'));
  const upstream = await startProcess(
    path.join(here, '../src/fake-mistral/main.js'),
    ['--port', '0', '--api-key', UPSTREAM_KEY],
    {},
    /listening on (http:\/\/\S+?) /,
  );
  const bare = await startProcess(path.join(here, 'bare-proxy.js'), [upstream.url], {}, /listening on (http:\/\/\S+)/);
  const gateway = await setUpGateway(path.join(here, '../src/main.js'), upstream.url, dataDir);
  const syncGateway = await setUpGateway(path.join(here, '../src/main.js'), upstream.url, syncDataDir, { CZ_GATEWAY_AUDIT_DURABILITY: 'sync' });
  const auth = { authorization: `Bearer ${UPSTREAM_KEY}` };
  const targets: Target[] = [
    { name: 'direct', origin: upstream.url, path: '/v1/chat/completions', headers: auth },
    { name: 'bare-proxy', origin: bare.url, path: '/v1/chat/completions', headers: auth, pid: bare.child.pid },
    { name: 'tollgate', origin: gateway.running.url, path: '/mistral/v1/chat/completions', headers: { authorization: `Bearer ${gateway.key}` }, pid: gateway.running.child.pid },
    {
      name: 'tollgate-sync',
      origin: syncGateway.running.url,
      path: '/mistral/v1/chat/completions',
      headers: { authorization: `Bearer ${syncGateway.key}` },
      pid: syncGateway.running.child.pid,
    },
  ];

  const lines: string[] = [];
  const say = (line = '') => {
    lines.push(line);
    process.stdout.write(`${line}\n`);
  };
  say(`# Tollgate benchmark: ${os.cpus().length} cores, node ${process.version}, ${ROUNDS} rounds of ${SECONDS}s load per target, ${SEQUENTIAL} sequential requests`);
  say('# gateway: 1 key, 10-rule policy set, audit on (SQLite); upstream: fake Mistral; all on 127.0.0.1');
  try {
    for (const stream of [false, true]) {
      const body = chatBody(stream);
      const mode = stream ? 'streaming' : 'non-streaming';
      say();
      say(`## ${mode}`);
      for (const t of targets) await load(t, body, 32, 1); // warm-up
      const rounds: Record<string, LoadResult>[] = [];
      for (let r = 0; r < ROUNDS; r++) {
        const round: Record<string, LoadResult> = {};
        for (const t of targets) round[t.name] = await load(t, body, 32, SECONDS);
        rounds.push(round);
      }
      const loads = Object.fromEntries(targets.map((t) => [t.name, medianLoad(rounds.map((r) => r[t.name]!))]));
      const seqs = await sequential(targets, body, SEQUENTIAL, 200);
      say('| target | req/s (32 conns) | p50 ms | p99 ms | errors | seq p50 ms | seq p99 ms | ttfb p50 ms | ttfb p99 ms | chunks/req |');
      say('|---|---|---|---|---|---|---|---|---|---|');
      for (const t of targets) {
        const l = loads[t.name]!;
        const s = seqs[t.name]!;
        say(
          `| ${t.name} | ${fmt(l.rps, 0)} | ${l.p50} | ${l.p99} | ${l.errors + l.non2xx} | ${fmt(s.total.p50, 3)} | ${fmt(s.total.p99, 3)} | ${fmt(s.ttfb.p50, 3)} | ${fmt(s.ttfb.p99, 3)} | ${fmt(s.chunksPerRequest, 1)} |`,
        );
      }
      const g = loads.tollgate!;
      const gs = seqs.tollgate!;
      const ds = seqs.direct!;
      const bs = seqs['bare-proxy']!;
      const throughputRatio = median(rounds.map((r) => r.tollgate!.rps / r['bare-proxy']!.rps));
      const addedP50 = gs.total.p50 - ds.total.p50;
      const addedP99 = gs.total.p99 - ds.total.p99;
      say();
      say(`- throughput tollgate/bare-proxy: ${fmt(throughputRatio * 100, 1)}% (median of ${ROUNDS} rounds: ${rounds.map((r) => fmt((r.tollgate!.rps / r['bare-proxy']!.rps) * 100, 0)).join(', ')}; target >= 85%) ${throughputRatio >= 0.85 ? 'PASS' : 'MISS'}`);
      say(`- added latency over direct, sequential: p50 ${fmt(addedP50 * 1000, 0)} µs (target <= 300), p99 ${fmt(addedP99 * 1000, 0)} µs (target <= 1000) ${addedP50 <= 0.3 && addedP99 <= 1 ? 'PASS' : 'MISS'}`);
      const cpuRatio = median(rounds.map((r) => r.tollgate!.cpuUs / r['bare-proxy']!.cpuUs));
      say(
        `- CPU per request (process, all threads): tollgate ${fmt(g.cpuUs, 1)} µs, bare-proxy ${fmt(loads['bare-proxy']!.cpuUs, 1)} µs, ratio ${fmt(cpuRatio, 2)} ` +
          `(rounds: ${rounds.map((r) => fmt(r.tollgate!.cpuUs / r['bare-proxy']!.cpuUs, 2)).join(', ')}; steadier than req/s on a shared machine)`,
      );
      say(`- bare-proxy added latency over direct: p50 ${fmt((bs.total.p50 - ds.total.p50) * 1000, 0)} µs, p99 ${fmt((bs.total.p99 - ds.total.p99) * 1000, 0)} µs`);
      if (stream) {
        const addedTtfb = gs.ttfb.p99 - ds.ttfb.p99;
        say(`- streaming: added time to first byte p99 ${fmt(addedTtfb * 1000, 0)} µs (target <= 1000) ${addedTtfb <= 1 ? 'PASS' : 'MISS'}`);
        say(`- streaming: chunks per response direct ${fmt(ds.chunksPerRequest, 1)} vs tollgate ${fmt(gs.chunksPerRequest, 1)} (no coalescing when equal)`);
      }
      const syncThroughput = median(rounds.map((r) => r['tollgate-sync']!.rps / r.tollgate!.rps));
      const syncCpu = median(rounds.map((r) => r['tollgate-sync']!.cpuUs / r.tollgate!.cpuUs));
      const ss = seqs['tollgate-sync']!;
      say(
        `- sync audit durability vs the default (batch): throughput ${fmt(syncThroughput * 100, 1)}%, CPU per request x${fmt(syncCpu, 2)}, ` +
          `added latency sequential p50 ${fmt((ss.total.p50 - gs.total.p50) * 1000, 0)} µs, p99 ${fmt((ss.total.p99 - gs.total.p99) * 1000, 0)} µs; ` +
          `under load p50 ${loads['tollgate-sync']!.p50} vs ${g.p50} ms, p99 ${loads['tollgate-sync']!.p99} vs ${g.p99} ms`,
      );
      if (g.errors + g.non2xx > 0) say(`- WARNING: tollgate had ${g.errors + g.non2xx} failed requests under load`);
    }
  } finally {
    await Promise.all([gateway.running.stop(), syncGateway.running.stop(), bare.stop(), upstream.stop()]);
    await Promise.all([dataDir, syncDataDir].map((dir) => rm(dir, { recursive: true, force: true })));
  }
}

main().catch((err: Error) => {
  process.stderr.write(`${err.stack ?? err.message}\n`);
  process.exit(1);
});
