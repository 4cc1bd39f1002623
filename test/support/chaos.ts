/**
 * Chaos machinery: the real gateway process (`dist/src/main.js`, optionally under a file-size limit that makes its
 * disk "full"), a load of real HTTP clients against it, and the audit table read back after it stopped. Used by
 * test/chaos.test.ts (bounded, in the test command) and bench/soak.ts (the same scenarios, longer).
 */
import Database from 'better-sqlite3';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const MAIN = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../src/main.js');
export const CHAOS_ADMIN_TOKEN = 'chaos-admin-token-0123456789';
export const CHAOS_UPSTREAM_KEY = 'sk-chaos-upstream';
const run = promisify(execFile);

export interface GatewayProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly url: string;
  readonly dataDir: string;
  /** Everything it logged so far. */
  output(): string;
  /** Resolves with the exit code (null when killed by a signal). */
  readonly exited: Promise<number | null>;
}

export interface LaunchOptions {
  dataDir: string;
  upstreamUrl: string;
  env?: Record<string, string>;
  /** RLIMIT_FSIZE in bytes: no file of the process can grow past it (writes fail with EFBIG, as on a full disk). */
  fileSizeLimit?: number;
}

export async function newDataDir(): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), 'tollgate-chaos-'));
}

export function spawnGateway(options: LaunchOptions): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const env = {
    PATH: process.env.PATH ?? '',
    CZ_GATEWAY_HOST: '127.0.0.1',
    CZ_GATEWAY_PORT: '0',
    CZ_GATEWAY_DATA_DIR: options.dataDir,
    CZ_GATEWAY_ADMIN_TOKEN: CHAOS_ADMIN_TOKEN,
    CZ_GATEWAY_MISTRAL_ENABLED: 'true',
    CZ_GATEWAY_MISTRAL_API_KEY: CHAOS_UPSTREAM_KEY,
    CZ_GATEWAY_MISTRAL_BASE_URL: options.upstreamUrl,
    ...options.env,
  };
  // prlimit execs node in place, so the child's pid is the gateway's (and `prlimit --pid` can lift the limit later).
  const child =
    options.fileSizeLimit === undefined
      ? spawn(process.execPath, [MAIN], { env, stdio: ['ignore', 'pipe', 'pipe'] })
      : spawn('prlimit', [`--fsize=${options.fileSizeLimit}:unlimited`, process.execPath, MAIN], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code, signal) => resolve(code ?? (signal ? -1 : null))));
  return { child, output: () => output, exited };
}

export async function launchGateway(options: LaunchOptions): Promise<GatewayProcess> {
  const { child, output, exited } = spawnGateway(options);
  const url = await new Promise<string>((resolve, reject) => {
    const check = () => {
      const m = /listening on (http:\/\/\S+)/.exec(output());
      if (m) {
        child.stdout!.off('data', check);
        child.stderr!.off('data', check);
        resolve(m[1]!);
      }
    };
    child.stdout!.on('data', check);
    child.stderr!.on('data', check);
    void exited.then(() => reject(new Error(`the gateway exited before listening:\n${output()}`)));
  });
  return { child, pid: child.pid!, url, dataDir: options.dataDir, output, exited };
}

/** Lifts the file-size limit of a running gateway: the disk has room again. */
export async function freeDisk(pid: number): Promise<void> {
  await run('prlimit', ['--pid', String(pid), '--fsize=unlimited:unlimited']);
}

/** Waits until the gateway logged a line matching `pattern`. */
export async function logged(gateway: GatewayProcess, pattern: RegExp, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pattern.test(gateway.output())) {
    if (Date.now() > deadline) throw new Error(`no log line ${pattern} in time:\n${gateway.output().slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function admin(url: string, method: string, route: string, body?: unknown): Promise<any> {
  const res = await fetch(url + route, {
    method,
    headers: { authorization: `Bearer ${CHAOS_ADMIN_TOKEN}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${method} ${route}: ${res.status} ${await res.text()}`);
  return res.json();
}

/** A key and a policy that allows one model: the load's requests are allowed, and one in ten is denied. */
export async function provision(url: string): Promise<string> {
  await admin(url, 'POST', '/api/v1/policies', {
    name: 'chaos',
    rules: [{ effect: 'allow', action: 'llm:*', resource: 'mistral/*', conditions: { model: ['mistral-small-latest'] } }],
  });
  return (await admin(url, 'POST', '/api/v1/keys', { name: 'chaos' })).key as string;
}

export interface Answer {
  id: string;
  status: number;
  kind: 'plain' | 'stream' | 'denied' | 'long-stream';
  /** Date.now() when the client had read the whole answer. */
  at: number;
  body: string;
}

export interface LoadResult {
  /** Requests answered in full (the client read the whole response). */
  answered: Answer[];
  /** Request ids the gateway sent (response headers received), answered in full or not. */
  reached: Set<string>;
  /** Requests that failed at the client (connection refused or reset, body cut). */
  failed: number;
}

export interface Load {
  /** Stops starting requests and waits for those under way. */
  stop(): Promise<LoadResult>;
  /** Requests answered so far. */
  readonly answeredCount: number;
  /** Requests whose response headers arrived so far. */
  readonly reachedCount: number;
}

export interface LoadOptions {
  concurrency: number;
  /** Stop after this many requests were started (default: until stopped). */
  maxRequests?: number;
  /** `long-stream`: every request is a stream the fake trickles out (seconds long). */
  kinds?: Answer['kind'][];
}

const DEFAULT_KINDS: Answer['kind'][] = ['plain', 'plain', 'stream', 'plain', 'stream', 'plain', 'plain', 'stream', 'plain', 'denied'];

function requestFor(kind: Answer['kind']): { body: string; headers: Record<string, string> } {
  const model = kind === 'denied' ? 'mistral-large-latest' : 'mistral-small-latest';
  const stream = kind === 'stream' || kind === 'long-stream';
  const headers: Record<string, string> = kind === 'long-stream' ? { 'x-fake-fault': 'trickle=150' } : {};
  return { body: JSON.stringify({ model, stream, messages: [{ role: 'user', content: 'chaos' }] }), headers };
}

/** Runs `concurrency` clients in a loop, each sending the next request as soon as its previous one ended. */
export function startLoad(url: string, key: string, options: LoadOptions): Load {
  const kinds = options.kinds ?? DEFAULT_KINDS;
  const result: LoadResult = { answered: [], reached: new Set(), failed: 0 };
  let started = 0;
  let stopping = false;
  const client = async () => {
    while (!stopping && (options.maxRequests === undefined || started < options.maxRequests)) {
      const kind = kinds[started++ % kinds.length]!;
      const { body, headers } = requestFor(kind);
      let id: string | null = null;
      try {
        const res = await fetch(`${url}/mistral/v1/chat/completions`, {
          method: 'POST',
          headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...headers },
          body,
        });
        id = res.headers.get('x-tollgate-request-id');
        if (id) result.reached.add(id);
        const text = await res.text();
        if (!id) throw new Error('no request id');
        result.answered.push({ id, status: res.status, kind, at: Date.now(), body: text });
      } catch {
        result.failed++;
        // The gateway is gone or going: a client would back off before trying again.
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  };
  const clients = Array.from({ length: options.concurrency }, client);
  return {
    async stop() {
      stopping = true;
      await Promise.all(clients);
      return result;
    },
    get answeredCount() {
      return result.answered.length;
    },
    get reachedCount() {
      return result.reached.size;
    },
  };
}

export async function stopGateway(gateway: GatewayProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
  gateway.child.kill(signal);
  return gateway.exited;
}

export interface StoredRecord {
  id: string;
  status: number;
  reason_code: string;
  error_message: string | null;
}

/**
 * The records of provider requests after a stop, as the product leaves them: a fresh start replays any spill file
 * into the store, then stops again.
 */
export async function recordsAfterRestart(dataDir: string, upstreamUrl: string): Promise<{ records: Map<string, StoredRecord>; rows: number }> {
  const again = await launchGateway({ dataDir, upstreamUrl });
  const code = await stopGateway(again);
  if (code !== 0) throw new Error(`the replaying start exited ${code}:\n${again.output()}`);
  if (existsSync(path.join(dataDir, 'audit-spill.jsonl'))) throw new Error('a spill file is left after a clean start and stop');
  const db = new Database(path.join(dataDir, 'tollgate.db'), { readonly: true });
  try {
    const rows = db
      .prepare<[], StoredRecord>("SELECT id, status, reason_code, error_message FROM audit_records WHERE route LIKE '/mistral/%'")
      .all();
    return { records: new Map(rows.map((r) => [r.id, r])), rows: rows.length };
  } finally {
    db.close();
  }
}

/** One line of the chaos table. */
export interface ScenarioReport {
  scenario: string;
  answered: number;
  reached: number;
  records: number;
  missing: number;
  extra: number;
  note: string;
}

export function compare(scenario: string, load: LoadResult, stored: { records: Map<string, StoredRecord>; rows: number }, note = ''): ScenarioReport {
  const answeredIds = new Set(load.answered.map((a) => a.id));
  let missing = 0;
  for (const id of answeredIds) if (!stored.records.has(id)) missing++;
  let extra = 0;
  for (const id of stored.records.keys()) if (!load.reached.has(id)) extra++;
  return { scenario, answered: answeredIds.size, reached: load.reached.size, records: stored.rows, missing, extra, note };
}

export function formatTable(reports: ScenarioReport[]): string {
  const head = '| scenario | answered | reached gateway | records | answered without record | records of no request seen | note |';
  const rule = '|---|---|---|---|---|---|---|';
  const lines = reports.map((r) => `| ${r.scenario} | ${r.answered} | ${r.reached} | ${r.records} | ${r.missing} | ${r.extra} | ${r.note} |`);
  return [head, rule, ...lines].join('\n');
}
