/**
 * Bypass table: a real gateway in front of a hostile OpenAI-compatible upstream (test/support/hostile-upstream.ts)
 * that returns tool calls in legal-but-odd shapes, called on odd spellings of the chat route. For every row, either
 * the gateway refuses the request before it reaches the upstream, or the client gets no callable `delete_file` call
 * (in any shape, any case) and the audit record shows the denial (or an error status with a message).
 *
 * Requests are sent with node:http and an exact request target: WHATWG URL/fetch would resolve `.`/`..` segments
 * (`new URL('http://h/a/./b')` has pathname `/a/b`), though it keeps `//`, `%63` and case.
 *
 * Set BYPASS_SUMMARY=1 to print the failing rows grouped by cause after the run.
 */
import assert from 'node:assert/strict';
import { Agent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { startHarness, type Harness } from './support/harness.js';
import {
  HOSTILE_MODES,
  hostileCallsFor,
  modeApplies,
  startHostileUpstream,
  type HostileMode,
  type HostileRequest,
  type HostileUpstream,
} from './support/hostile-upstream.js';

type DenyMode = 'strip' | 'replace' | 'error';

const HOSTILE_KEY = 'sk-hostile-upstream-0123456789';
const CONCURRENCY = 6;

const POLICY = {
  name: 'hostile-policy',
  rules: [
    { id: 'allow-all', effect: 'allow', action: '*', resource: '*' },
    { id: 'no-delete', effect: 'deny', action: 'tool:call', resource: '*/tools/delete_file' },
    { id: 'no-bad-model', effect: 'deny', action: '*', resource: '*', conditions: { model: 'bad-model' } },
    { id: 'small', effect: 'deny', action: '*', resource: '*', conditions: { max_tokens_gt: 100 } },
  ],
};

const CANONICAL = '/hostile/v1/chat/completions';
const PATHS = [
  CANONICAL,
  '/hostile/v1/chat/completions/',
  '/hostile/v1//chat/completions',
  '/hostile/v1/chat//completions',
  '/hostile/v1/./chat/completions',
  '/hostile/v1/chat/%63ompletions',
  '/hostile/v1/Chat/Completions',
  '/hostile/v1/chat/completions/.',
  '/hostile/v1/x/../chat/completions',
];

/** The tool the policy forbids; any case spelling of it counts (clients dispatch tool names case-insensitively). */
const FORBIDDEN = /delete_file/i;
const isForbiddenName = (name: string) => name.toLowerCase() === 'delete_file';

// ---------------------------------------------------------------------------------------------------------------
// Rows

interface ToolRow {
  kind: 'tool';
  id: string;
  title: string;
  path: string;
  mode: HostileMode;
  stream: boolean;
  deny: DenyMode;
}

interface RefusalRow {
  kind: 'refusal';
  id: string;
  title: string;
  path: string;
  what: 'bad-model' | 'max-tokens';
  stream: boolean;
}

type Row = ToolRow | RefusalRow;

let rowCounter = 0;
const nextId = () => `row-${String(++rowCounter).padStart(4, '0')}`;

function toolRows(deny: DenyMode, paths: readonly string[], modes: readonly HostileMode[]): ToolRow[] {
  const rows: ToolRow[] = [];
  for (const path of paths) {
    for (const mode of modes) {
      for (const stream of [false, true]) {
        if (!modeApplies(mode, stream)) continue;
        rows.push({ kind: 'tool', id: nextId(), title: `[${deny}] ${mode} ${stream ? 'stream' : 'non-stream'} POST ${path}`, path, mode, stream, deny });
      }
    }
  }
  return rows;
}

function refusalRows(paths: readonly string[]): RefusalRow[] {
  const rows: RefusalRow[] = [];
  for (const path of paths) {
    for (const what of ['bad-model', 'max-tokens'] as const) {
      for (const stream of [false, true]) {
        const title = `[refuse] ${what === 'bad-model' ? 'model bad-model' : 'max_tokens 1000'} ${stream ? 'stream' : 'non-stream'} POST ${path}`;
        rows.push({ kind: 'refusal', id: nextId(), title, path, what, stream });
      }
    }
  }
  return rows;
}

function requestBody(row: Row): Record<string, unknown> {
  const body: Record<string, unknown> = {
    model: row.kind === 'refusal' && row.what === 'bad-model' ? 'bad-model' : 'hostile-model',
    messages: [{ role: 'user', content: 'Tidy up my files' }],
    max_tokens: row.kind === 'refusal' && row.what === 'max-tokens' ? 1000 : 50,
    hostile_mode: row.kind === 'tool' ? row.mode : 'chat',
    hostile_row: row.id,
  };
  if (row.stream) body.stream = true;
  return body;
}

// ---------------------------------------------------------------------------------------------------------------
// Running

interface Outcome {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  requestId: string | undefined;
  /** What the hostile upstream received for this row (matched by the row id in the body). */
  received: HostileRequest[];
  record: any;
  transportError?: string;
}

interface Suite {
  deny: DenyMode;
  hostile: HostileUpstream;
  h: Harness;
  key: string;
  host: string;
  port: number;
  agent: Agent;
}

async function startSuite(deny: DenyMode): Promise<Suite> {
  const hostile = await startHostileUpstream();
  const h = await startHarness({
    env: {
      CZ_GATEWAY_HOSTILE_ENABLED: 'true',
      CZ_GATEWAY_HOSTILE_API_KEY: HOSTILE_KEY,
      CZ_GATEWAY_HOSTILE_BASE_URL: hostile.url,
      CZ_GATEWAY_TOOL_DENY_MODE: deny,
    },
  });
  await h.createPolicy(POLICY);
  const { key } = await h.createKey(`hostile-${deny}`);
  const url = new URL(h.url);
  return { deny, hostile, h, key, host: url.hostname, port: Number(url.port), agent: new Agent({ keepAlive: true, maxSockets: CONCURRENCY }) };
}

async function stopSuite(s: Suite | undefined): Promise<void> {
  if (!s) return;
  s.agent.destroy();
  await s.h.close();
  await s.hostile.close();
}

/** POST with an exact request target (node:http sends `path` as given: no dot-segment or percent normalisation). */
function rawPost(s: Suite, path: string, body: unknown): Promise<{ status: number; headers: IncomingHttpHeaders; text: string }> {
  const payload = Buffer.from(JSON.stringify(body));
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: s.host,
        port: s.port,
        method: 'POST',
        path,
        agent: s.agent,
        headers: { authorization: `Bearer ${s.key}`, 'content-type': 'application/json', 'content-length': String(payload.length) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          // What a client reads: fetch-based SDKs decompress what the Content-Encoding names.
          const body = Buffer.concat(chunks);
          const bytes = res.headers['content-encoding'] === 'gzip' ? gunzipSync(body) : body;
          // Python clients detect UTF-16 JSON by its byte order mark; read it as they would.
          const text = bytes[0] === 0xff && bytes[1] === 0xfe ? bytes.subarray(2).toString('utf16le') : bytes.toString('utf8');
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text });
        });
      },
    );
    req.setTimeout(10_000, () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    req.end(payload);
  });
}

async function runRows(s: Suite, rows: readonly Row[]): Promise<Map<string, Outcome>> {
  const outcomes = new Map<string, Outcome>();
  let next = 0;
  const worker = async () => {
    while (next < rows.length) {
      const row = rows[next++]!;
      const marker = JSON.stringify(row.id);
      try {
        const res = await rawPost(s, row.path, requestBody(row));
        const requestId = typeof res.headers['x-tollgate-request-id'] === 'string' ? res.headers['x-tollgate-request-id'] : undefined;
        outcomes.set(row.id, { ...res, requestId, received: [], record: undefined });
      } catch (err) {
        outcomes.set(row.id, { status: 0, headers: {}, text: '', requestId: undefined, received: [], record: undefined, transportError: (err as Error).message });
      }
      outcomes.get(row.id)!.received = s.hostile.requests.filter((r) => r.body.includes(marker));
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));

  // Audit records land asynchronously: wait (bounded) until every request id is there, then attach them.
  const ids = new Set([...outcomes.values()].map((o) => o.requestId).filter((id): id is string => id !== undefined));
  const deadline = Date.now() + 5000;
  let byId = new Map<string, any>();
  for (;;) {
    const records = await s.h.audit();
    byId = new Map(records.map((r: any) => [r.id, r]));
    if ([...ids].every((id) => byId.has(id)) || Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 25));
  }
  for (const o of outcomes.values()) if (o.requestId) o.record = byId.get(o.requestId);
  return outcomes;
}

// ---------------------------------------------------------------------------------------------------------------
// What the client received

/**
 * The JSON documents a client could act on: the whole body when it is one JSON value, otherwise the data of every
 * SSE event (data lines joined with "\n", CR/LF/CRLF line ends, an unterminated last event included). A body that is
 * neither is one raw document.
 */
function documentsOf(text: string): string[] {
  const trimmed = text.trim();
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    try {
      JSON.parse(trimmed);
      return [trimmed];
    } catch {
      // not one JSON value: maybe SSE, else raw
    }
  }
  const docs: string[] = [];
  let data: string[] | null = null;
  for (const line of text.split(/\r\n|\r|\n/)) {
    if (line === '') {
      if (data) docs.push(data.join('\n'));
      data = null;
      continue;
    }
    if (line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    if (field !== 'data') continue;
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    (data ??= []).push(value);
  }
  if (data) docs.push(data.join('\n'));
  return docs.length > 0 ? docs : trimmed ? [text] : [];
}

function tryParse(doc: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(doc) };
  } catch {
    return { ok: false };
  }
}

/** A gateway error body / error event: an object whose only field is `error`. */
function gatewayError(value: unknown): { code?: unknown; tool?: unknown } | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const keys = Object.keys(value);
  const error = (value as { error?: unknown }).error;
  return keys.length === 1 && typeof error === 'object' && error !== null ? (error as { code?: unknown }) : null;
}

const NOTICE_LINE = /\[tollgate\][^\n]*/g;
/** A notice inside a JSON string as sent: stops at the closing quote or at an escaped line break. */
const NOTICE_ESCAPED = /\[tollgate\](?:[^"\\]|\\")*/g;

function scrubNotices(value: unknown): unknown {
  if (typeof value === 'string') return value.replace(NOTICE_LINE, '');
  if (Array.isArray(value)) return value.map(scrubNotices);
  if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([k, v]) => [scrubNotices(k) as string, scrubNotices(v)]));
  return value;
}

const unescapeJson = (text: string) => text.replace(/\\u([0-9a-fA-F]{4})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));

function excerpt(text: string, re: RegExp): string {
  const at = text.search(re);
  return JSON.stringify(text.slice(Math.max(0, at - 90), at + 70));
}

/** Every place the forbidden tool appears outside a [tollgate] notice and outside gateway error objects. */
function forbiddenMentions(docs: readonly string[]): string[] {
  const hits: string[] = [];
  for (const doc of docs) {
    const parsed = tryParse(doc);
    if (parsed.ok) {
      if (gatewayError(parsed.value)) continue;
      const text = JSON.stringify(scrubNotices(parsed.value));
      if (FORBIDDEN.test(text)) hits.push(excerpt(text, FORBIDDEN));
    } else {
      const text = unescapeJson(doc.replace(NOTICE_ESCAPED, '')).replace(NOTICE_LINE, '');
      if (FORBIDDEN.test(text)) hits.push(`(unparsed) ${excerpt(text, FORBIDDEN)}`);
    }
  }
  return hits;
}

function hasDotSegments(target: string): boolean {
  const path = target.split('?', 1)[0]!;
  return path.split('/').some((seg) => {
    const s = seg.replace(/%2e/gi, '.');
    return s === '.' || s === '..';
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Checks (each problem starts with a tag naming its kind, so failures group by cause)

function describeOutcome(o: Outcome): string {
  const r = o.record;
  const verdicts = (r?.details?.tool_calls ?? []).map((v: any) => `${v.name}:${v.decision}`).join(',');
  return (
    `status ${o.status}, content-type ${JSON.stringify(o.headers['content-type'] ?? null)}, upstream got ${o.received.map((q) => q.path).join(' ') || 'nothing'}; ` +
    `audit ${r ? `action=${r.action} decision=${r.decision} status=${r.status} tool_calls=[${verdicts}] error=${JSON.stringify(r.error_message)}` : 'MISSING'}`
  );
}

function toolRowProblems(row: ToolRow, o: Outcome): string[] {
  if (o.transportError) return [`TRANSPORT: ${o.transportError}`];
  const problems: string[] = [];
  const refused = o.status >= 400 && o.status < 500 && o.received.length === 0;
  if (refused) {
    if (!o.record) problems.push(`AUDIT-MISSING: refusal ${o.status} has no audit record (request id ${o.requestId})`);
    else if (o.record.status !== o.status) problems.push(`AUDIT-STATUS: refusal ${o.status} audited as ${o.record.status}`);
    return problems;
  }
  if (hasDotSegments(row.path)) {
    for (const q of o.received) if (hasDotSegments(q.path)) problems.push(`DOT-SEGMENTS-FORWARDED: upstream received ${q.path}`);
  }

  const docs = documentsOf(o.text);
  const leaks = forbiddenMentions(docs);
  if (leaks.length > 0) problems.push(`LEAK: delete_file reached the client (${leaks.length} place(s)), first: ${leaks[0]}`);

  const errors = docs.map((d) => tryParse(d)).map((p) => (p.ok ? gatewayError(p.value) : null)).filter((e) => e !== null);
  if (row.mode === 'gzip' || row.mode === 'utf16') {
    // Compressed although identity was asked for, or not UTF-8: unreadable before anything is sent.
    if (o.status !== 502 || errors.length === 0) problems.push(`UNREADABLE-RELAYED: expected a 502 error, got status ${o.status} with ${errors.length} error object(s)`);
  } else if (row.mode === 'malformed-json') {
    const ok = row.stream ? errors.length > 0 && (o.status === 200 || o.status >= 500) : o.status === 502 && errors.length > 0;
    if (!ok) problems.push(`MALFORMED-RELAYED: expected ${row.stream ? 'an error event' : 'a 502 error'}, got status ${o.status} with ${errors.length} error object(s)`);
  } else if (row.deny === 'error') {
    const denied = errors.some((e) => e.code === 'tool_call_denied');
    const ok = denied && (row.stream ? o.status === 200 || o.status === 403 : o.status === 403);
    if (!ok) problems.push(`ERROR-MODE: expected ${row.stream ? 'an error event' : 'a 403'} tool_call_denied, got status ${o.status}, error codes [${errors.map((e) => String(e.code)).join(',')}]`);
  }

  const r = o.record;
  if (!r) problems.push(`AUDIT-MISSING: no audit record for request id ${o.requestId}`);
  else {
    const verdicts: any[] = Array.isArray(r.details?.tool_calls) ? r.details.tool_calls : [];
    const forbidden = [...new Set(hostileCallsFor(row.mode).map((c) => c.name).filter(isForbiddenName))];
    const missing = forbidden.filter((n) => !verdicts.some((v) => v.decision === 'deny' && typeof v.name === 'string' && v.name.toLowerCase() === n.toLowerCase()));
    const errorStatus = r.status >= 400 && typeof r.error_message === 'string' && r.error_message !== '';
    if (missing.length > 0 && !errorStatus) problems.push(`AUDIT-NO-DENY: no deny verdict for ${missing.join(', ')} and no error status`);
    if (row.deny === 'replace' && o.status === 200 && errors.length === 0 && verdicts.some((v) => v.decision === 'deny') && !o.text.includes('[tollgate]')) {
      problems.push('REPLACE-NO-NOTICE: a call was denied but no [tollgate] notice reached the client');
    }
  }
  return problems;
}

function refusalRowProblems(row: RefusalRow, o: Outcome): string[] {
  if (o.transportError) return [`TRANSPORT: ${o.transportError}`];
  const problems: string[] = [];
  if (o.received.length > 0) problems.push(`REFUSAL-FORWARDED: the upstream received ${o.received.map((q) => q.path).join(' ')}`);
  if (row.path === CANONICAL ? o.status !== 403 : o.status < 400 || o.status >= 500) {
    problems.push(`REFUSAL-STATUS: expected ${row.path === CANONICAL ? '403' : '403 or another 4xx'}, got ${o.status}`);
  }
  if (!o.record) problems.push(`AUDIT-MISSING: no audit record for request id ${o.requestId}`);
  else if (o.status === 403 && o.record.decision !== 'deny') problems.push(`AUDIT-DECISION: 403 audited as ${o.record.decision}`);
  return problems;
}

// ---------------------------------------------------------------------------------------------------------------
// Tables

const ALL_MODES = HOSTILE_MODES.map((m) => m.mode);
/** Spellings the replace and error tables also run every oddity on (the strip table runs them all). */
const SOME_PATHS = [CANONICAL, '/hostile/v1/chat/completions/', '/hostile/v1/./chat/%63ompletions'];

interface Table {
  deny: DenyMode;
  rows: Row[];
}

const TABLES: Table[] = [
  { deny: 'strip', rows: [...toolRows('strip', PATHS, ALL_MODES), ...refusalRows(PATHS)] },
  { deny: 'replace', rows: toolRows('replace', SOME_PATHS, ALL_MODES) },
  { deny: 'error', rows: toolRows('error', SOME_PATHS, ALL_MODES) },
];

const failures: { title: string; problems: string[] }[] = [];

for (const table of TABLES) {
  describe(`bypass table, CZ_GATEWAY_TOOL_DENY_MODE=${table.deny} (${table.rows.length} rows)`, () => {
    let suite: Suite | undefined;
    let outcomes = new Map<string, Outcome>();
    before(async () => {
      suite = await startSuite(table.deny);
      outcomes = await runRows(suite, table.rows);
    });
    after(() => stopSuite(suite));

    for (const row of table.rows) {
      test(row.title, () => {
        const o = outcomes.get(row.id);
        assert.ok(o, 'the row was not run');
        const problems = row.kind === 'tool' ? toolRowProblems(row, o) : refusalRowProblems(row, o);
        if (problems.length > 0) {
          failures.push({ title: row.title, problems });
          assert.fail(`${problems.join('\n')}\n(${describeOutcome(o)})`);
        }
      });
    }
  });
}

if (process.env.BYPASS_SUMMARY) {
  after(() => {
    const groups = new Map<string, string[]>();
    for (const f of failures) {
      for (const p of f.problems) {
        const tag = p.slice(0, p.indexOf(':'));
        const list = groups.get(tag) ?? [];
        list.push(f.title);
        groups.set(tag, list);
      }
    }
    const lines = [`bypass summary: ${failures.length} failing rows`];
    for (const [tag, titles] of groups) lines.push(`${tag} (${titles.length}):`, ...titles.map((t) => `  ${t}`));
    console.log(lines.join('\n'));
  });
}
