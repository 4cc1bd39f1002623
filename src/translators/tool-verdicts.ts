/**
 * What every wire API's tool-call governance shares (pure): the decision on one call, the judge that makes it, the
 * deny modes and the denial notice. docs/policies.md ("Tool calls") is the user-facing description.
 */

export type ToolDenyMode = 'replace' | 'error' | 'strip';
export const TOOL_DENY_MODES: readonly ToolDenyMode[] = ['replace', 'error', 'strip'];

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

/** The text that replaces a denied call in replace mode; names the tool, the deciding policy and rule, and why. */
export function denialNotice(v: ToolCallVerdict): string {
  const by = v.policy ? ` by policy "${v.policy}"${v.rule ? ` (rule ${v.rule})` : ''}` : '';
  return `[tollgate] Tool call "${v.name}" was denied${by}: ${v.reason}`;
}

/** Thrown (in error mode) on the first denied call. */
export class ToolCallDenied extends Error {
  constructor(readonly verdict: ToolCallVerdict) {
    super(`Tool call "${verdict.name}" denied by policy: ${verdict.reason}`);
    this.name = 'ToolCallDenied';
  }
}
