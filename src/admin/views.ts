/** Public JSON views of stored objects: ISO times, and never a key's hash or secret. */
import type { Decision } from '../policy/index.js';
import type { ApiKeyRecord, AuditRecord, PolicyRecord } from '../store/types.js';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export function keyView(key: ApiKeyRecord, now: number) {
  return {
    id: key.id,
    name: key.name,
    prefix: key.prefix,
    attributes: key.attributes,
    created_at: iso(key.created_at),
    expires_at: iso(key.expires_at),
    revoked_at: iso(key.revoked_at),
    status: key.revoked_at !== null ? 'revoked' : key.expires_at !== null && key.expires_at <= now ? 'expired' : 'active',
  };
}

export function policyView(policy: PolicyRecord) {
  return {
    ...(policy.document as Record<string, unknown>),
    id: policy.id,
    name: policy.name,
    created_at: iso(policy.created_at),
    updated_at: iso(policy.updated_at),
  };
}

export function auditView(record: AuditRecord) {
  return { ...record, time: iso(record.time) };
}

/** A decision as `evaluateJsonLine` prints it (the shape POST /api/v1/evaluate answers). */
export function decisionView(d: Decision) {
  const { decision, reason_code, policy, rule, effect, reason, warnings, audit_full_request } = d;
  return { decision, reason_code, policy, rule, effect, reason, warnings, audit_full_request };
}
