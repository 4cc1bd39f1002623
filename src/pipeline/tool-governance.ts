/**
 * Tool-call governance of one exchange, the same on every governed path: each call a response carries is decided as
 * `tool:call` on `<provider>/tools/<name>` with the request's facts, and recorded on the exchange (audit
 * `details.tool_calls`).
 */
import { toolCallDenied } from '../http/errors.js';
import type { PolicyRegistry } from '../governance/policy-registry.js';
import { toolCallFacts } from '../policy/index.js';
import { governResponse } from '../translators/tool-shapes.js';
import { denialNotice, ToolCallDenied, type ToolCallVerdict, type ToolDenial } from '../translators/tool-verdicts.js';
import type { Json, ToolGovernance } from '../translators/types.js';
import type { Exchange } from './exchange.js';

export function toolGovernance(ex: Exchange, policies: PolicyRegistry, { mode, detail }: ToolDenial): ToolGovernance {
  const resourcePrefix = `${ex.record.provider}/tools/`;
  const judge = (name: string, args: string): ToolCallVerdict => {
    const d = policies.decide(ex.evalRequest('tool:call', resourcePrefix + name, toolCallFacts(name, args)));
    return { name, decision: d.decision, policy: d.policy, rule: d.rule, reason: d.reason, reason_code: d.reason_code };
  };
  return { judge, mode, verdicts: ex.toolCalls, notice: (verdict) => denialNotice(verdict, detail, ex.record.id) };
}

/** Runs `govern`; a denial in error mode becomes the catalogue's 403 `tool_call_denied`. */
export function denialAsError<T>(govern: () => T): T {
  try {
    return govern();
  } catch (err) {
    if (err instanceof ToolCallDenied) throw toolCallDenied(err.verdict);
    throw err;
  }
}

/** Governs a complete JSON answer in every tool-call shape; true when it changed. */
export function governAnswer(json: Json, governance: ToolGovernance): boolean {
  return denialAsError(() => governResponse(json, governance));
}
