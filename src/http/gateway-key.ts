/** Reading the caller's identity headers (shared by every governed request path). */
import type { IncomingMessage } from 'node:http';

/** A non-empty single-valued header, or undefined. */
/** The header a client names its calling agent with (audited; the `agent_id` of policy conditions). */
export const AGENT_ID_HEADER = 'x-controlzero-agent-id';
/** Longest agent id accepted: ids are stored once per distinct value and shown in every listing, so they stay short. */
export const MAX_AGENT_ID_LENGTH = 128;

export function headerValue(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/**
 * The gateway key: X-ControlZero-API-Key wins (it leaves Authorization to tools that need it); on the Anthropic
 * wire, `x-api-key` (what Anthropic's SDKs send); else the bearer token.
 */
export function gatewayKey(req: IncomingMessage, wire: 'openai' | 'anthropic' = 'openai'): string | undefined {
  const explicit = headerValue(req, 'x-controlzero-api-key') ?? (wire === 'anthropic' ? headerValue(req, 'x-api-key') : undefined);
  if (explicit) return explicit.trim();
  const auth = headerValue(req, 'authorization');
  if (!auth) return undefined;
  return auth.toLowerCase().startsWith('bearer ') ? auth.slice(7).trim() : undefined;
}
