/**
 * One configured provider as an upstream: its shared connection pool, its path rewrites and wire adapters, and the
 * headers it is sent (the client's, minus hop-by-hop and private ones, plus the provider's own credentials).
 */
import type { Dispatcher, Pool } from 'undici';
import type { IncomingHttpHeaders } from 'node:http';
import type { ProviderConfig } from '../config/providers.js';
import { FORWARDING_HEADERS } from '../http/forwarded.js';
import type { UpstreamPools } from '../upstream/pools.js';
import { openAiCompletionsViaMistralFim, type WireAdapter } from './fim-adapter.js';

/**
 * Headers that describe one hop, never forwarded (RFC 9110 7.6.1), plus ones the gateway owns. `expect` too: the
 * gateway answers `100 Continue` to its client itself (node:http does), and undici refuses to send it.
 */
const HOP_BY_HOP = new Set([
  'connection',
  'expect',
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

/** Client headers never sent upstream: the caller's credentials (in any header clients put keys in) and the gateway's own. */
function isPrivateRequestHeader(name: string): boolean {
  return (
    name === 'authorization' ||
    name === 'x-api-key' ||
    name === 'api-key' ||
    name === 'cookie' ||
    name.startsWith('x-controlzero-') ||
    name === 'accept-encoding' ||
    CLIENT_FORWARDING.has(name)
  );
}

/** The client's forwarding headers: replaced by the gateway's own (src/http/forwarded.ts). */
const CLIENT_FORWARDING = new Set(FORWARDING_HEADERS);

/** The headers a message's `Connection` header names: hop-by-hop for that message only (RFC 9110 7.6.1). */
function connectionOptions(headers: IncomingHttpHeaders | Record<string, string | string[] | undefined>): Set<string> | null {
  const value = headers.connection;
  if (value === undefined) return null;
  // The usual values name no other header: no parsing on the hot path.
  if (typeof value === 'string' && /^\s*(?:keep-alive|close)\s*$/i.test(value)) return null;
  const names = (Array.isArray(value) ? value.join(',') : value).split(',').map((n) => n.trim().toLowerCase()).filter(Boolean);
  return names.length > 0 ? new Set(names) : null;
}

/** Copies `headers` without hop-by-hop ones, the ones `Connection` names, and those `skip` says. */
function forwardable(
  headers: IncomingHttpHeaders | Record<string, string | string[] | undefined>,
  skip: (name: string) => boolean,
): Record<string, string | string[]> {
  const named = connectionOptions(headers);
  const out: Record<string, string | string[]> = {};
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined || HOP_BY_HOP.has(name) || skip(name) || named?.has(name)) continue;
    out[name] = value;
  }
  return out;
}

/** The Anthropic API version sent when the client names none. */
export const DEFAULT_ANTHROPIC_VERSION = '2023-06-01';

export class Upstream {
  readonly pool: Pool;
  private readonly basePath: string;

  constructor(
    readonly config: ProviderConfig,
    pools: UpstreamPools,
  ) {
    const url = new URL(config.baseUrl);
    this.basePath = url.pathname === '/' ? '' : url.pathname;
    this.pool = pools.get(url.origin, { timeoutMs: config.timeoutMs, maxConnections: config.maxConnections });
  }

  /** The wire translation a client path needs, if any: OpenAI completions rewritten to FIM speak FIM's format. */
  adapter(subpath: string): WireAdapter | null {
    return this.config.pathRewrites[subpath] === '/fim/completions' && subpath === '/completions' ? openAiCompletionsViaMistralFim : null;
  }

  /** Upstream path for a client path after `/v1`, applying the provider's rewrites (e.g. Mistral FIM). */
  path(subpath: string, search: string): string {
    return `${this.basePath}/v1${this.config.pathRewrites[subpath] ?? subpath}${search}`;
  }

  /** Client headers minus hop-by-hop and private ones, plus the gateway's forwarding headers and the provider's key. */
  requestHeaders(incoming: IncomingHttpHeaders, contentLength: number | null, forwarding: Record<string, string> = {}): Record<string, string | string[]> {
    const out = Object.assign(forwardable(incoming, isPrivateRequestHeader), forwarding);
    if (this.config.wire === 'anthropic') {
      out['x-api-key'] = this.config.apiKey;
      out['anthropic-version'] ??= DEFAULT_ANTHROPIC_VERSION;
    } else out.authorization = `Bearer ${this.config.apiKey}`;
    // The gateway reads response bodies (usage, tool calls), so it asks for them uncompressed.
    out['accept-encoding'] = 'identity';
    if (contentLength !== null) out['content-length'] = String(contentLength);
    return out;
  }

  request(options: Omit<Dispatcher.RequestOptions, 'origin'>): Promise<Dispatcher.ResponseData> {
    return this.pool.request(options);
  }
}

/** Upstream response headers to pass to the client. */
export function responseHeaders(headers: IncomingHttpHeaders | Record<string, string | string[] | undefined>): Record<string, string | string[]> {
  return forwardable(headers, () => false);
}
