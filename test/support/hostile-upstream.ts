/**
 * A hostile OpenAI-compatible upstream for bypass tests: it answers ANY method and path with a response that carries
 * tool calls in a legal-but-odd way (legacy `function_call`, escaped JSON keys, multi-line SSE data, CRLF, odd
 * content types, missing `index`, case variants, broken arguments, Responses/Anthropic shapes, malformed JSON,
 * one byte per write). The tool calls come from the fixture's configuration.
 *
 * The mode of a request is, in order of precedence: the request body's `"hostile_mode"` field, the next mode queued
 * with `next(mode)`, the default mode (`setMode(mode)`, initially `chat`). The answer is streamed (SSE) when the
 * request body has `"stream": true`. Every request is recorded (method, raw path as received, headers, body).
 */
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';

export type HostileMode =
  | 'chat'
  | 'legacy-function-call'
  | 'escaped-key'
  | 'multiline-data'
  | 'crlf'
  | 'content-type-case'
  | 'content-type-plain'
  | 'content-type-none'
  | 'no-index'
  | 'case-variant'
  | 'invalid-args'
  | 'responses'
  | 'anthropic'
  | 'malformed-json'
  | 'split-chunks'
  | 'gzip'
  | 'utf16';

/** Whether a mode is meaningful for streamed requests, non-streamed ones, or both. */
export type ModeApplies = 'stream' | 'non-stream' | 'both';

export interface HostileModeSpec {
  mode: HostileMode;
  applies: ModeApplies;
  description: string;
}

export const HOSTILE_MODES: readonly HostileModeSpec[] = [
  { mode: 'chat', applies: 'both', description: 'plain OpenAI chat completion with message.tool_calls / delta.tool_calls (baseline)' },
  { mode: 'legacy-function-call', applies: 'both', description: 'legacy message.function_call / delta.function_call (first configured call)' },
  { mode: 'escaped-key', applies: 'both', description: 'keys written "tool\\u005fcalls" (and an extra "function\\u005fcall" for the first call)' },
  { mode: 'multiline-data', applies: 'stream', description: 'each SSE event JSON split over several data: lines, "tool_calls": and [ on different lines (non-streamed: as chat)' },
  { mode: 'crlf', applies: 'stream', description: 'SSE with CRLF line endings, ":" comment lines, id: lines and data: without a space (non-streamed: as chat)' },
  { mode: 'content-type-case', applies: 'both', description: 'Content-Type Text/Event-Stream; Charset=UTF-8 / Application/JSON' },
  { mode: 'content-type-plain', applies: 'both', description: 'Content-Type text/plain with an SSE or JSON body' },
  { mode: 'content-type-none', applies: 'both', description: 'no Content-Type header' },
  { mode: 'no-index', applies: 'stream', description: 'read_file then the configured calls, each whole in its own delta, no index; every other call has no id (non-streamed: as chat with these calls)' },
  { mode: 'case-variant', applies: 'both', description: 'parallel calls read_file and the configured calls in Title_Case (Delete_File)' },
  { mode: 'invalid-args', applies: 'both', description: 'arguments that are not valid JSON (the JSON text with its last character cut)' },
  { mode: 'responses', applies: 'both', description: 'OpenAI Responses API: output[] function_call items / response.* events with event: lines' },
  { mode: 'anthropic', applies: 'both', description: 'Anthropic Messages: content[] tool_use blocks / message_start ... message_stop events' },
  { mode: 'malformed-json', applies: 'both', description: 'a JSON body cut inside tool_calls / a stream event with broken JSON inside tool_calls' },
  { mode: 'gzip', applies: 'both', description: 'the chat answer gzip-compressed with Content-Encoding: gzip, although the gateway asked for identity' },
  { mode: 'utf16', applies: 'non-stream', description: 'the chat answer as UTF-16LE JSON with a byte order mark (Python clients detect the encoding)' },
  { mode: 'split-chunks', applies: 'stream', description: 'the chat answer written one byte per write, setImmediate between writes' },
];

const MODE_NAMES = new Set<string>(HOSTILE_MODES.map((m) => m.mode));

export function isHostileMode(value: unknown): value is HostileMode {
  return typeof value === 'string' && MODE_NAMES.has(value);
}

/** True when `mode` is meant to be exercised with (stream = true) or without streaming. */
export function modeApplies(mode: HostileMode, stream: boolean): boolean {
  const spec = HOSTILE_MODES.find((m) => m.mode === mode);
  if (!spec) return false;
  return spec.applies === 'both' || spec.applies === (stream ? 'stream' : 'non-stream');
}

export interface HostileCall {
  name: string;
  arguments: unknown;
}

export const DEFAULT_HOSTILE_CALLS: readonly HostileCall[] = [{ name: 'delete_file', arguments: { path: '/etc/passwd' } }];

/** The allowed call some modes put before the configured ones. */
export const READ_CALL: HostileCall = { name: 'read_file', arguments: { path: '/etc/hosts' } };

/** The tool calls a mode's answer carries (names as sent), given the configured calls. */
export function hostileCallsFor(mode: HostileMode, calls: readonly HostileCall[] = DEFAULT_HOSTILE_CALLS): HostileCall[] {
  switch (mode) {
    case 'legacy-function-call':
    case 'malformed-json':
      return calls.slice(0, 1);
    case 'no-index':
      return [READ_CALL, ...calls];
    case 'case-variant':
      return [READ_CALL, ...calls.map((c) => ({ ...c, name: titleCase(c.name) }))];
    default:
      return [...calls];
  }
}

export interface HostileRequest {
  method: string;
  /** The request target exactly as received (`req.url`), query string included. */
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** The body parsed as JSON, or null. */
  json: unknown;
  mode: HostileMode;
  stream: boolean;
  at: number;
}

export interface HostileUpstream {
  /** Origin, e.g. http://127.0.0.1:12345 (no path). */
  url: string;
  /** Every request received, in arrival order. */
  requests: HostileRequest[];
  /** Sets the default mode (used when neither the body nor the queue names one). */
  setMode(mode: HostileMode): void;
  /** Queues a mode for the next request that does not name one in its body. */
  next(mode: HostileMode): void;
  /** The configured calls. */
  readonly calls: readonly HostileCall[];
  /** Forgets recorded requests and queued modes. */
  reset(): void;
  close(): Promise<void>;
}

export interface HostileOptions {
  calls?: HostileCall[];
  mode?: HostileMode;
}

export async function startHostileUpstream(options: HostileOptions = {}): Promise<HostileUpstream> {
  const calls: readonly HostileCall[] = options.calls && options.calls.length > 0 ? options.calls : DEFAULT_HOSTILE_CALLS;
  let defaultMode: HostileMode = options.mode ?? 'chat';
  const queue: HostileMode[] = [];
  const requests: HostileRequest[] = [];
  let counter = 0;

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('error', () => res.destroy());
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let json: unknown = null;
      try {
        json = body ? JSON.parse(body) : null;
      } catch {
        json = null;
      }
      const fields = isObject(json) ? json : {};
      const asked = fields.hostile_mode;
      if (asked !== undefined && !isHostileMode(asked)) {
        requests.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body, json, mode: defaultMode, stream: false, at: Date.now() });
        sendText(res, 400, 'application/json', JSON.stringify({ error: { message: `hostile upstream: unknown hostile_mode ${JSON.stringify(asked)}`, type: 'invalid_request_error', code: 'unknown_mode' } }));
        return;
      }
      const mode: HostileMode = isHostileMode(asked) ? asked : queue.shift() ?? defaultMode;
      const stream = fields.stream === true || (json === null && /"stream"\s*:\s*true/.test(body));
      requests.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body, json, mode, stream, at: Date.now() });
      const ctx: Ctx = { n: ++counter, model: typeof fields.model === 'string' ? fields.model : 'hostile-model', calls };
      void answer(res, mode, stream, ctx).catch(() => res.destroy());
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    calls,
    setMode(mode) {
      defaultMode = mode;
    },
    next(mode) {
      queue.push(mode);
    },
    reset() {
      requests.length = 0;
      queue.length = 0;
    },
    close() {
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Answers

type Json = Record<string, unknown>;

interface Ctx {
  n: number;
  model: string;
  calls: readonly HostileCall[];
}

/** What to send: a status, a content type (null: no header) and the body as a list of writes. */
interface Plan {
  status: number;
  contentType: string | null;
  writes: string[];
  /** Write every byte on its own (setImmediate between writes). */
  perByte?: boolean;
  /** Compress the whole answer with gzip and say so in Content-Encoding. */
  gzip?: boolean;
  /** Encode the whole answer as UTF-16LE with a byte order mark. */
  utf16?: boolean;
}

const JSON_TYPE = 'application/json';
const SSE_TYPE = 'text/event-stream; charset=utf-8';
const USAGE = { prompt_tokens: 12, completion_tokens: 20, total_tokens: 32 };

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function titleCase(name: string): string {
  return name
    .split('_')
    .map((w) => (w ? w[0]!.toUpperCase() + w.slice(1) : w))
    .join('_');
}

const argsText = (c: HostileCall): string => (typeof c.arguments === 'string' ? c.arguments : JSON.stringify(c.arguments));
const brokenArgs = (c: HostileCall): string => argsText(c).slice(0, -1);

/** Splits a string into `n` pieces of similar size (fewer when it is shorter). */
function pieces(text: string, n = 3): string[] {
  if (text.length === 0) return [];
  const size = Math.ceil(text.length / n);
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}

const sse = (json: unknown): string => `data: ${typeof json === 'string' ? json : JSON.stringify(json)}\n\n`;
const DONE = 'data: [DONE]\n\n';

async function answer(res: ServerResponse, mode: HostileMode, stream: boolean, ctx: Ctx): Promise<void> {
  const plan = stream ? streamPlan(mode, ctx) : jsonPlan(mode, ctx);
  const headers: Record<string, string> = { 'x-hostile-mode': mode };
  if (plan.contentType !== null) headers['content-type'] = plan.contentType;
  if (stream) headers['cache-control'] = 'no-cache';
  if (plan.gzip) {
    headers['content-encoding'] = 'gzip';
    res.writeHead(plan.status, headers);
    res.end(gzipSync(plan.writes.join('')));
    return;
  }
  if (plan.utf16) {
    res.writeHead(plan.status, headers);
    res.end(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(plan.writes.join(''), 'utf16le')]));
    return;
  }
  res.writeHead(plan.status, headers);
  if (plan.perByte) {
    const bytes = Buffer.from(plan.writes.join(''), 'utf8');
    for (let i = 0; i < bytes.length; i++) {
      if (res.destroyed) return;
      res.write(bytes.subarray(i, i + 1));
      await new Promise<void>((r) => setImmediate(r));
    }
  } else {
    for (let i = 0; i < plan.writes.length; i++) {
      if (res.destroyed) return;
      res.write(plan.writes[i]!);
      if (stream && i < plan.writes.length - 1) await new Promise<void>((r) => setImmediate(r));
    }
  }
  res.end();
}

function sendText(res: ServerResponse, status: number, contentType: string, text: string): void {
  res.writeHead(status, { 'content-type': contentType, 'content-length': String(Buffer.byteLength(text)) });
  res.end(text);
}

// --- chat completions ------------------------------------------------------------------------------------------

function chatCompletion(ctx: Ctx, calls: HostileCall[], args: (c: HostileCall) => string = argsText): Json {
  return {
    id: `chatcmpl-hostile-${ctx.n}`,
    object: 'chat.completion',
    created: 1_700_000_000,
    model: ctx.model,
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content: null,
          tool_calls: calls.map((c, i) => ({ id: `call_${ctx.n}_${i}`, type: 'function', function: { name: c.name, arguments: args(c) } })),
        },
        finish_reason: 'tool_calls',
        logprobs: null,
      },
    ],
    usage: USAGE,
  };
}

function chunkMaker(ctx: Ctx) {
  const base = { id: `chatcmpl-hostile-${ctx.n}`, object: 'chat.completion.chunk', created: 1_700_000_000, model: ctx.model };
  return (delta: Json, finish: string | null = null): Json => ({ ...base, choices: [{ index: 0, delta, finish_reason: finish, logprobs: null }] });
}

/** OpenAI-style chunks: a role chunk, per call a header delta then argument fragments, a finish chunk, a usage chunk. */
function chatChunks(ctx: Ctx, calls: HostileCall[], args: (c: HostileCall) => string = argsText): Json[] {
  const chunk = chunkMaker(ctx);
  const out: Json[] = [chunk({ role: 'assistant', content: '' })];
  calls.forEach((c, i) => {
    out.push(chunk({ tool_calls: [{ index: i, id: `call_${ctx.n}_${i}`, type: 'function', function: { name: c.name, arguments: '' } }] }));
    for (const piece of pieces(args(c))) out.push(chunk({ tool_calls: [{ index: i, function: { arguments: piece } }] }));
  });
  out.push(chunk({}, 'tool_calls'));
  out.push({ id: `chatcmpl-hostile-${ctx.n}`, object: 'chat.completion.chunk', created: 1_700_000_000, model: ctx.model, choices: [], usage: USAGE });
  return out;
}

const chatStreamWrites = (chunks: Json[]): string[] => [...chunks.map((c) => sse(c)), DONE];

/** Rewrites serialized JSON so the given keys are spelled with a \u005f escape for "_". */
function escapeKeys(text: string): string {
  return text.replaceAll('"tool_calls":', '"tool\\u005fcalls":').replaceAll('"function_call":', '"function\\u005fcall":');
}

/** One event whose JSON is pretty-printed over several data: lines, with `"key":` and its `[`/`{` on separate lines. */
function multilineEvent(json: Json): string {
  const text = JSON.stringify(json, null, 1).replace(/": ([[{])$/gm, '":\n$1');
  return `${text
    .split('\n')
    .map((line) => `data: ${line}`)
    .join('\n')}\n\n`;
}

function crlfEvent(data: string, n: number): string {
  return `: hostile comment ${n}\r\nid: ${n}\r\n: another comment\r\ndata:${data}\r\n\r\n`;
}

// --- Responses API ---------------------------------------------------------------------------------------------

function responseItems(ctx: Ctx, calls: HostileCall[]): Json[] {
  return calls.map((c, i) => ({
    type: 'function_call',
    id: `fc_${ctx.n}_${i}`,
    call_id: `call_${ctx.n}_${i}`,
    name: c.name,
    arguments: argsText(c),
    status: 'completed',
  }));
}

function responseObject(ctx: Ctx, status: string, output: Json[]): Json {
  return {
    id: `resp_hostile_${ctx.n}`,
    object: 'response',
    created_at: 1_700_000_000,
    status,
    model: ctx.model,
    output,
    parallel_tool_calls: true,
    tool_choice: 'auto',
    usage: status === 'completed' ? { input_tokens: 12, output_tokens: 20, total_tokens: 32 } : null,
  };
}

function responsesEvents(ctx: Ctx, calls: HostileCall[]): string[] {
  let seq = 0;
  const ev = (type: string, data: Json) => `event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: seq++, ...data })}\n\n`;
  const items = responseItems(ctx, calls);
  const out = [ev('response.created', { response: responseObject(ctx, 'in_progress', []) }), ev('response.in_progress', { response: responseObject(ctx, 'in_progress', []) })];
  items.forEach((item, i) => {
    out.push(ev('response.output_item.added', { output_index: i, item: { ...item, arguments: '', status: 'in_progress' } }));
    for (const delta of pieces(String(item.arguments))) out.push(ev('response.function_call_arguments.delta', { item_id: item.id, output_index: i, delta }));
    out.push(ev('response.function_call_arguments.done', { item_id: item.id, output_index: i, arguments: item.arguments }));
    out.push(ev('response.output_item.done', { output_index: i, item }));
  });
  out.push(ev('response.completed', { response: responseObject(ctx, 'completed', items) }));
  return out;
}

// --- Anthropic Messages ----------------------------------------------------------------------------------------

function anthropicMessage(ctx: Ctx, calls: HostileCall[]): Json {
  return {
    id: `msg_hostile_${ctx.n}`,
    type: 'message',
    role: 'assistant',
    model: ctx.model,
    content: calls.map((c, i) => ({ type: 'tool_use', id: `toolu_${ctx.n}_${i}`, name: c.name, input: c.arguments })),
    stop_reason: 'tool_use',
    stop_sequence: null,
    usage: { input_tokens: 12, output_tokens: 20 },
  };
}

function anthropicEvents(ctx: Ctx, calls: HostileCall[]): string[] {
  const ev = (type: string, data: Json) => `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
  const out = [
    ev('message_start', {
      message: { id: `msg_hostile_${ctx.n}`, type: 'message', role: 'assistant', model: ctx.model, content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 12, output_tokens: 1 } },
    }),
    ev('ping', {}),
  ];
  calls.forEach((c, i) => {
    out.push(ev('content_block_start', { index: i, content_block: { type: 'tool_use', id: `toolu_${ctx.n}_${i}`, name: c.name, input: {} } }));
    for (const partial of pieces(argsText(c))) out.push(ev('content_block_delta', { index: i, delta: { type: 'input_json_delta', partial_json: partial } }));
    out.push(ev('content_block_stop', { index: i }));
  });
  out.push(ev('message_delta', { delta: { stop_reason: 'tool_use', stop_sequence: null }, usage: { output_tokens: 20 } }));
  out.push(ev('message_stop', {}));
  return out;
}

// --- plans -----------------------------------------------------------------------------------------------------

function jsonPlan(mode: HostileMode, ctx: Ctx): Plan {
  const calls = hostileCallsFor(mode, ctx.calls);
  const json = (body: unknown, contentType: string | null = JSON_TYPE): Plan => ({ status: 200, contentType, writes: [typeof body === 'string' ? body : JSON.stringify(body)] });
  switch (mode) {
    case 'legacy-function-call': {
      const c = calls[0]!;
      const body = chatCompletion(ctx, []);
      const choice = (body.choices as Json[])[0]!;
      choice.message = { role: 'assistant', content: null, function_call: { name: c.name, arguments: argsText(c) } };
      choice.finish_reason = 'function_call';
      return json(body);
    }
    case 'escaped-key': {
      const body = chatCompletion(ctx, calls);
      const message = (body.choices as Json[])[0]!.message as Json;
      message.function_call = { name: calls[0]!.name, arguments: argsText(calls[0]!) };
      return json(escapeKeys(JSON.stringify(body)));
    }
    case 'content-type-case':
      return json(chatCompletion(ctx, calls), 'Application/JSON');
    case 'content-type-plain':
      return json(chatCompletion(ctx, calls), 'text/plain; charset=utf-8');
    case 'content-type-none':
      return json(chatCompletion(ctx, calls), null);
    case 'invalid-args':
      return json(chatCompletion(ctx, calls, brokenArgs));
    case 'responses':
      return json(responseObject(ctx, 'completed', responseItems(ctx, calls)));
    case 'anthropic':
      return json(anthropicMessage(ctx, calls));
    case 'malformed-json':
      return json(`{"choices":[{"message":{"tool_calls":[{"function":{"name":${JSON.stringify(calls[0]!.name)}`);
    case 'split-chunks':
      return { ...json(chatCompletion(ctx, calls)), perByte: true };
    case 'gzip':
      return { ...json(chatCompletion(ctx, calls)), gzip: true };
    case 'utf16':
      return { ...json(chatCompletion(ctx, calls)), utf16: true };
    case 'chat':
    case 'multiline-data':
    case 'crlf':
    case 'no-index':
    case 'case-variant':
      return json(chatCompletion(ctx, calls));
  }
}

function streamPlan(mode: HostileMode, ctx: Ctx): Plan {
  const calls = hostileCallsFor(mode, ctx.calls);
  const events = (writes: string[], contentType: string | null = SSE_TYPE): Plan => ({ status: 200, contentType, writes });
  const chunk = chunkMaker(ctx);
  switch (mode) {
    case 'chat':
    case 'case-variant':
    case 'utf16': // streamed: SSE is UTF-8 by definition, so as chat
      return events(chatStreamWrites(chatChunks(ctx, calls)));
    case 'legacy-function-call': {
      const c = calls[0]!;
      const out: Json[] = [chunk({ role: 'assistant', content: null, function_call: { name: c.name, arguments: '' } })];
      for (const piece of pieces(argsText(c))) out.push(chunk({ function_call: { arguments: piece } }));
      out.push(chunk({}, 'function_call'));
      return events(chatStreamWrites(out));
    }
    case 'escaped-key': {
      const chunks = chatChunks(ctx, calls);
      const c = calls[0]!;
      chunks.splice(chunks.length - 2, 0, chunk({ function_call: { name: c.name, arguments: argsText(c) } }));
      return events(chunks.map((j) => sse(escapeKeys(JSON.stringify(j)))).concat(DONE));
    }
    case 'multiline-data':
      return events([...chatChunks(ctx, calls).map(multilineEvent), DONE]);
    case 'crlf':
      return events([': hostile stream\r\n\r\n', ...chatChunks(ctx, calls).map((j, i) => crlfEvent(JSON.stringify(j), i)), 'data:[DONE]\r\n\r\n']);
    case 'content-type-case':
      return events(chatStreamWrites(chatChunks(ctx, calls)), 'Text/Event-Stream; Charset=UTF-8');
    case 'content-type-plain':
      return events(chatStreamWrites(chatChunks(ctx, calls)), 'text/plain; charset=utf-8');
    case 'content-type-none':
      return events(chatStreamWrites(chatChunks(ctx, calls)), null);
    case 'no-index': {
      const out: Json[] = [chunk({ role: 'assistant', content: '' })];
      calls.forEach((c, i) => {
        const call: Json = { type: 'function', function: { name: c.name, arguments: argsText(c) } };
        if (i % 2 === 0) call.id = `call_${ctx.n}_${i}`;
        out.push(chunk({ tool_calls: [call] }));
      });
      out.push(chunk({}, 'tool_calls'));
      return events(chatStreamWrites(out));
    }
    case 'invalid-args':
      return events(chatStreamWrites(chatChunks(ctx, calls, brokenArgs)));
    case 'responses':
      return events(responsesEvents(ctx, calls));
    case 'anthropic':
      return events(anthropicEvents(ctx, calls));
    case 'malformed-json': {
      const c = calls[0]!;
      const broken = `{"id":"chatcmpl-hostile-${ctx.n}","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_${ctx.n}_0","type":"function","function":{"name":${JSON.stringify(c.name)},"arguments":"{\\"path\\"`;
      return events([sse(chunk({ role: 'assistant', content: '' })), sse(broken), sse(chunk({}, 'tool_calls')), DONE]);
    }
    case 'split-chunks':
      return { ...events(chatStreamWrites(chatChunks(ctx, calls))), perByte: true };
    case 'gzip':
      return { ...events(chatStreamWrites(chatChunks(ctx, calls))), gzip: true };
  }
}
