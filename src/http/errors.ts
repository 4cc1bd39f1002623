/**
 * Errors as clients see them: the OpenAI error body `{"error":{"message","type","code","param"}}`.
 * Every failure on the request path is a GatewayError so the handler can answer and audit it uniformly.
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

export class GatewayError extends Error {
  constructor(
    readonly status: number,
    readonly type: ErrorType,
    readonly code: string,
    message: string,
    readonly param: string | null = null,
    /** Extra fields merged into the error object (e.g. the deciding policy and rule of a 403). */
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'GatewayError';
  }

  toBody(): OpenAIErrorBody {
    return { error: { message: this.message, type: this.type, code: this.code, param: this.param, ...this.extra } };
  }
}

export const badRequest = (code: string, message: string, param: string | null = null) =>
  new GatewayError(400, 'invalid_request_error', code, message, param);

/** Fail-closed audit: new requests are refused while the audit store is failing. */
export const auditUnavailable = () =>
  new GatewayError(503, 'server_error', 'audit_unavailable', 'The audit store is failing; requests are refused until it recovers (CZ_GATEWAY_AUDIT_FAILURE_MODE=closed)');

export const notFound = (code: string, message: string) => new GatewayError(404, 'not_found_error', code, message);
