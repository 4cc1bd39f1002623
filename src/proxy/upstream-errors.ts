/**
 * Provider error answers, translated into the OpenAI error shape clients expect. The provider's own message is kept;
 * statuses that would mislead the client are mapped (the provider rejecting the gateway's provider key is not the
 * client's authentication failure, and provider outages are 502s).
 */
import { GatewayError, type ErrorType } from '../http/errors.js';

/** Extracts a readable message from the error bodies OpenAI-compatible providers send. */
export function upstreamMessage(text: string): { message: string; code: string | null; param: string | null } {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return { message: text.slice(0, 500) || 'no body', code: null, param: null };
  }
  const b = body as Record<string, unknown>;
  const inner = (typeof b.error === 'object' && b.error !== null ? b.error : b) as Record<string, unknown>;
  const code = typeof inner.code === 'string' ? inner.code : typeof inner.code === 'number' ? String(inner.code) : null;
  const param = typeof inner.param === 'string' ? inner.param : null;
  if (typeof inner.message === 'string') return { message: inner.message, code, param };
  if (inner.message !== undefined) return { message: JSON.stringify(inner.message), code, param };
  if (b.detail !== undefined) return { message: typeof b.detail === 'string' ? b.detail : JSON.stringify(b.detail), code, param };
  return { message: text.slice(0, 500), code, param };
}

export function upstreamErrorToGateway(provider: string, status: number, text: string): GatewayError {
  const { message, code, param } = upstreamMessage(text);
  const extra = { upstream_status: status, provider };
  if (status === 401 || status === 403) {
    return new GatewayError(
      502,
      'upstream_error',
      'upstream_authentication_failed',
      `Provider ${provider} rejected the gateway's provider credentials (${status}: ${message}); check CZ_GATEWAY_${provider.toUpperCase().replace(/-/g, '_')}_API_KEY`,
      null,
      extra,
    );
  }
  if (status >= 500) {
    return new GatewayError(502, 'upstream_error', 'upstream_server_error', `Provider ${provider} failed with ${status}: ${message}`, null, extra);
  }
  const type: ErrorType = status === 429 ? 'rate_limit_error' : status === 404 ? 'not_found_error' : 'invalid_request_error';
  const fallbackCode = status === 429 ? 'upstream_rate_limited' : 'upstream_invalid_request';
  return new GatewayError(status, type, code ?? fallbackCode, `Provider ${provider}: ${message}`, param, extra);
}
