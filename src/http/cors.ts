/**
 * CORS for browser clients (CZ_GATEWAY_CORS_ORIGINS), on provider routes and templated endpoints only: the admin API
 * is never offered to other origins. Preflights are answered before authentication (a browser sends no credentials
 * with them); an allowed origin's responses name it and expose the gateway's and the provider's headers a client
 * reads. Gateway keys travel in headers, never cookies, so credentials mode is not offered.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

/** `*` (any origin) or exact origins (`https://app.example.com`). */
export type CorsOrigins = '*' | ReadonlySet<string>;

/** The headers a browser client may read from a response. */
const EXPOSED = [
  'x-tollgate-request-id',
  'x-tollgate-decision',
  'x-tollgate-warning',
  'x-tollgate-policy-mode',
  'retry-after',
  'retry-after-ms',
  'x-ratelimit-limit-requests',
  'x-ratelimit-remaining-requests',
  'x-ratelimit-limit-tokens',
  'x-ratelimit-remaining-tokens',
  'x-ratelimit-limit-req-minute',
  'x-ratelimit-remaining-req-minute',
  'x-ratelimit-limit-tokens-minute',
  'x-ratelimit-remaining-tokens-minute',
  'x-request-id',
].join(', ');

const METHODS = 'GET, POST, DELETE, OPTIONS';
/** How long a browser may reuse a preflight's answer, in seconds. */
const MAX_AGE = '600';

export class Cors {
  constructor(private readonly origins: CorsOrigins) {}

  private allows(origin: string): boolean {
    return this.origins === '*' || this.origins.has(origin);
  }

  /**
   * For a request on a route CORS covers: an allowed origin's preflight is answered here (`answered`); any other
   * request from an allowed origin gets the response headers that let the browser read its answer (`continue`); a
   * preflight from an origin not allowed is left to the caller to refuse and audit (`refused`).
   */
  handle(req: IncomingMessage, res: ServerResponse): 'answered' | 'refused' | 'continue' {
    const origin = req.headers.origin;
    if (origin === undefined) return 'continue';
    const preflight = req.method === 'OPTIONS' && req.headers['access-control-request-method'] !== undefined;
    if (!this.allows(origin)) return preflight ? 'refused' : 'continue';
    res.setHeader('access-control-allow-origin', this.origins === '*' ? '*' : origin);
    if (this.origins !== '*') res.setHeader('vary', 'Origin');
    if (!preflight) {
      res.setHeader('access-control-expose-headers', EXPOSED);
      return 'continue';
    }
    res.setHeader('access-control-allow-methods', METHODS);
    const requested = req.headers['access-control-request-headers'];
    if (requested) res.setHeader('access-control-allow-headers', requested);
    res.setHeader('access-control-max-age', MAX_AGE);
    res.writeHead(204);
    res.end();
    return 'answered';
  }
}
