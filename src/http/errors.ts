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

/**
 * A provider's own error answer (a 4xx it judged the client's), relayed with the provider's body as it was: its
 * `detail`, `message` and codes are what that provider's clients parse. `message` is the gateway's reading of it.
 */
export class ProviderError extends GatewayError {
  constructor(
    status: number,
    type: ErrorType,
    code: string,
    message: string,
    param: string | null,
    extra: Record<string, unknown>,
    readonly providerBody: Record<string, unknown>,
  ) {
    super(status, type, code, message, param, extra);
    this.name = 'ProviderError';
  }
}

/** The error body in the client's API shape; the gateway's own fields (code, param, policy, ...) are kept. */
export function errorBody(err: GatewayError, shape: ErrorShape): unknown {
  if (err instanceof ProviderError) return providerErrorBody(err, shape);
  if (shape === 'anthropic') {
    return { type: 'error', error: { type: ANTHROPIC_TYPES[err.type], message: err.message, code: err.code, param: err.param, ...err.extra } };
  }
  const body = err.toBody();
  // `message` leads: the Mistral SDK shows 4xx bodies raw, and a reader sees the reason first.
  if (shape === 'mistral') return { object: 'error', message: err.message, type: err.type, param: err.param, code: err.code, ...err.extra, ...body };
  return body;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The provider's body unchanged, completed only where it lacks what the client's SDKs read: the error envelope of
 * the shape (`error: {...}` for OpenAI's and Anthropic's clients, Mistral's top-level fields for Mistral's), Mistral's
 * 422 list also at top-level `detail` (where the Mistral SDK's HTTPValidationError reads it; api.mistral.ai nests it
 * in `message`), and the gateway's fields (provider, upstream_status) in the envelope where they do not collide.
 */
function providerErrorBody(err: ProviderError, shape: ErrorShape): Record<string, unknown> {
  const body: Record<string, unknown> = { ...err.providerBody };
  const envelope = shape === 'anthropic'
    ? { type: ANTHROPIC_TYPES[err.type], message: err.message }
    : { message: err.message, type: err.type, code: err.code, param: err.param };
  body.error = isObject(body.error) ? { ...err.extra, ...body.error } : { ...envelope, ...err.extra };
  const missing = (field: string, value: unknown) => {
    if (body[field] === undefined) body[field] = value;
  };
  if (shape === 'anthropic') missing('type', 'error');
  if (shape === 'mistral') {
    missing('object', 'error');
    missing('message', err.message);
    missing('type', err.type);
    missing('param', err.param);
    missing('code', err.code);
    if (body.detail === undefined && isObject(body.message) && Array.isArray(body.message.detail)) body.detail = body.message.detail;
  }
  return body;
}

/**
 * How a stream reports an error once its headers are sent, in the API's own terms: `openai` a `data:` event holding
 * the error body (what the OpenAI SDKs raise on), `openai-responses` the Responses API's `error` event (`type`,
 * `code`, `message`, `param`) that also carries the error body (so the SDK raises it too), `anthropic` an `error`
 * event, `mistral-conversations` a `conversation.response.error` event (what the Mistral SDK reads), `mistral-chunk`
 * a last completion chunk with `finish_reason: "error"` carrying the error body, then `[DONE]`: the Mistral SDK
 * validates every event as a chunk (an error body would crash it with a schema error), and "error" is its finish
 * reason for this.
 */
export type StreamErrorFormat = ErrorShape | 'openai-responses' | 'mistral-conversations' | 'mistral-chunk';

/** The in-band error event that ends a stream whose headers are already sent; `model` is the stream's. */
export function streamErrorEvent(err: GatewayError, format: StreamErrorFormat, model: string | null = null): string {
  if (format === 'mistral-conversations') {
    const event = { type: 'conversation.response.error', message: err.message, code: err.status, created_at: new Date().toISOString() };
    return `event: conversation.response.error\ndata: ${JSON.stringify(event)}\n\n`;
  }
  if (format === 'openai-responses') {
    const event = { type: 'error', code: err.code, message: err.message, param: err.param, ...(err.toBody() as object) };
    return `event: error\ndata: ${JSON.stringify(event)}\n\n`;
  }
  if (format === 'mistral-chunk') {
    const chunk = {
      id: 'error',
      object: 'chat.completion.chunk',
      created: Math.floor(Date.now() / 1000),
      model: model ?? '',
      choices: [{ index: 0, delta: { content: '' }, finish_reason: 'error' }],
      ...(errorBody(err, 'mistral') as object),
    };
    chunk.object = 'chat.completion.chunk';
    return `data: ${JSON.stringify(chunk)}\n\ndata: [DONE]\n\n`;
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
