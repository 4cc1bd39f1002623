/** Building audit records: one per request, started when it arrives and completed exactly once when it ends. */
import { randomBytes } from 'node:crypto';
import type { AuditRecord } from '../store/types.js';

let lastMs = 0;
let counter = 0;
const processTag = randomBytes(3).toString('hex');

/** Time-ordered, unique request id: "req_" + ms timestamp + per-ms counter + process tag. */
export function newRequestId(now: number): string {
  if (now === lastMs) counter++;
  else {
    lastMs = now;
    counter = 0;
  }
  return `req_${now.toString(36).padStart(9, '0')}${counter.toString(36).padStart(3, '0')}${processTag}`;
}

/** Milliseconds since a performance.now() reading, to the microsecond (audit latencies). */
export function elapsedMs(since: number): number {
  return Math.round((performance.now() - since) * 1000) / 1000;
}

export function startRecord(method: string, route: string, now: number): AuditRecord {
  return {
    id: newRequestId(now),
    time: now,
    key_id: null,
    agent_id: null,
    provider: null,
    method,
    route,
    action: null,
    resource: null,
    model: null,
    decision: 'deny',
    reason_code: 'INCOMPLETE',
    policy: null,
    rule: null,
    status: 0,
    latency_ms: 0,
    upstream_latency_ms: null,
    streamed: false,
    client_aborted: false,
    prompt_tokens: null,
    completion_tokens: null,
    total_tokens: null,
    error_message: null,
    details: null,
  };
}

export interface Usage {
  prompt_tokens: number | null;
  completion_tokens: number | null;
  total_tokens: number | null;
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/**
 * Token usage from a response or stream event, if it carries one: OpenAI/Mistral names (`prompt_tokens`,
 * `completion_tokens`, `total_tokens`) or OpenAI Responses / Anthropic ones (`input_tokens`, `output_tokens`).
 * `total_tokens` is null when the provider does not state it (applyUsage derives it).
 */
export function usageOf(body: unknown): Usage | null {
  const usage = (body as { usage?: unknown } | null)?.usage;
  if (typeof usage !== 'object' || usage === null) return null;
  const u = usage as Record<string, unknown>;
  return {
    prompt_tokens: num(u.prompt_tokens) ?? num(u.input_tokens),
    completion_tokens: num(u.completion_tokens) ?? num(u.output_tokens),
    total_tokens: num(u.total_tokens),
  };
}

/** Merges usage into the record: streams may report it in parts (Anthropic: input first, output at the end). */
export function applyUsage(record: AuditRecord, usage: Usage): void {
  if (usage.prompt_tokens !== null) record.prompt_tokens = usage.prompt_tokens;
  if (usage.completion_tokens !== null) record.completion_tokens = usage.completion_tokens;
  record.total_tokens =
    usage.total_tokens ?? (record.prompt_tokens !== null && record.completion_tokens !== null ? record.prompt_tokens + record.completion_tokens : record.total_tokens);
}
