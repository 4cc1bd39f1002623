/**
 * Audit queries at size, with proxy traffic measured at the same time: fills a store with AUDIT_RECORDS records
 * (default 3,000,000; realistic mix of keys, models, actions, denials and failures), reports its bytes per record,
 * then starts a gateway on it and measures, at half the proxy's measured capacity (a fixed offered load, so latency
 * is comparable): (1) proxy latency alone, (2) the same while a client pages the audit log with every filter the API
 * offers, alone and combined (first page, limit 50, p50/p95 per query, measured over HTTP).
 * Run: node dist/bench/audit-queries.js (AUDIT_KEEP=1 keeps the store's directory, to inspect the file after).
 */
import Database from 'better-sqlite3';
import { mkdtemp, rm } from 'node:fs/promises';
import { statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { newRequestId } from '../src/audit/record.js';
import { prepareAuditInsert } from '../src/store/sqlite-audit.js';
import { migrate } from '../src/store/sqlite-schema.js';
import { SQLITE_FILE_NAME } from '../src/store/sqlite.js';
import type { AuditRecord } from '../src/store/types.js';
import { load } from './measure.js';
import { startProcess } from './processes.js';
import { ADMIN_TOKEN, chatBody, setUpGateway, UPSTREAM_KEY } from './setup.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const MODELS = ['mistral-large-latest', 'mistral-small-latest', 'codestral-latest', 'mistral-embed', 'open-mistral-nemo'];
const KEYS = Array.from({ length: 200 }, (_, i) => `key_${(i * 7919).toString(16).padStart(16, '0')}`);
const START = Date.UTC(2026, 9, 1);

/** A well-mixed 32-bit hash of (i, salt), so the fields of a record vary independently of each other. */
function mix(i: number, salt: number): number {
  let h = Math.imul(i ^ Math.imul(salt, 0x9e3779b1), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** One record of the mix: ~5% denied, ~1% upstream failures, ~8% tool calls, a few agents; keys used unevenly. */
function record(i: number, time: number): AuditRecord {
  const model = MODELS[mix(i, 1) % MODELS.length]!;
  const tool = mix(i, 2) % 13 === 0;
  const deny = mix(i, 3) % 20 === 0;
  const failed = !deny && mix(i, 4) % 97 === 0;
  const status = deny ? 403 : failed ? 502 : 200;
  return {
    id: newRequestId(time),
    time,
    key_id: KEYS[Math.floor(KEYS.length * (mix(i, 5) / 2 ** 32) ** 2)]!, // a few keys carry most traffic
    agent_id: i % 4 === 0 ? `agent-${i % 7}` : null,
    provider: 'mistral',
    method: 'POST',
    route: model === 'mistral-embed' ? '/mistral/v1/embeddings' : '/mistral/v1/chat/completions',
    action: tool ? 'tool:call' : model === 'mistral-embed' ? 'llm:embeddings' : 'llm:chat.completions',
    resource: tool ? 'mistral/tools/send_email' : `mistral/${model}`,
    model,
    decision: deny ? 'deny' : 'allow',
    reason_code: deny ? 'RULE_MATCH' : 'RULE_MATCH',
    policy: deny ? 'platform-guardrails' : 'mistral-usage-policy',
    rule: deny ? 'no-big-prompts' : '0',
    status,
    latency_ms: 1 + (i % 400) / 7,
    upstream_latency_ms: deny ? null : 0.5 + (i % 300) / 9,
    streamed: i % 2 === 0,
    client_aborted: i % 500 === 0,
    prompt_tokens: deny ? null : 100 + (i % 900),
    completion_tokens: deny ? null : 20 + (i % 400),
    total_tokens: deny ? null : 120 + (i % 1300),
    error_message: deny ? 'Request denied by policy "platform-guardrails" (rule no-big-prompts): max_tokens 9000 > 8192' : failed ? 'upstream returned 502' : null,
    details: i % 10 === 0 ? { pii: { action: 'detect', detectors: { email: 1 } } } : null,
  };
}

function fill(file: string, RECORDS: number): { seconds: number; bytesPerRecord: number } {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  migrate(db);
  const insert = prepareAuditInsert(db);
  const started = performance.now();
  const spacing = (30 * 86_400_000) / RECORDS; // a month of traffic
  for (let i = 0; i < RECORDS; ) {
    const batch: AuditRecord[] = [];
    for (let j = 0; j < 5000 && i < RECORDS; j++, i++) batch.push(record(i, Math.floor(START + i * spacing)));
    insert(batch);
  }
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close(); // no ANALYZE here: the gateway's audit writer refreshes the planner statistics when it starts

  return { seconds: (performance.now() - started) / 1000, bytesPerRecord: statSync(file).size / RECORDS };
}

const QUERIES: Record<string, string> = {
  'no filter': '',
  provider: 'provider=mistral',
  model: 'model=codestral-latest',
  key: `key_id=${KEYS[17]}`,
  'key (busiest)': `key_id=${KEYS[0]}`,
  'action (rare)': 'action=tool:call',
  'action (no match)': 'action=llm:fine_tuning',
  'decision=deny': 'decision=deny',
  'decision=allow': 'decision=allow',
  'status=502': 'status=502',
  'status=200': 'status=200',
  'time window (a day, mid-month)': `since=${START + 14 * 86_400_000}&until=${START + 15 * 86_400_000}`,
  'key + deny': `key_id=${KEYS[17]}&decision=deny`,
  'busiest key + deny': `key_id=${KEYS[0]}&decision=deny`,
  'busiest key + model + status=502': `key_id=${KEYS[0]}&model=codestral-latest&status=502`,
  'model + status=502': 'model=mistral-small-latest&status=502',
  'key + action (no match)': `key_id=${KEYS[17]}&action=llm:fine_tuning`,
  'provider + model + window': `provider=mistral&model=mistral-large-latest&since=${START + 3 * 86_400_000}&until=${START + 4 * 86_400_000}`,
};

async function timeQuery(origin: string, query: string): Promise<number> {
  const started = performance.now();
  const res = await fetch(`${origin}/api/v1/audit?limit=50${query ? `&${query}` : ''}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  if (!res.ok) throw new Error(`${query}: ${res.status} ${await res.text()}`);
  await res.arrayBuffer();
  return performance.now() - started;
}

const quantile = (values: number[], q: number) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(q * values.length))] ?? NaN;

/** The whole measurement over `records` records, printed through `say` (bench:scale runs it as its audit dimension). */
export async function auditQueries(records: number, say: (line?: string) => void): Promise<void> {
  const RECORDS = records;
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'tollgate-audit-bench-'));
  try {
    const file = path.join(dataDir, SQLITE_FILE_NAME);
    const filled = fill(file, RECORDS);
    say(`## audit queries over ${RECORDS.toLocaleString('en-US')} records (${os.cpus().length} cores, node ${process.version})`);
    say(`filled in ${filled.seconds.toFixed(0)} s; ${filled.bytesPerRecord.toFixed(0)} bytes per record (${(filled.bytesPerRecord).toFixed(0)} MB per million)`);

    const upstream = await startProcess(path.join(here, '../src/fake-mistral/main.js'), ['--port', '0', '--api-key', UPSTREAM_KEY], {}, /listening on (http:\/\/\S+?)(?: |$)/m);
    const gateway = await setUpGateway(path.join(here, '../src/main.js'), upstream.url, dataDir);
    try {
      const origin = gateway.running.url;
      const target = { name: 'tollgate', origin, path: '/mistral/v1/chat/completions', headers: { authorization: `Bearer ${gateway.key}` }, pid: gateway.running.child.pid };
      const body = chatBody(false);
      const capacity = (await load(target, body, 16, 3)).rps; // also the warm-up
      const rate = Math.round(capacity / 2);
      const alone = await load(target, body, 16, 5, rate);

      // Queries in a loop, one at a time, while the same load runs.
      const times = new Map<string, number[]>(Object.keys(QUERIES).map((name) => [name, []]));
      let querying = true;
      const queries = (async () => {
        for (let round = 0; querying || round < 3; round++) {
          for (const [name, query] of Object.entries(QUERIES)) times.get(name)!.push(await timeQuery(origin, query));
        }
      })();
      const during = await load(target, body, 16, 5, rate);
      querying = false;
      await queries;

      say();
      say(`proxy capacity ${capacity.toFixed(0)} req/s; offered load ${rate} req/s over 16 connections`);
      say('| proxy traffic | req/s | p50 ms | p99 ms |');
      say('|---|---|---|---|');
      say(`| alone | ${alone.rps.toFixed(0)} | ${alone.p50} | ${alone.p99} |`);
      say(`| while the audit log is queried | ${during.rps.toFixed(0)} | ${during.p50} | ${during.p99} |`);
      say();
      say('| first page (limit 50), under that load | runs | p50 ms | p95 ms |');
      say('|---|---|---|---|');
      for (const [name, values] of times) say(`| ${name} | ${values.length} | ${quantile(values, 0.5).toFixed(1)} | ${quantile(values, 0.95).toFixed(1)} |`);
    } finally {
      await Promise.all([gateway.running.stop(), upstream.stop()]);
    }
  } finally {
    if (process.env.AUDIT_KEEP) say(`kept ${dataDir}`);
    else await rm(dataDir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  auditQueries(Number(process.env.AUDIT_RECORDS ?? 3_000_000), (line = '') => process.stdout.write(`${line}\n`)).catch((err: Error) => {
    process.stderr.write(`${err.stack ?? err.message}\n`);
    process.exit(1);
  });
}
