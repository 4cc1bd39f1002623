/**
 * Connections to the providers: one keep-alive undici Pool per provider, and the translation of low-level failures
 * into the gateway's errors (502 unreachable/reset, 504 timeout).
 */
import { Pool, errors as undiciErrors, type Dispatcher } from 'undici';
import type { IncomingHttpHeaders } from 'node:http';
import type { ProviderConfig } from '../config/providers.js';
import { GatewayError } from '../http/errors.js';
import { openAiCompletionsViaMistralFim, type WireAdapter } from './fim-adapter.js';

/** Headers that describe one hop, never forwarded (RFC 9110 7.6.1), plus ones the gateway owns. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
  'content-length',
]);

/** Client headers never sent upstream: the caller's credentials and the gateway's own control headers. */
function isPrivateRequestHeader(name: string): boolean {
  return name === 'authorization' || name === 'cookie' || name.startsWith('x-controlzero-') || name === 'accept-encoding';
}

export class Upstream {
  readonly pool: Pool;
  private readonly basePath: string;

  constructor(readonly config: ProviderConfig) {
    const url = new URL(config.baseUrl);
    this.basePath = url.pathname === '/' ? '' : url.pathname;
    this.pool = new Pool(url.origin, {
      connections: 512,
      pipelining: 1,
      keepAliveTimeout: 30_000,
      headersTimeout: config.timeoutMs,
      bodyTimeout: config.timeoutMs,
    });
  }

  /** The wire translation a client path needs, if any: OpenAI completions rewritten to FIM speak FIM's format. */
  adapter(subpath: string): WireAdapter | null {
    return this.config.pathRewrites[subpath] === '/fim/completions' && subpath === '/completions' ? openAiCompletionsViaMistralFim : null;
  }

  /** Upstream path for a client path after `/v1`, applying the provider's rewrites (e.g. Mistral FIM). */
  path(subpath: string, search: string): string {
    return `${this.basePath}/v1${this.config.pathRewrites[subpath] ?? subpath}${search}`;
  }

  /** Client headers minus hop-by-hop and private ones, plus the provider's key. */
  requestHeaders(incoming: IncomingHttpHeaders, contentLength: number | null): Record<string, string | string[]> {
    const out: Record<string, string | string[]> = {};
    for (const name in incoming) {
      const value = incoming[name];
      if (value === undefined || HOP_BY_HOP.has(name) || isPrivateRequestHeader(name)) continue;
      out[name] = value;
    }
    out.authorization = `Bearer ${this.config.apiKey}`;
    // The gateway reads response bodies (usage, tool calls), so it asks for them uncompressed.
    out['accept-encoding'] = 'identity';
    if (contentLength !== null) out['content-length'] = String(contentLength);
    return out;
  }

  request(options: Omit<Dispatcher.RequestOptions, 'origin'>): Promise<Dispatcher.ResponseData> {
    return this.pool.request(options);
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

/** Upstream response headers to pass to the client. */
export function responseHeaders(headers: IncomingHttpHeaders | Record<string, string | string[] | undefined>): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined || HOP_BY_HOP.has(name)) continue;
    out[name] = value;
  }
  return out;
}

/** Maps a failure to reach or read the provider to the client-facing error. */
export function upstreamFailure(provider: string, err: unknown): GatewayError {
  const e = err as { code?: string; message?: string; cause?: { code?: string } };
  const code = e.code ?? e.cause?.code;
  if (err instanceof undiciErrors.HeadersTimeoutError || err instanceof undiciErrors.BodyTimeoutError) {
    return new GatewayError(504, 'timeout_error', 'upstream_timeout', `Provider ${provider} did not answer in time`);
  }
  if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EHOSTUNREACH') {
    return new GatewayError(502, 'upstream_error', 'upstream_unreachable', `Cannot reach provider ${provider}: ${code}`);
  }
  if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET' || err instanceof undiciErrors.SocketError) {
    return new GatewayError(502, 'upstream_error', 'upstream_connection_reset', `Provider ${provider} closed the connection before the response was complete`);
  }
  return new GatewayError(502, 'upstream_error', 'upstream_failed', `Provider ${provider} request failed: ${e.message ?? String(err)}`);
}
