/**
 * Upstream failures, the same on every governed path: provider error answers translated into gateway errors (the
 * provider's own message is kept; statuses that would mislead the client are mapped: the provider rejecting the
 * gateway's provider key is not the client's authentication failure, and provider outages are 502s), and failures
 * to reach or read the provider (502 unreachable/reset, 504 timeout).
 */
import { errors as undiciErrors } from 'undici';
import { GatewayError, ProviderError, type ErrorType } from '../http/errors.js';

/** Extracts a readable message from the error bodies OpenAI-compatible providers send. */
export function upstreamMessage(text: string): { message: string; code: string | null; param: string | null; body: Record<string, unknown> | null } {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return { message: text.slice(0, 500) || 'no body', code: null, param: null, body: null };
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return { message: text.slice(0, 500), code: null, param: null, body: null };
  const b = body as Record<string, unknown>;
  const inner = (typeof b.error === 'object' && b.error !== null ? b.error : b) as Record<string, unknown>;
  const code = typeof inner.code === 'string' ? inner.code : typeof inner.code === 'number' ? String(inner.code) : null;
  const param = typeof inner.param === 'string' ? inner.param : null;
  if (typeof inner.message === 'string') return { message: inner.message, code, param, body: b };
  if (inner.message !== undefined) return { message: JSON.stringify(inner.message), code, param, body: b };
  if (b.detail !== undefined) return { message: typeof b.detail === 'string' ? b.detail : JSON.stringify(b.detail), code, param, body: b };
  return { message: text.slice(0, 500), code, param, body: b };
}

/**
 * A provider's error answer (status >= 400), as the gateway answers it. `keyVariable` names the provider-key setting.
 * A 4xx the provider judged the client's keeps the provider's JSON body (a ProviderError) unless `keepBody` is false
 * (templated endpoints, whose clients do not speak the vendor's API); the provider rejecting the gateway's
 * credentials, and provider failures, are the gateway's errors to tell.
 */
export function upstreamErrorToGateway(
  provider: string,
  status: number,
  text: string,
  { keyVariable = `CZ_GATEWAY_${provider.toUpperCase().replace(/-/g, '_')}_API_KEY`, keepBody = true }: { keyVariable?: string; keepBody?: boolean } = {},
): GatewayError {
  const { message, code, param, body } = upstreamMessage(text);
  const extra = { upstream_status: status, provider };
  if (status === 401 || status === 403) {
    return new GatewayError(
      502,
      'upstream_error',
      'upstream_authentication_failed',
      `Provider ${provider} rejected the gateway's provider credentials (${status}: ${message}); check ${keyVariable}`,
      null,
      extra,
    );
  }
  if (status >= 500) {
    return new GatewayError(502, 'upstream_error', 'upstream_server_error', `Provider ${provider} failed with ${status}: ${message}`, null, extra);
  }
  const type: ErrorType = status === 429 ? 'rate_limit_error' : status === 404 ? 'not_found_error' : 'invalid_request_error';
  const fallbackCode = status === 429 ? 'upstream_rate_limited' : 'upstream_invalid_request';
  if (body && keepBody) return new ProviderError(status, type, code ?? fallbackCode, `Provider ${provider}: ${message}`, param, extra, body);
  return new GatewayError(status, type, code ?? fallbackCode, `Provider ${provider}: ${message}`, param, extra);
}

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'UND_ERR_SOCKET']);

/** True for a failure of the connection to the provider (undici's errors, network error codes), not of the gateway. */
export function isUpstreamFailure(err: unknown): boolean {
  if (err instanceof undiciErrors.UndiciError) return true;
  const e = err as { code?: unknown; cause?: { code?: unknown } } | null;
  const code = e?.code ?? e?.cause?.code;
  return typeof code === 'string' && NETWORK_CODES.has(code);
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
