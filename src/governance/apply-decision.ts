/**
 * What a policy decision does to a request, the same on every governed path: the audit record notes it, the response
 * carries it in headers, and a deny becomes the 403 naming the deciding policy and rule.
 */
import type { ServerResponse } from 'node:http';
import { denied } from '../http/errors.js';
import type { Decision } from '../policy/index.js';
import type { AuditRecord } from '../store/types.js';

export function applyDecision(decision: Decision, record: AuditRecord, res: ServerResponse, requestBody: unknown): void {
  record.decision = decision.decision;
  record.reason_code = decision.reason_code;
  record.policy = decision.policy;
  record.rule = decision.rule;
  res.setHeader('x-tollgate-decision', decision.decision);
  if (decision.reason_code === 'OBSERVE_MODE_NO_POLICY') res.setHeader('x-tollgate-policy-mode', 'observe');
  if (decision.warnings.length > 0) {
    // Header values must be visible ASCII: percent-encode anything else a rule's message may contain.
    const text = decision.warnings.map((w) => `${w.policy}#${w.rule}: ${w.message}`).join('; ');
    res.setHeader('x-tollgate-warning', text.replace(/[^\x20-\x7e]/g, (c) => encodeURIComponent(c)));
    record.details = { ...record.details, warnings: decision.warnings };
  }
  if (decision.audit_full_request && requestBody !== undefined) record.details = { ...record.details, request: requestBody };
  if (decision.decision === 'deny') {
    throw denied('policy_denied', `Request denied by policy: ${decision.reason}`, decision.reason_code, decision.policy, decision.rule, {
      policy: decision.policy,
      rule: decision.rule,
    });
  }
}
