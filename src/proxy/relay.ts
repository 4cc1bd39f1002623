/**
 * The forward stage of provider routes: sends the request upstream and relays the answer, governing every tool
 * call in it (src/translators/tool-shapes.ts) and noting usage on the way.
 * - Non-streamed answers are read whole; one that may carry tool calls is parsed, as JSON or, when it is an event
 *   stream under another content type, as events. One that cannot be parsed is not relayed (502): the gateway does
 *   not pass on what it cannot govern.
 * - Streams are relayed as they arrive: a chunk of whole events none of which may carry a tool call is written as is,
 *   unparsed; other events are parsed (SSE per the spec) and governed, held back only while a call is incomplete.
 */
import type { ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Dispatcher } from 'undici';
import { applyUsage, elapsedMs, usageOf } from '../audit/record.js';
import { findUsage, scanUsage } from '../audit/usage-scan.js';
import { isJsonContentType } from '../http/body.js';
import { streamErrorEvent, toolCallDenied, upstreamInvalidResponse } from '../http/errors.js';
import type { WireAdapter } from '../providers/fim-adapter.js';
import { responseHeaders } from '../providers/upstream.js';
import { SseParser, type SseEvent } from '../sse/parser.js';
import { dataLooksWhole, eventsLookWhole } from '../sse/well-formed.js';
import { mayCarryToolCalls, StreamGovernor } from '../translators/tool-shapes.js';
import { ToolCallDenied } from '../translators/tool-verdicts.js';
import type { Json, ToolGovernance } from '../translators/types.js';
import { upstreamErrorToGateway } from '../upstream/failures.js';
import { asGatewayError } from '../pipeline/exchange.js';
import { denialAsError, governAnswer, toolGovernance } from '../pipeline/tool-governance.js';
import type { ProxyExchange } from './handler.js';

/**
 * Headers an upstream error keeps: `retry-after` (and OpenAI's `retry-after-ms`), and every rate-limit header in each
 * provider's own naming: `x-ratelimit-*` (OpenAI's `-requests`/`-tokens`, Mistral's `-req-minute`/`-tokens-minute`, ...),
 * `x-ratelimitbysize-*`, and the IETF draft's `ratelimit-*` / `ratelimit`. Clients back off by them.
 */
function isRateLimitHeader(name: string): boolean {
  return name === 'retry-after' || name === 'retry-after-ms' || name.startsWith('x-ratelimit') || name.startsWith('ratelimit');
}

const governance = (ex: ProxyExchange): ToolGovernance => toolGovernance(ex, ex.policies, ex.toolDenial);

export async function forward(ex: ProxyExchange): Promise<void> {
  const { req, record, upstream } = ex;
  const adapter = ex.body ? upstream.adapter(ex.subpath) : null;
  if (adapter && ex.body) ex.rawBody = Buffer.from(JSON.stringify(adapter.request(ex.body)));
  const rawBody = ex.rawBody;
  // A body we did not read is streamed through; keep its declared length so the provider sees no chunked upload.
  const declaredLength = Number(req.headers['content-length']);
  const contentLength = rawBody ? rawBody.length : Number.isInteger(declaredLength) ? declaredLength : null;
  const upstreamStarted = performance.now();
  const response = await upstream.request({
    path: upstream.path(ex.subpath, ex.search),
    method: (req.method ?? 'GET') as Dispatcher.HttpMethod,
    headers: upstream.requestHeaders(req.headers, contentLength, ex.forwarding),
    body: rawBody ?? (req.method === 'GET' || req.method === 'HEAD' ? null : req),
    signal: ex.abort,
  });
  const encoding = String(response.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
  if (encoding !== 'identity' && encoding !== '') {
    // The gateway asked for identity: a compressed answer is bytes it cannot read, so it cannot govern them.
    await response.body.dump();
    throw upstreamInvalidResponse(upstream.config.name, `answered with Content-Encoding ${JSON.stringify(encoding)} although the gateway asked for identity`);
  }
  const contentType = String(response.headers['content-type'] ?? '').toLowerCase();
  // An event stream, or a body of no readable type the client asked to stream: read as events either way.
  const isStream = contentType.startsWith('text/event-stream') || (ex.body?.stream === true && !isJsonContentType(contentType) && response.statusCode < 400);
  record.streamed = isStream;

  if (response.statusCode >= 400 && !isStream) {
    const text = await response.body.text();
    record.upstream_latency_ms = elapsedMs(upstreamStarted);
    const error = upstreamErrorToGateway(upstream.config.name, response.statusCode, text);
    ex.fail(error, pickHeaders(response.headers, isRateLimitHeader));
    return;
  }
  if (isStream) {
    await relayStream(ex, response, upstreamStarted, adapter);
    return;
  }

  let buf: Buffer = Buffer.from(await response.body.arrayBuffer());
  record.upstream_latency_ms = elapsedMs(upstreamStarted);
  if (adapter && isJsonContentType(contentType)) {
    const json = parseJsonOrNull(buf.toString('utf8'));
    if (!json) throw upstreamInvalidResponse(upstream.config.name, 'returned a JSON content type with an unparsable body');
    const usage = usageOf(json);
    if (usage) applyUsage(record, usage);
    buf = Buffer.from(JSON.stringify(adapter.response(json)));
  } else {
    if (mayBeText(contentType) && !isUtf8Shaped(buf)) {
      // JSON in UTF-16/32: the byte scan cannot read it, clients that detect the encoding (Python's json) can.
      throw upstreamInvalidResponse(upstream.config.name, 'answered text that is not UTF-8 (UTF-16/32 bytes or byte order mark)');
    }
    const usage = scanUsage(buf);
    if (usage) applyUsage(record, usage);
    if (mayCarryToolCalls(buf)) buf = governWhole(ex, buf);
  }
  const headers = responseHeaders(response.headers);
  headers['content-length'] = String(buf.length);
  ex.res.writeHead(response.statusCode, headers);
  ex.end(response.statusCode, buf);
}

/** Content types a client may read as JSON text: JSON, any text, or none. */
function mayBeText(contentType: string): boolean {
  return contentType === '' || isJsonContentType(contentType) || contentType.startsWith('text/');
}

/** False for UTF-16/32 text: a UTF-16 byte order mark, or NUL bytes (UTF-8 JSON and text never hold a raw NUL). */
function isUtf8Shaped(buf: Buffer): boolean {
  if (buf.length >= 2 && ((buf[0] === 0xfe && buf[1] === 0xff) || (buf[0] === 0xff && buf[1] === 0xfe))) return false;
  return buf.indexOf(0) < 0;
}

/** Governs a whole answer that may carry tool calls; returns the bytes to send (the same buffer when unchanged). */
function governWhole(ex: ProxyExchange, buf: Buffer): Buffer {
  const text = buf.toString('utf8');
  const json = parseJsonOrNull(text);
  const provider = ex.record.provider ?? 'unknown';
  if (json) return governAnswer(json, governance(ex)) ? Buffer.from(JSON.stringify(json)) : buf;
  return denialAsError(() => {
    if (!looksLikeEventStream(text)) throw upstreamInvalidResponse(provider, 'answered a body that is neither valid JSON nor an event stream, and it may carry tool calls');
    // An event stream under another content type: governed event by event, all at once.
    const parser = new SseParser();
    const events = parser.push(text.endsWith('\n\n') ? text : `${text}\n\n`);
    const governor = new StreamGovernor(() => governance(ex));
    let out = '';
    for (const event of events) out += governEvent(ex, governor, event);
    return Buffer.from(out + governor.flush());
  });
}

function looksLikeEventStream(text: string): boolean {
  return /^\s*(data|event|id|retry)?:/.test(text);
}

/** The text to send for one event that must be governed; fails closed on one that may carry tool calls but is not JSON. */
function governEvent(ex: ProxyExchange, governor: StreamGovernor, event: SseEvent): string {
  const json = event.data.startsWith('[') ? null : parseJsonOrNull(event.data);
  if (!json && event.data !== '[DONE]' && mayCarryToolCalls(event.data)) {
    throw upstreamInvalidResponse(ex.record.provider ?? 'unknown', 'sent a stream event that is not valid JSON and may carry tool calls');
  }
  if (json) applyEventUsage(ex, json);
  else refuseMalformed(ex, event);
  return governor.push(event, json);
}

/**
 * Throws for an event whose data is neither JSON nor `[DONE]` (a truncated or corrupt event): relayed, it would
 * make a client's parser fail on what looked like a successful answer.
 */
function refuseMalformed(ex: ProxyExchange, event: SseEvent): void {
  if (event.data === '' || event.data === '[DONE]') return;
  try {
    JSON.parse(event.data);
  } catch {
    throw upstreamInvalidResponse(ex.record.provider ?? 'unknown', 'sent a stream event whose data is not valid JSON');
  }
}

/**
 * Usage an event reports: at its top level (chat chunks, Anthropic message_delta), in its `response` (Responses
 * response.completed) or its `message` (Anthropic message_start).
 */
function applyEventUsage(ex: ProxyExchange, json: Json): void {
  const usage = usageOf(json) ?? usageOf(json.response) ?? usageOf(json.message);
  if (usage) applyUsage(ex.record, usage);
}

const USAGE_KEY = Buffer.from('"usage"');

/**
 * Every usage object in a chunk of whole events, in order: a stream may report usage in parts, and one chunk may
 * hold several of them (Anthropic: input tokens in message_start, output tokens in message_delta).
 */
function applyChunkUsage(ex: ProxyExchange, chunk: Buffer): void {
  for (let at = chunk.indexOf(USAGE_KEY); at >= 0; ) {
    const next = chunk.indexOf(USAGE_KEY, at + USAGE_KEY.length);
    const usage = findUsage(chunk.subarray(at, next < 0 ? chunk.length : next));
    if (usage) applyUsage(ex.record, usage);
    at = next;
  }
}

async function relayStream(ex: ProxyExchange, response: Dispatcher.ResponseData, upstreamStarted: number, adapter: WireAdapter | null): Promise<void> {
  const { res, record } = ex;
  const headers = responseHeaders(response.headers);
  // No flushHeaders(): the headers leave with the first chunk, one write instead of two.
  res.writeHead(response.statusCode, headers);
  const parser = new SseParser();
  const governor = adapter ? null : new StreamGovernor(() => governance(ex));
  /** Text governed from the current chunk, not written yet (kept when a denial ends the stream mid-chunk). */
  let out = '';
  /** Parses and relays `bytes` event by event: translated, governed, or checked and passed on. */
  const relayParsed = async (bytes: Buffer): Promise<void> => {
    out = '';
    for (const event of parser.push(bytes)) {
      if (adapter) {
        const json = parseJsonOrNull(event.data);
        if (json) {
          const usage = usageOf(json);
          if (usage) applyUsage(record, usage);
        } else refuseMalformed(ex, event);
        out += json ? `data: ${JSON.stringify(adapter.chunk(json))}\n\n` : event.raw;
      } else if (governor!.holding || mayCarryToolCalls(event.raw)) out += governEvent(ex, governor!, event);
      else {
        if (!dataLooksWhole(event.data)) refuseMalformed(ex, event);
        out += event.raw;
        if (event.data.includes('"usage"')) {
          const json = parseJsonOrNull(event.data);
          if (json) applyEventUsage(ex, json);
        }
      }
    }
    const text = out;
    out = '';
    if (text && !res.writableEnded && !res.write(text)) await waitForDrain(res);
  };
  /**
   * Whole events that cannot carry tool calls are relayed as they are, without parsing them; their usage objects are
   * read straight from the bytes. Returns false (nothing written) when `events` is not that.
   */
  const relayUnparsed = async (events: Buffer): Promise<boolean> => {
    if (!governor || governor.holding || parser.hasPending || mayCarryToolCalls(events) || !eventsLookWhole(events)) return false;
    // Events that end with [DONE] end the response in the same write as their last bytes (unless the end must wait
    // for the record to be durable).
    if (ex.mayEndEarly && endsWithDone(events)) res.end(events);
    else if (!res.write(events)) await waitForDrain(res);
    applyChunkUsage(ex, events);
    return true;
  };
  try {
    for await (const chunk of response.body as AsyncIterable<Buffer>) {
      if (record.upstream_latency_ms === null) record.upstream_latency_ms = elapsedMs(upstreamStarted);
      if (res.writableEnded) continue; // answered already (cut off at shutdown, or after [DONE]): drain quietly
      // Fast path, most bytes: reads rarely end where an event does, so a read is cut in three: the end of an event
      // begun in an earlier read (parsed, with it), the whole events after it (relayed unparsed when they may be),
      // and the start of an event the next read ends (kept by the parser).
      let rest = chunk;
      if (governor && parser.hasPending) {
        const first = firstEventEnd(rest);
        if (first < 0) {
          await relayParsed(rest);
          continue;
        }
        await relayParsed(rest.subarray(0, first));
        rest = rest.subarray(first);
      }
      const last = governor ? lastEventEnd(rest) : -1;
      if (last > 0 && !res.writableEnded && (await relayUnparsed(last === rest.length ? rest : rest.subarray(0, last)))) rest = rest.subarray(last);
      if (rest.length > 0 && !res.writableEnded) await relayParsed(rest);
    }
    if (governor && !res.writableEnded) {
      // An event the stream ended in without its blank line: governed too when it may carry a call.
      const rest = parser.pending;
      out = rest !== '' && mayCarryToolCalls(rest) ? governEvent(ex, governor, parser.push('\n\n')[0]!) : rest;
      out += governor.flush();
      if (out) res.write(out);
      out = '';
    }
  } catch (err) {
    // Finished already (cut off at shutdown, and the abort that followed ended the upstream body): the record is
    // complete and queued, so nothing may change it now.
    if (ex.finished) return;
    if (record.client_aborted) {
      ex.finish(499);
      return;
    }
    if (err instanceof ToolCallDenied) {
      // Error mode: what was released so far stays sent; the denial ends the stream.
      if (out && !res.writableEnded) res.write(out);
      ex.fail(toolCallDenied(err.verdict));
      return;
    }
    const error = asGatewayError(err, record.provider);
    record.error_message = error.message;
    if (res.writableEnded) {
      // The client already has the whole stream ([DONE]); the provider failed only afterwards.
      ex.finish(response.statusCode);
      return;
    }
    ex.end(error.status, streamErrorEvent(error, ex.streamErrors, record.model));
    return;
  }
  if (record.upstream_latency_ms === null) record.upstream_latency_ms = elapsedMs(upstreamStarted);
  ex.end(response.statusCode);
}

function pickHeaders(headers: Record<string, string | string[] | undefined>, keep: (name: string) => boolean): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name in headers) {
    const v = headers[name];
    if (typeof v === 'string' && keep(name)) out[name] = v;
  }
  return out;
}

function parseJsonOrNull(text: string): Json | null {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Json) : null;
  } catch {
    return null;
  }
}

const DONE_EVENT = Buffer.from('data: [DONE]\n\n');

function endsWithDone(chunk: Buffer): boolean {
  return chunk.length >= DONE_EVENT.length && chunk.subarray(chunk.length - DONE_EVENT.length).equals(DONE_EVENT);
}

const BLANK_LINE = Buffer.from('\n\n');

/**
 * Index just after the first LF LF (an event's end) in `bytes`, or -1. Other line ends (CR) are left to the parser:
 * a read that holds a CR is parsed whole (eventsLookWhole refuses CR too), which is exact, only slower.
 */
function firstEventEnd(bytes: Buffer): number {
  if (bytes.indexOf(CR_BYTE) >= 0) return -1;
  const at = bytes.indexOf(BLANK_LINE);
  return at < 0 ? -1 : at + 2;
}

/** Index just after the last LF LF in `bytes` (its whole events end there), or -1. */
function lastEventEnd(bytes: Buffer): number {
  const at = bytes.lastIndexOf(BLANK_LINE);
  return at < 0 ? -1 : at + 2;
}

const CR_BYTE = 13;

function waitForDrain(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.once('drain', done);
    res.once('close', done);
  });
}
