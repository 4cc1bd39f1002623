/**
 * The error catalogue: every failure on a governed request path is a GatewayError carrying its HTTP status, its
 * client-facing type and code, and what the audit record must say about it (reason code, and for denials the
 * decision). The exchange writes those once (src/pipeline/exchange.ts); nothing else sets `reason_code` by hand.
 * Clients see the error in their own API's shape (`ErrorShape`): OpenAI's `{"error":{message,type,code,param}}`
 * by default, Anthropic's `{"type":"error","error":{type,message}}` on the Anthropic provider.
 */
export type ErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'permission_error'
  | 'not_found_error'
  | 'rate_limit_error'
  | 'upstream_error'
  | 'timeout_error'
  | 'server_error';

export interface OpenAIErrorBody {
  error: {
    message: string;
    type: ErrorType;
    code: string | null;
    param: string | null;
    [extra: string]: unknown;
  };
}

/** What an error means for the audit record; absent fields leave the record as the request left it. */
export interface ErrorAudit {
  reason_code?: string;
  decision?: 'deny';
  policy?: string | null;
  rule?: string | null;
}

export class GatewayError extends Error {
  constructor(
    readonly status: number,
    readonly type: ErrorType,
    readonly code: string,
    message: string,
    readonly param: string | null = null,
    /** Extra fields merged into the error object (e.g. the deciding policy and rule of a 403). */
    readonly extra: Record<string, unknown> = {},
    readonly audit: ErrorAudit = {},
  ) {
    super(message);
    this.name = 'GatewayError';
  }

  toBody(): OpenAIErrorBody {
    return { error: { message: this.message, type: this.type, code: this.code, param: this.param, ...this.extra } };
  }
}

/** The wire API whose error format a client expects. */
/**
 * `openai`: `{error: {message, type, code, param, ...}}`. `anthropic`: `{type: "error", error: {type, message, ...}}`.
 * `mistral`: Mistral's own error object (`object: "error"`, `message`, `type`, `param`, `code`: what Mistral's clients,
 * e.g. @ai-sdk/mistral, read) that is also OpenAI's (its `error` member: what OpenAI clients read), one body for both.
 */
export type ErrorShape = 'openai' | 'anthropic' | 'mistral';

const ANTHROPIC_TYPES: Record<ErrorType, string> = {
  invalid_request_error: 'invalid_request_error',
  authentication_error: 'authentication_error',
  permission_error: 'permission_error',
  not_found_error: 'not_found_error',
  rate_limit_error: 'rate_limit_error',
  upstream_error: 'api_error',
  timeout_error: 'api_error',
  server_error: 'api_error',
};

/** The error body in the client's API shape; the gateway's own fields (code, param, policy, ...) are kept. */
export function errorBody(err: GatewayError, shape: ErrorShape): unknown {
  if (shape === 'anthropic') {
    return { type: 'error', error: { type: ANTHROPIC_TYPES[err.type], message: err.message, code: err.code, param: err.param, ...err.extra } };
  }
  const body = err.toBody();
  if (shape === 'mistral') return { ...err.extra, object: 'error', message: err.message, type: err.type, param: err.param, code: err.code, ...body };
  return body;
}

/**
 * How a stream reports an error once its headers are sent, in the API's own terms: `openai` a `data:` event holding
 * the error body (what the OpenAI SDKs raise on), `openai-responses` the Responses API's `error` event (`type`,
 * `code`, `message`, `param`) that also carries the error body (so the SDK raises it too), `anthropic` an `error`
 * event, `mistral-conversations` a `conversation.response.error` event (what the Mistral SDK reads).
 */
export type StreamErrorFormat = ErrorShape | 'openai-responses' | 'mistral-conversations';

/** The in-band error event that ends a stream whose headers are already sent. */
export function streamErrorEvent(err: GatewayError, format: StreamErrorFormat): string {
  if (format === 'mistral-conversations') {
    const event = { type: 'conversation.response.error', message: err.message, code: err.status, created_at: new Date().toISOString() };
    return `event: conversation.response.error\ndata: ${JSON.stringify(event)}\n\n`;
  }
  if (format === 'openai-responses') {
    const event = { type: 'error', code: err.code, message: err.message, param: err.param, ...(err.toBody() as object) };
    return `event: error\ndata: ${JSON.stringify(event)}\n\n`;
  }
  // Mistral's and OpenAI's streams both end with the error body as a data event.
  const data = JSON.stringify(errorBody(err, format));
  return format === 'anthropic' ? `event: error\ndata: ${data}\n\n` : `data: ${data}\n\n`;
}

const INVALID_REQUEST: ErrorAudit = { reason_code: 'INVALID_REQUEST' };

/** A failure of the gateway itself (a bug): never blamed on the provider. */
export const internalError = (err: unknown) =>
  new GatewayError(500, 'server_error', 'internal_error', `Internal gateway error: ${(err as Error)?.message ?? String(err)}`, null, {}, { reason_code: 'INTERNAL_ERROR' });

/** A request still in flight when the shutdown grace period ended. */
export const gatewayShuttingDown = () =>
  new GatewayError(503, 'server_error', 'gateway_shutting_down', 'gateway shutting down: the request was cut off at the end of the shutdown grace period', null, {}, {
    reason_code: 'GATEWAY_SHUTDOWN',
  });

export const badRequest = (code: string, message: string, param: string | null = null) =>
  new GatewayError(400, 'invalid_request_error', code, message, param, {}, INVALID_REQUEST);

/** Fail-closed audit: new requests are refused while the audit store is failing. */
export const auditUnavailable = () =>
  new GatewayError(503, 'server_error', 'audit_unavailable', 'The audit store is failing; requests are refused until it recovers (CZ_GATEWAY_AUDIT_FAILURE_MODE=closed)', null, {}, {
    reason_code: 'AUDIT_UNAVAILABLE',
  });

export const notFound = (code: string, message: string, reasonCode = code === 'unknown_provider' ? 'UNKNOWN_PROVIDER' : 'UNKNOWN_ROUTE') =>
  new GatewayError(404, 'not_found_error', code, message, null, {}, { reason_code: reasonCode });

/** A browser preflight from an origin CZ_GATEWAY_CORS_ORIGINS does not list. */
export const corsOriginNotAllowed = (origin: string) =>
  new GatewayError(403, 'permission_error', 'cors_origin_not_allowed', `Origin ${JSON.stringify(origin)} may not call the gateway from a browser (CZ_GATEWAY_CORS_ORIGINS)`, null, {}, {
    decision: 'deny',
    reason_code: 'CORS_ORIGIN_NOT_ALLOWED',
  });

export const methodNotAllowed = (message: string) =>
  new GatewayError(405, 'invalid_request_error', 'method_not_allowed', message, null, {}, { reason_code: 'UNKNOWN_ROUTE' });

export const authenticationFailed = (code: string, message: string) =>
  new GatewayError(401, 'authentication_error', code, message, null, {}, { reason_code: `AUTH_${code.toUpperCase()}` });

export const invalidRequest = (status: number, code: string, message: string) =>
  new GatewayError(status, 'invalid_request_error', code, message, null, {}, INVALID_REQUEST);

/** A denial (policy, DLP, tool call): 403 naming what decided it; the audit record carries the same. */
export function denied(code: string, message: string, reasonCode: string, policy: string | null, rule: string | null, extra: Record<string, unknown> = {}) {
  return new GatewayError(403, 'permission_error', code, message, null, { ...extra, reason_code: reasonCode }, { decision: 'deny', reason_code: reasonCode, policy, rule });
}

/** The provider answered something the gateway cannot read where it must (tool calls may be in it): fail closed. */
export const upstreamInvalidResponse = (provider: string, what: string) =>
  new GatewayError(502, 'upstream_error', 'upstream_invalid_response', `Provider ${provider} ${what}; the gateway cannot govern it, so it is not relayed`);

/** Error mode: a returned tool call was denied; names the tool and the deciding policy and rule. */
export function toolCallDenied(verdict: { name: string; policy: string | null; rule: string | null; reason: string; reason_code: string }): GatewayError {
  const { name, policy, rule, reason, reason_code } = verdict;
  const by = policy ? ` by policy "${policy}"${rule ? ` (rule ${rule})` : ''}` : '';
  return denied('tool_call_denied', `Tool call "${name}" denied${by}: ${reason}`, reason_code, policy, rule, { policy, rule, tool: name });
}
