/**
 * Error replies in the shapes api.mistral.ai uses (pure). Sources: Mistral's error glossary
 * (docs.mistral.ai/resources/error-glossary) for the `{"object":"error",...}` body, and bodies observed from the live
 * API in public bug reports: invalid model (400, type `invalid_model`, code "1500"), rate limit (429, type
 * `rate_limited`, code "1300"), message order (400, type `invalid_request_message_order`, code "3230"), validation
 * (422: the pydantic error list under `message.detail`, `{"object":"error","message":{"detail":[...]},"type":
 * "invalid_request_error","param":null,"code":null}`, as reported from the live API in 2024-2025), bad key (401 `{"detail":"Unauthorized"}`), unknown route (404 from the
 * API gateway: `{"message":"no Route matched with those values","request_id":...}`).
 */
import { randomUUID } from 'node:crypto';

export interface ErrorReply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

/** One entry of a pydantic validation error list, as in Mistral's 422 bodies. */
export interface ValidationDetail {
  type: string;
  loc: Array<string | number>;
  msg: string;
  input?: unknown;
}

const requestId = () => randomUUID().replaceAll('-', '');

export function mistralError(
  status: number,
  message: string,
  type: string,
  code: string | null = null,
  param: string | null = null,
): ErrorReply {
  return { status, body: { object: 'error', message, type, param, code, raw_status_code: status } };
}

export const unauthorized = (): ErrorReply => ({ status: 401, body: { detail: 'Unauthorized' } });

export const invalidModel = (model: string): ErrorReply =>
  mistralError(400, `Invalid model: ${model}`, 'invalid_model', '1500');

export const modelNotFound = (id: string): ErrorReply =>
  mistralError(404, `Model not found: ${id}`, 'invalid_model', '1500', 'model_id');

export const messageOrder = (lastRole: string): ErrorReply =>
  mistralError(
    400,
    `Expected last role User or Tool (or Assistant with prefix True) for serving but got ${lastRole}`,
    'invalid_request_message_order',
    '3230',
  );

/** Agents and Conversations (same `{"object":"error",...}` shape; the messages were not observed verbatim). */
export const agentNotFound = (id: string): ErrorReply =>
  mistralError(404, `Agent not found: ${JSON.stringify(id)}`, 'invalid_request_error', null, 'agent_id');

export const conversationNotFound = (id: string): ErrorReply =>
  mistralError(404, `Conversation not found: ${id}`, 'invalid_request_error', null, 'conversation_id');

export const entryNotFound = (conversationId: string, entryId: string): ErrorReply =>
  mistralError(400, `Entry ${entryId} not found in conversation ${conversationId}`, 'invalid_request_error', null, 'from_entry_id');

export const modelOrAgentRequired = (): ErrorReply =>
  mistralError(400, 'Either model or agent_id must be provided', 'invalid_request_error', null, 'model');

export const modelAndAgentExclusive = (): ErrorReply =>
  mistralError(400, 'model and agent_id are mutually exclusive: give one of them', 'invalid_request_error', null, 'model');

/** Append / restart without inputs: only valid to confirm pending tool calls, which the fake never leaves. */
export const inputsRequired = (): ErrorReply =>
  mistralError(400, 'inputs are required: no tool call of this conversation awaits confirmation', 'invalid_request_error', null, 'inputs');

export const invalidJson = (reason: string): ErrorReply =>
  mistralError(400, `Invalid JSON body: ${reason}`, 'invalid_request_error');

export const validationFailed = (detail: ValidationDetail[]): ErrorReply => ({
  status: 422,
  body: { object: 'error', message: { detail }, type: 'invalid_request_error', param: null, code: null },
});

export const rateLimited = (retryAfterSeconds: number): ErrorReply => ({
  ...mistralError(429, 'Rate limit exceeded', 'rate_limited', '1300'),
  headers: {
    'retry-after': String(retryAfterSeconds),
    'x-ratelimit-limit-req-minute': '60',
    'x-ratelimit-remaining-req-minute': '0',
    'x-ratelimit-limit-tokens-minute': '500000',
    'x-ratelimit-remaining-tokens-minute': '499000',
  },
});

const SERVER_MESSAGES: Record<number, string> = {
  500: 'Internal server error',
  502: 'Bad gateway',
  503: 'Service unavailable',
  504: 'Gateway timeout',
};

export const serverError = (status: number): ErrorReply =>
  mistralError(status, SERVER_MESSAGES[status] ?? 'Server error', 'server_error');

export const routeNotFound = (): ErrorReply => ({
  status: 404,
  body: { message: 'no Route matched with those values', request_id: requestId() },
});

export const methodNotAllowed = (): ErrorReply => ({ status: 405, body: { detail: 'Method Not Allowed' } });

/** Misuse of the fake's own test controls (x-fake-* headers); never something the real API sends. */
export const fakeControlError = (message: string): ErrorReply =>
  mistralError(400, `fake-mistral: ${message}`, 'invalid_request_error');

/** The reply for a `status=<code>` fault. */
export function errorForStatus(status: number, retryAfterSeconds: number): ErrorReply {
  if (status === 401) return unauthorized();
  if (status === 429) return rateLimited(retryAfterSeconds);
  if (status >= 500) return serverError(status);
  return mistralError(status, `Injected error ${status}`, 'invalid_request_error');
}
