/**
 * `npm run bench:scale`: the gateway's cost as the work grows, each dimension at each size, against the upstream
 * called directly and through the bare pass-through proxy in the same run (ratios to bare). Dimensions so far:
 *
 * - one large streamed event: a chat stream whose single tool-call event carries 1 and 4 MB of arguments (governed:
 *   the gateway must read the whole call), time per response;
 * - bulk streams: responses of 2,000 small content events under load (16 connections), throughput against the bare
 *   proxy (the gateway relays them, scanning for usage and tool calls);
 * - concurrent slow streams: 500 and 2,000 streams opened at once, time to first byte of each, and the serving
 *   process's memory per open stream;
 * - prompt size: 1 KB, 32 KB and 256 KB prompts (prose, code and log lines) with the default PII scan (`detect`),
 *   throughput under load, and the scan's own time per MB; then 1 and 10 MB prompts, one at a time, while /healthz
 *   is asked back to back: its slowest answer shows how long the gateway's event loop was blocked;
 * - rules in the live set: 10, 1,000 and 10,000 rules (the "org" shape of bench/policy-decisions.ts, added through
 *   the admin API; a policy that would deny the benchmark request is removed, so every request goes upstream),
 *   throughput under load and CPU per request, and the time one more policy takes to create at that size;
 * - audit table size: bytes per record and every filtered first page at SCALE_AUDIT_RECORDS records (default
 *   1,000,000; bench/audit-queries.ts, which defaults to 3,000,000), with proxy latency alone and meanwhile.
 *
 * Options (env): SCALE_ROUNDS (sequential large-event requests per target, default 8), SCALE_STREAMS (comma list of
 * concurrent stream counts, default "500,2000"), SCALE_DIMENSIONS (comma list of events, bulk, streams, prompts,
 * rules, audit; default all), SCALE_AUDIT_RECORDS.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Agent, request } from 'undici';
import { findSensitiveSpans } from '../src/policy/detectors.js';
import { auditQueries } from './audit-queries.js';
import { generator } from './policy-decisions.js';
import { load } from './measure.js';
import { startProcess, type Running } from './processes.js';
import { ADMIN_TOKEN, chatBody, setUpGateway, UPSTREAM_KEY } from './setup.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const ROUNDS = Number(process.env.SCALE_ROUNDS ?? 8);
const STREAMS = (process.env.SCALE_STREAMS ?? '500,2000').split(',').map(Number);
const DIMENSIONS = new Set((process.env.SCALE_DIMENSIONS ?? 'events,bulk,streams,prompts,rules,audit').split(','));
const AUDIT_RECORDS = Number(process.env.SCALE_AUDIT_RECORDS ?? 1_000_000);
const fmt = (n: number, digits = 1) => n.toFixed(digits);
const client = new Agent({ connections: null, pipelining: 1, keepAliveTimeout: 30_000 });

interface Target {
  name: string;
  url: string;
  headers: Record<string, string>;
  pid?: number;
}

/** A target as measure.ts's load() takes it. */
function loadTarget(t: Target) {
  const url = new URL(t.url);
  return { name: t.name, origin: url.origin, path: url.pathname, headers: t.headers, pid: t.pid };
}

function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

function rssKb(pid: number | undefined): number {
  if (pid === undefined) return NaN;
  const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : NaN;
}

async function post(target: Target, body: string, headers: Record<string, string> = {}): Promise<{ ttfb: number; total: number; bytes: number }> {
  const started = performance.now();
  const res = await request(target.url, { method: 'POST', dispatcher: client, headers: { 'content-type': 'application/json', ...target.headers, ...headers }, body });
  const ttfb = performance.now() - started;
  let bytes = 0;
  for await (const chunk of res.body) bytes += (chunk as Buffer).length;
  if (res.statusCode !== 200) throw new Error(`${target.name}: ${res.statusCode}`);
  return { ttfb, total: performance.now() - started, bytes };
}

async function servers(upstreamScript: string, upstreamArgs: string[], label: string): Promise<{ targets: Target[]; stop: () => Promise<void> }> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), `tollgate-scale-${label}-`));
  const upstream = await startProcess(path.join(here, upstreamScript), upstreamArgs, {}, /listening on (http:\/\/\S+?)(?: |$)/m);
  const bare = await startProcess(path.join(here, 'bare-proxy.js'), [upstream.url], {}, /listening on (http:\/\/\S+)/);
  const gateway = await setUpGateway(path.join(here, '../src/main.js'), upstream.url, dataDir);
  const running: Running[] = [upstream, bare, gateway.running];
  const auth = { authorization: `Bearer ${UPSTREAM_KEY}` };
  return {
    targets: [
      { name: 'direct', url: `${upstream.url}/v1/chat/completions`, headers: auth, pid: upstream.child.pid },
      { name: 'bare-proxy', url: `${bare.url}/v1/chat/completions`, headers: auth, pid: bare.child.pid },
      { name: 'tollgate', url: `${gateway.running.url}/mistral/v1/chat/completions`, headers: { authorization: `Bearer ${gateway.key}` }, pid: gateway.running.child.pid },
    ],
    async stop() {
      await Promise.all(running.map((r) => r.stop()));
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

async function largeEvents(say: (line?: string) => void): Promise<void> {
  say('## one large streamed event (a tool call the gateway must read whole)');
  say('| arguments | direct ms | bare-proxy ms | tollgate ms | tollgate/bare |');
  say('|---|---|---|---|---|');
  for (const mb of [1, 4]) {
    const set = await servers('large-event-upstream.js', [String(mb * 1024 * 1024)], `large-${mb}`);
    try {
      const body = chatBody(true);
      const medians: Record<string, number> = {};
      for (const t of set.targets) await post(t, body); // warm-up
      const times: Record<string, number[]> = Object.fromEntries(set.targets.map((t) => [t.name, []]));
      for (let r = 0; r < ROUNDS; r++) for (const t of set.targets) times[t.name]!.push((await post(t, body)).total);
      for (const t of set.targets) medians[t.name] = quantile(times[t.name]!, 0.5);
      say(`| ${mb} MB | ${fmt(medians.direct!)} | ${fmt(medians['bare-proxy']!)} | ${fmt(medians.tollgate!)} | ${fmt(medians.tollgate! / medians['bare-proxy']!, 2)}x (target <= 2x) |`);
    } finally {
      await set.stop();
    }
  }
}

async function bulkStreams(say: (line?: string) => void): Promise<void> {
  say('## bulk streams (2,000 content events per response, 16 connections)');
  say('| target | responses/s | p50 ms | p99 ms | CPU µs per response |');
  say('|---|---|---|---|---|');
  const set = await servers('bulk-stream-upstream.js', ['2000'], 'bulk');
  try {
    const body = chatBody(true);
    const results: Record<string, { rps: number; p50: number; p99: number; cpuUs: number }> = {};
    for (const t of set.targets) {
      const target = loadTarget(t);
      await load(target, body, 16, 1); // warm-up
      results[t.name] = await load(target, body, 16, 4);
    }
    for (const t of set.targets) {
      const r = results[t.name]!;
      say(`| ${t.name} | ${fmt(r.rps, 0)} | ${r.p50} | ${r.p99} | ${fmt(r.cpuUs, 0)} |`);
    }
    say(`tollgate / bare-proxy: ${fmt((results.tollgate!.rps / results['bare-proxy']!.rps) * 100, 0)}% (target >= 85%)`);
  } finally {
    await set.stop();
  }
}

async function concurrentStreams(say: (line?: string) => void): Promise<void> {
  say('## concurrent slow streams (opened at once; each trickles ~20 chunks 100 ms apart)');
  say('| streams | target | first byte p50 ms | p90 ms | max ms | memory per open stream KB | p90 vs bare |');
  say('|---|---|---|---|---|---|---|');
  const set = await servers('../src/fake-mistral/main.js', ['--port', '0', '--api-key', UPSTREAM_KEY], 'streams');
  try {
    const body = chatBody(true);
    for (const count of STREAMS) {
      const p90: Record<string, number> = {};
      for (const t of set.targets) {
        for (let i = 0; i < 20; i++) await post(t, body); // warm-up, connections included
        const before = rssKb(t.pid);
        let peak = before;
        const sampler = setInterval(() => (peak = Math.max(peak, rssKb(t.pid))), 50);
        const results = await Promise.all(Array.from({ length: count }, () => post(t, body, { 'x-fake-fault': 'trickle=100' })));
        clearInterval(sampler);
        const ttfb = results.map((r) => r.ttfb);
        p90[t.name] = quantile(ttfb, 0.9);
        const perStream = (peak - before) / count;
        const vsBare = t.name === 'tollgate' ? `${fmt(p90.tollgate! / p90['bare-proxy']!, 2)}x (target <= 1.5x)` : '';
        say(`| ${count} | ${t.name} | ${fmt(quantile(ttfb, 0.5))} | ${fmt(p90[t.name]!)} | ${fmt(Math.max(...ttfb))} | ${fmt(perStream)} | ${vsBare} |`);
      }
    }
  } finally {
    await set.stop();
  }
}

/** Prompt text as users send it: prose, code and log lines, `bytes` long. */
function realisticPrompt(bytes: number): string {
  const parts = [
    'The quarterly report shows that revenue grew by 12 percent while costs stayed flat; summarise the risks for the board. ',
    'function handle(req, res) { const user = await db.users.findOne({ id: req.params.id }); if (!user) return res.status(404).end(); }\n',
    '2026-12-02T18:49:17.123Z INFO request_id=7f3a2c path=/v1/chat status=200 latency_ms=42 user=alice@example.com\n',
  ];
  let text = '';
  for (let i = 0; text.length < bytes; i++) text += parts[i % parts.length];
  return text.slice(0, bytes);
}

/** The slowest of back-to-back GET /healthz answers from the target's process while `work` runs. */
async function healthzDuring(target: Target, work: Promise<unknown>): Promise<number> {
  const url = `${new URL(target.url).origin}/healthz`;
  let done = false;
  const finished = work.finally(() => (done = true));
  let slowest = 0;
  while (!done) {
    const started = performance.now();
    const res = await request(url, { dispatcher: client });
    await res.body.text();
    slowest = Math.max(slowest, performance.now() - started);
  }
  await finished;
  return slowest;
}

async function promptSizes(say: (line?: string) => void): Promise<void> {
  say('## prompt size, PII scan `detect` (the default)');
  say('| prompt | direct req/s | bare-proxy req/s | tollgate req/s | tollgate/bare | scan alone ms per MB |');
  say('|---|---|---|---|---|---|');
  const set = await servers('../src/fake-mistral/main.js', ['--port', '0', '--api-key', UPSTREAM_KEY], 'prompts');
  try {
    for (const kb of [1, 32, 256]) {
      const prompt = realisticPrompt(kb * 1024);
      const body = JSON.stringify({ model: 'mistral-large-latest', max_tokens: 50, messages: [{ role: 'user', content: prompt }] });
      const rps: Record<string, number> = {};
      for (const t of set.targets) {
        const target = loadTarget(t);
        await load(target, body, 16, kb === 1 ? 3 : 1); // warm-up (the first size warms the JIT too)
        rps[t.name] = (await load(target, body, 16, 3)).rps;
      }
      const flat = JSON.parse(JSON.stringify(prompt)) as string;
      for (let i = 0; i < Math.ceil(4096 / kb); i++) findSensitiveSpans(flat);
      const started = performance.now();
      const runs = Math.max(5, Math.ceil(2048 / kb));
      for (let i = 0; i < runs; i++) findSensitiveSpans(flat);
      const msPerMb = (performance.now() - started) / runs / (kb / 1024);
      say(`| ${kb} KB | ${fmt(rps.direct!, 0)} | ${fmt(rps['bare-proxy']!, 0)} | ${fmt(rps.tollgate!, 0)} | ${fmt((rps.tollgate! / rps['bare-proxy']!) * 100, 0)}% (target >= 70% at 32 and 256 KB) | ${fmt(msPerMb)} (target <= 3) |`);
    }
    say('');
    say('| prompt | tollgate request ms | /healthz meanwhile: max ms (alone: max ms) | target |');
    say('|---|---|---|---|');
    const tollgate = set.targets.find((t) => t.name === 'tollgate')!;
    for (const mb of [1, 10]) {
      const body = JSON.stringify({ model: 'mistral-large-latest', max_tokens: 50, messages: [{ role: 'user', content: realisticPrompt(Math.floor(mb * 1024 * 1024 * 0.97)) }] });
      await post(tollgate, body); // warm-up
      const alone = await healthzDuring(tollgate, new Promise((resolve) => setTimeout(resolve, 300)));
      const started = performance.now();
      const meanwhile = await healthzDuring(tollgate, post(tollgate, body));
      say(`| ${mb} MB | ${fmt(performance.now() - started)} | ${fmt(meanwhile)} (${fmt(alone)}) | the event loop never blocked > 5 ms |`);
    }
  } finally {
    await set.stop();
  }
}

async function ruleCounts(say: (line?: string) => void): Promise<void> {
  say('## rules in the live set ("org" shape), small chat request, allowed');
  say('| rules | bare-proxy req/s | tollgate req/s | tollgate/bare | CPU µs per request, bare / tollgate | one more policy, ms |');
  say('|---|---|---|---|---|---|');
  const set = await servers('../src/fake-mistral/main.js', ['--port', '0', '--api-key', UPSTREAM_KEY], 'rules');
  try {
    const [, bare, tollgate] = set.targets as [Target, Target, Target];
    const origin = new URL(tollgate.url).origin;
    const admin = async (method: string, p: string, body?: unknown) => {
      const res = await request(origin + p, {
        method: method as 'GET',
        dispatcher: client,
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await res.body.text();
      if (res.statusCode >= 300) throw new Error(`${method} ${p}: ${res.statusCode} ${text}`);
      return text === '' ? {} : (JSON.parse(text) as Record<string, unknown>);
    };
    // A key some of the generated policies are scoped to (the set's first team and key ids are the base ones).
    const { key } = (await admin('POST', '/api/v1/keys', { name: 'rules', attributes: { team: 'payments', env: 'prod' } })) as { key: string };
    const target = { ...tollgate, headers: { authorization: `Bearer ${key}` } };
    const body = chatBody(false);
    const policies = generator(10_000, 'org').policies(10_000);
    let rules = 10; // the benchmark's own policies
    let next = 0;
    for (const size of [10, 1000, 10_000]) {
      while (rules < size && next < policies.length) {
        const policy = policies[next++]!;
        await admin('POST', '/api/v1/policies', policy.document);
        rules += policy.document.rules.length;
      }
      // Remove whatever denies the benchmark request, so every request is forwarded.
      for (;;) {
        const res = await request(target.url, { method: 'POST', dispatcher: client, headers: { 'content-type': 'application/json', ...target.headers }, body });
        const answer = (await res.body.json()) as { error?: { policy?: string } };
        if (res.statusCode === 200) break;
        const name = answer.error?.policy;
        if (res.statusCode !== 403 || !name) throw new Error(`rules ${size}: ${res.statusCode} ${JSON.stringify(answer)}`);
        const listed = (await admin('GET', '/api/v1/policies')) as unknown as { policies: { id: string; name: string; rules: unknown[] }[] };
        const found = listed.policies.find((p) => p.name === name)!;
        await admin('DELETE', `/api/v1/policies/${found.id}`);
        rules -= found.rules.length;
      }
      const result: Record<string, { rps: number; cpuUs: number }> = {};
      for (const t of [bare, target]) {
        const measured = loadTarget(t);
        await load(measured, body, 16, 1); // warm-up
        result[t.name] = await load(measured, body, 16, 3);
      }
      const extra = generator(size + 1, 'org', size).policies(8)[0]!;
      const started = performance.now();
      const created = (await admin('POST', '/api/v1/policies', { ...extra.document, name: `extra-${size}` })) as { id: string };
      const createMs = performance.now() - started;
      await admin('DELETE', `/api/v1/policies/${created.id}`);
      const b = result['bare-proxy']!;
      const g = result.tollgate!;
      say(`| ${rules} | ${fmt(b.rps, 0)} | ${fmt(g.rps, 0)} | ${fmt((g.rps / b.rps) * 100, 0)}% | ${fmt(b.cpuUs, 0)} / ${fmt(g.cpuUs, 0)} | ${fmt(createMs, 1)} |`);
    }
  } finally {
    await set.stop();
  }
}

async function main(): Promise<void> {
  const say = (line = '') => process.stdout.write(`${line}\n`);
  say(`# Tollgate scale benchmark: ${os.cpus().length} cores, node ${process.version}`);
  say();
  const dimensions: [string, (say: (line?: string) => void) => Promise<void>][] = [
    ['events', largeEvents],
    ['bulk', bulkStreams],
    ['streams', concurrentStreams],
    ['prompts', promptSizes],
    ['rules', ruleCounts],
    ['audit', (say) => auditQueries(AUDIT_RECORDS, say)],
  ];
  for (const [name, run] of dimensions) {
    if (!DIMENSIONS.has(name)) continue;
    await run(say);
    say();
  }
  await client.close();
}

main().catch((err: Error) => {
  process.stderr.write(`${err.stack ?? err.message}\n`);
  process.exit(1);
});
