/**
 * What every wire API's tool-call governance shares (pure): the decision on one call, the judge that makes it, the
 * deny modes and the denial notice. docs/policies.md ("Tool calls") is the user-facing description.
 */

export type ToolDenyMode = 'replace' | 'error' | 'strip';
export const TOOL_DENY_MODES: readonly ToolDenyMode[] = ['replace', 'error', 'strip'];

/**
 * How much a replace-mode notice tells: it lands in the model's answer, which applications show to end users, so by
 * default (`minimal`) only the tool; `full` adds the deciding policy, rule and reason (the audit record always has them).
 */
export type DenyDetail = 'minimal' | 'full';
export const DENY_DETAILS: readonly DenyDetail[] = ['minimal', 'full'];

/** How denied tool calls are handled and told. */
export interface ToolDenial {
  mode: ToolDenyMode;
  detail: DenyDetail;
}

/** One tool-call decision, as recorded in the audit record (`details.tool_calls`). */
export interface ToolCallVerdict {
  name: string;
  decision: 'allow' | 'deny';
  policy: string | null;
  rule: string | null;
  reason: string;
  reason_code: string;
}

/** Decides one complete call; `args` is the raw JSON text the model produced (objects are serialised first). */
export type ToolCallJudge = (name: string, args: string) => ToolCallVerdict;

/**
 * The text that replaces a denied call in replace mode. Always starts `[tollgate] Tool call "<name>" was denied`;
 * `full` detail names the deciding policy and rule and why; a request id, when given, ends it (the audit record's id).
 */
export function denialNotice(v: ToolCallVerdict, detail: DenyDetail = 'full', requestId?: string): string {
  const ref = requestId === undefined ? '' : ` (request ${requestId})`;
  if (detail === 'minimal') return `[tollgate] Tool call "${v.name}" was denied by policy${ref}`;
  const by = v.policy ? ` by policy "${v.policy}"${v.rule ? ` (rule ${v.rule})` : ''}` : '';
  return `[tollgate] Tool call "${v.name}" was denied${by}: ${v.reason}${ref}`;
}

/** Thrown (in error mode) on the first denied call. */
export class ToolCallDenied extends Error {
  constructor(readonly verdict: ToolCallVerdict) {
    super(`Tool call "${verdict.name}" denied by policy: ${verdict.reason}`);
    this.name = 'ToolCallDenied';
  }
}
