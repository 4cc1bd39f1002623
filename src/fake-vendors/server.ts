/**
 * Small fakes of the vendors behind templated endpoints and native routes (OpenAI Responses, Anthropic Messages,
 * Gemini), for tests and demos without internet: each checks the vendor's authentication and request format and
 * answers in its wire format (errors and SSE streams included), faithfully enough for the official SDKs. Requests can
 * be recorded for assertions, and tool calls forced per request (`x-fake-tool-calls` header) or server-wide.
 */
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SSE_HEADERS } from '../fake-mistral/stream.js';
import { anthropicMessages } from './anthropic-messages.js';
import { gemini } from './gemini.js';
import { openaiResponses } from './openai-responses.js';
import { TOOL_CALLS_HEADER, type ForcedToolCall } from './tool-calls.js';

export interface FakeAnswer {
  status: number;
  body: unknown;
}

/** One server-sent event: `event: <event>` then `data: <JSON of data>`. */
export interface SseEvent {
  event: string;
  data: unknown;
}

/** A streamed answer, computed in full by the vendor and written event by event by the server. */
export interface FakeEventStream {
  status: number;
  events: readonly SseEvent[];
}

/** One vendor's behaviour; pure. */
export interface FakeVendor {
  name: string;
  /** `path` is the request target, query string included. */
  route(method: string, path: string): boolean;
  /** null when the credentials are accepted, else the vendor's error answer. */
  authorize(headers: IncomingHttpHeaders, apiKey: string | undefined, path: string): FakeAnswer | null;
  /** `headers` carry the `x-fake-tool-calls` forcing (the server-wide one when the request has none). */
  handle(body: unknown, path: string, headers: IncomingHttpHeaders): FakeAnswer | FakeEventStream;
}

export const FAKE_VENDORS = { openai: openaiResponses, anthropic: anthropicMessages, gemini } as const;
export type FakeVendorName = keyof typeof FAKE_VENDORS;

export interface RecordedVendorRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: unknown;
}

export interface FakeVendorServer {
  /** Origin without `/v1`, e.g. http://127.0.0.1:41234. */
  readonly url: string;
  /** Requests received (only filled with `record: true`), headers as sent; tests may clear it with `length = 0`. */
  readonly requests: RecordedVendorRequest[];
  /** Forces these tool calls on every generation request without its own `x-fake-tool-calls`; undefined clears. */
  setForcedToolCalls(calls: ForcedToolCall[] | undefined): void;
  close(): Promise<void>;
}

export interface FakeVendorOptions {
  /** The only key accepted; any non-empty key when absent. */
  apiKey?: string;
  record?: boolean;
  port?: number;
  host?: string;
  /** Initial server-wide forced tool calls (see `setForcedToolCalls`). */
  forcedToolCalls?: ForcedToolCall[];
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function sendJson(res: ServerResponse, { status, body }: FakeAnswer): void {
  const data = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) });
  res.end(data);
}

/** One `res.write` per event, so clients see the events arrive separately. */
function sendEvents(res: ServerResponse, { status, events }: FakeEventStream): void {
  res.writeHead(status, SSE_HEADERS);
  for (const { event, data } of events) {
    if (res.destroyed) return; // client gone
    res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  }
  res.end();
}

export async function startFakeVendor(name: FakeVendorName, options: FakeVendorOptions = {}): Promise<FakeVendorServer> {
  const vendor: FakeVendor = FAKE_VENDORS[name];
  const requests: RecordedVendorRequest[] = [];
  let forced = options.forcedToolCalls;
  const server = createServer(async (req, res) => {
    const method = req.method ?? 'GET';
    const path = req.url ?? '/';
    const text = await readBody(req);
    let body: unknown = text === '' ? undefined : text;
    try {
      body = text === '' ? undefined : JSON.parse(text);
    } catch {
      // kept as text; the vendor's validation rejects it
    }
    if (options.record) requests.push({ method, path, headers: req.headers, body });
    if (!vendor.route(method, path)) return sendJson(res, { status: 404, body: { error: { message: `no route ${method} ${path}` } } });
    const denied = vendor.authorize(req.headers, options.apiKey, path);
    if (denied) return sendJson(res, denied);
    const headers = forced && req.headers[TOOL_CALLS_HEADER] === undefined ? { ...req.headers, [TOOL_CALLS_HEADER]: JSON.stringify(forced) } : req.headers;
    let answer: FakeAnswer | FakeEventStream;
    try {
      answer = vendor.handle(body, path, headers);
    } catch (err) {
      return sendJson(res, { status: 500, body: { error: { message: `fake ${vendor.name} failed: ${(err as Error).message}` } } });
    }
    if ('events' in answer) sendEvents(res, answer);
    else sendJson(res, answer);
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${options.host ?? '127.0.0.1'}:${port}`,
    requests,
    setForcedToolCalls(calls) {
      forced = calls;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
