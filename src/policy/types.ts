/**
 * The public shapes of the policy engine: the policy language as stored (PolicyDocument), the request facts the
 * gateway hands to an evaluation (EvalRequest) and the answer it gets back (Decision).
 */

export const EFFECTS = ['allow', 'deny', 'warn', 'audit'] as const;
export type Effect = (typeof EFFECTS)[number];

/** One pattern or a list of patterns; a list matches when any element matches. */
export type PatternList = string | string[];

export interface Rule {
  id?: string;
  description?: string;
  effect: Effect;
  action?: PatternList;
  not_action?: PatternList;
  resource?: PatternList;
  not_resource?: PatternList;
  /** Condition key -> value; every key must hold (AND). See docs/policies.md for the key grammar. */
  conditions?: Record<string, unknown>;
}

/** Which keys a policy applies to: a key is in scope when its id OR its attributes match (see docs/policies.md). */
export interface PolicyScope {
  key_ids?: PatternList;
  key_attributes?: Record<string, PatternList>;
}

/** How a policy compares tool names (tool:call resources, tool.name, tools): "case_insensitive" by default. */
export const TOOL_NAME_MODES = ['case_insensitive', 'exact'] as const;
export type ToolNameMode = (typeof TOOL_NAME_MODES)[number];

export interface PolicyDocument {
  name: string;
  description?: string;
  scope?: PolicyScope;
  /** Default "case_insensitive": `Delete_File` is the tool `delete_file`. "exact" compares tool names as written. */
  tool_names?: ToolNameMode;
  rules: Rule[];
}

/** A stored policy: `id` comes from storage, `document` has passed validatePolicy. */
export interface NamedPolicy {
  id: string;
  document: PolicyDocument;
}

export interface ValidationError {
  path: string;
  message: string;
}

export type ValidationResult = { ok: true; policy: PolicyDocument } | { ok: false; errors: ValidationError[] };

export interface EvalRequest {
  /** e.g. "llm:chat.completions", "tool:call", "llm:models.list" */
  action: string;
  /** e.g. "mistral/mistral-large-latest", "mistral/tools/delete_file", "mistral/*" */
  resource: string;
  provider?: string;
  /** The OpenAI-format request body (model, messages, max_tokens, tools, stream, ...). */
  body?: Record<string, unknown>;
  key?: { id: string; attributes: Record<string, string> };
  agent_id?: string;
  /**
   * For action tool:call; build it with toolCallFacts(name, rawArguments). `arguments`: the parsed JSON arguments (or
   * the raw string when they do not parse); `arguments_invalid`: they are not a JSON object (fact tool.args_invalid),
   * derived from `arguments` when absent (an object, nothing or blank text is valid).
   */
  tool?: { name: string; arguments: unknown; arguments_invalid?: boolean };
  /** Epoch milliseconds; defaults to Date.now(). */
  now?: number;
}

export interface DecisionWarning {
  policy: string;
  rule: string;
  message: string;
}

export interface Decision {
  decision: 'allow' | 'deny';
  reason_code: string;
  /** Name of the deciding policy. */
  policy: string | null;
  policy_id: string | null;
  /** Deciding rule: its id when set, else its index in the policy as a string. */
  rule: string | null;
  effect: Effect | null;
  reason: string;
  warnings: DecisionWarning[];
  audit_full_request: boolean;
}

export interface CompileOptions {
  /** With no policies at all, deny (NO_POLICY) instead of allowing in observe mode. */
  strict?: boolean;
}

export interface PolicySnapshot {
  readonly policyCount: number;
  readonly ruleCount: number;
  evaluate(req: EvalRequest): Decision;
}
