/**
 * Small fakes of the vendors behind templated endpoints (OpenAI Responses, Anthropic Messages, Gemini), for tests
 * and demos without internet: each checks the vendor's authentication and request format and answers in its wire
 * format (errors included). Requests can be recorded for assertions.
 */
import { createServer, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { anthropicMessages } from './anthropic-messages.js';
import { gemini } from './gemini.js';
import { openaiResponses } from './openai-responses.js';

export interface FakeAnswer {
  status: number;
  body: unknown;
}

/** One vendor's behaviour; pure. */
export interface FakeVendor {
  name: string;
  route(method: string, path: string): boolean;
  /** null when the credentials are accepted, else the vendor's error answer. */
  authorize(headers: IncomingHttpHeaders, apiKey: string | undefined, path: string): FakeAnswer | null;
  handle(body: unknown, path: string): FakeAnswer;
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
  readonly url: string;
  readonly requests: RecordedVendorRequest[];
  close(): Promise<void>;
}

export interface FakeVendorOptions {
  /** The only key accepted; any non-empty key when absent. */
  apiKey?: string;
  record?: boolean;
  port?: number;
  host?: string;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export async function startFakeVendor(name: FakeVendorName, options: FakeVendorOptions = {}): Promise<FakeVendorServer> {
  const vendor = FAKE_VENDORS[name];
  const requests: RecordedVendorRequest[] = [];
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
    const answer = !vendor.route(method, path)
      ? { status: 404, body: { error: { message: `no route ${method} ${path}` } } }
      : (vendor.authorize(req.headers, options.apiKey, path) ?? vendor.handle(body, path));
    const data = JSON.stringify(answer.body);
    res.writeHead(answer.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) });
    res.end(data);
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${options.host ?? '127.0.0.1'}:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
