/**
 * Compiles validated policies into an immutable snapshot that evaluates requests without re-reading any policy:
 * patterns become matchers, conditions closures, and rules are indexed by exact action and by resource head (the
 * literal text up to the first "/", case-folded), so a request only tests the rules that could match it.
 *
 * Tool names: in a policy with tool_names "case_insensitive" (the default), a tool:call request's resource is matched
 * case-folded against the rule's case-folded resource patterns (both folded once: patterns here, the resource by the
 * EvalContext), and the tool.name / tools patterns likewise (see condition-compile.ts).
 *
 * Evaluation order: rules are ordered by policy (the order given) then by rule index. Any matching deny rule denies
 * (the first one decides); otherwise the first matching allow/warn/audit rule decides an allow; otherwise deny.
 */
import { compileCondition, render, type CompiledCondition } from './condition-compile.js';
import { EvalContext } from './eval-context.js';
import { compileAnyOf, foldCase, isGlob, literalPrefix, type StringMatcher } from './glob.js';
import { ENGINE_UNAVAILABLE, NO_POLICY, NO_RULE_MATCH, OBSERVE_MODE_NO_POLICY, RULE_MATCH } from './reason-codes.js';
import type { CompileOptions, Decision, DecisionWarning, Effect, EvalRequest, NamedPolicy, PolicySnapshot } from './types.js';
import { checkPolicy, type CheckedPolicy, type CheckedRule, type CheckedScope } from './validate.js';

type ScopeTest = (ctx: EvalContext) => boolean;

interface CompiledRule {
  policyName: string;
  policyId: string;
  label: string;
  effect: Effect;
  description: string | undefined;
  /** Lower-cased exact actions the rule is indexed under; null = tested against every action. */
  exactActions: string[] | null;
  /** What the index does not already guarantee about the action: the full test, or only not_action; null = nothing. */
  actionTest: StringMatcher | null;
  /** Case-folded resource heads the rule is indexed under; null = tested against every resource. */
  resourceHeads: string[] | null;
  resourceTest: StringMatcher;
  /** For tool:call requests in a case-insensitive policy: resourceTest on folded patterns, given the folded resource. */
  toolResourceTest: StringMatcher | null;
  inScope: ScopeTest | null;
  /** Cheapest first. */
  conditions: CompiledCondition[];
  /** As written, for the reason text. */
  explained: CompiledCondition[];
}

interface Candidates {
  denies: CompiledRule[];
  allows: CompiledRule[]; // allow, warn and audit rules
}

export class PolicyCompileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PolicyCompileError';
  }
}

export function compilePolicies(policies: NamedPolicy[], options: CompileOptions = {}): PolicySnapshot {
  const rules: CompiledRule[] = [];
  for (const { id, document } of policies) {
    const checked = checkPolicy(document);
    if (!checked.ok) {
      const problems = checked.errors.map((e) => `${e.path}: ${e.message}`).join('; ');
      throw new PolicyCompileError(`policy ${id} is invalid: ${problems}`);
    }
    rules.push(...compilePolicy(id, checked.policy));
  }
  return new Snapshot(rules, policies.length, options.strict === true);
}

function compilePolicy(id: string, policy: CheckedPolicy): CompiledRule[] {
  const inScope = policy.scope && compileScope(policy.scope);
  return policy.rules.map((rule) => compileRule(id, policy.document.name, rule, inScope, policy.foldToolNames));
}

function compileRule(policyId: string, policyName: string, rule: CheckedRule, inScope: ScopeTest | null, foldToolNames: boolean): CompiledRule {
  const actions = rule.action?.map((a) => a.toLowerCase()) ?? null;
  const notActions = rule.notAction?.map((a) => a.toLowerCase()) ?? null;
  const indexable = actions !== null && !actions.some(isGlob);
  const options = { foldToolNames, failClosed: rule.effect === 'deny' };
  const conditions = rule.conditions.map((spec) => compileCondition(spec, options));
  const folded = (patterns: string[] | null) => patterns && patterns.map(foldCase);
  return {
    policyName,
    policyId,
    label: rule.label,
    effect: rule.effect,
    description: rule.description,
    exactActions: indexable ? [...new Set(actions)] : null,
    actionTest: patternTest(indexable ? null : actions, notActions),
    resourceHeads: resourceHeads(rule.resource),
    resourceTest: patternTest(rule.resource, rule.notResource) ?? (() => true),
    toolResourceTest: foldToolNames ? (patternTest(folded(rule.resource), folded(rule.notResource)) ?? (() => true)) : null,
    inScope,
    conditions: [...conditions].sort((a, b) => a.cost - b.cost),
    explained: conditions,
  };
}

/** Matches when some `include` pattern matches (or there are none) and no `exclude` pattern does. */
function patternTest(include: string[] | null, exclude: string[] | null): StringMatcher | null {
  const yes = include && compileAnyOf(include);
  const no = exclude && compileAnyOf(exclude);
  if (yes && no) return (v) => yes(v) && !no(v);
  if (no) return (v) => !no(v);
  return yes;
}

/**
 * "mistral/" for "mistral/*" and "Mistral/tools/x"; null when some pattern has a wildcard before its first "/". Heads
 * are case-folded, so one index serves exact matches (a resource starting with "Mistral/" has the folded head
 * "mistral/"; resourceTest then compares exactly) and folded tool:call matches (foldCase keeps "/" and wildcards where
 * they are, so the folded pattern's head is the folded head and the folded resource's head the folded request head).
 */
function resourceHeads(patterns: string[] | null): string[] | null {
  if (!patterns) return null;
  const heads = new Set<string>();
  for (const p of patterns) {
    const head = resourceHead(literalPrefix(p));
    if (head === null) return null;
    heads.add(foldCase(head));
  }
  return [...heads];
}

function resourceHead(text: string): string | null {
  const slash = text.indexOf('/');
  return slash < 0 ? null : text.slice(0, slash + 1);
}

/** A key is in scope when its id matches key_ids, or when every attribute listed in key_attributes matches. */
function compileScope(scope: CheckedScope): ScopeTest {
  const idMatches = scope.keyIds && compileAnyOf(scope.keyIds);
  const attributes = scope.keyAttributes.map(([name, patterns]) => [name, compileAnyOf(patterns)] as const);
  return (ctx) => {
    const key = ctx.request.key;
    if (!key) return false;
    if (idMatches && typeof key.id === 'string' && idMatches(key.id)) return true;
    if (attributes.length === 0) return false;
    const values = key.attributes ?? {};
    for (const [name, matches] of attributes) {
      const value = Object.hasOwn(values, name) ? values[name] : undefined;
      if (typeof value !== 'string' || !matches(value)) return false;
    }
    return true;
  };
}

class Snapshot implements PolicySnapshot {
  readonly ruleCount: number;
  private readonly indexedActions: Set<string>;
  private readonly indexedHeads: Set<string>;
  /** Candidate rules per indexed action ('' = any other) and resource head ('' = any other), built on first use. */
  private readonly candidates = new Map<string, Map<string, Candidates>>();
  /** Request resource head as given -> its index key (folded head, or ''), so the hot path folds no text. Bounded. */
  private readonly headKeys = new Map<string, string>();

  constructor(
    private readonly rules: CompiledRule[],
    readonly policyCount: number,
    private readonly strict: boolean,
  ) {
    this.ruleCount = rules.length;
    this.indexedActions = new Set(rules.flatMap((r) => r.exactActions ?? []));
    this.indexedHeads = new Set(rules.flatMap((r) => r.resourceHeads ?? []));
  }

  evaluate(req: EvalRequest): Decision {
    try {
      return this.decide(req);
    } catch (error) {
      return decision('deny', ENGINE_UNAVAILABLE, `policy evaluation failed (denied, fail closed): ${render(String(error))}`);
    }
  }

  private decide(req: EvalRequest): Decision {
    if (this.ruleCount === 0) {
      return this.strict
        ? decision('deny', NO_POLICY, 'no policies are defined and the engine is strict: denied')
        : decision('allow', OBSERVE_MODE_NO_POLICY, 'no policies are defined: allowed in observe mode');
    }
    const action = String(req.action).toLowerCase();
    const resource = String(req.resource);
    const { denies, allows } = this.candidatesFor(action, resource);
    const ctx = new EvalContext(req);
    const toolCall = action === TOOL_CALL;

    for (const rule of denies) {
      if (matches(rule, action, resource, ctx, toolCall)) return ruleDecision('deny', rule, ctx, req, [], false);
    }
    let decider: CompiledRule | null = null;
    let warnings: DecisionWarning[] | null = null;
    let audit = false;
    for (const rule of allows) {
      if (decider !== null && rule.effect === 'allow') continue; // adds nothing once an allow is decided
      if (!matches(rule, action, resource, ctx, toolCall)) continue;
      decider ??= rule;
      if (rule.effect === 'warn') {
        (warnings ??= []).push({ policy: rule.policyName, rule: rule.label, message: warningMessage(rule, ctx, req) });
      } else if (rule.effect === 'audit') {
        audit = true;
      }
    }
    if (decider) return ruleDecision('allow', decider, ctx, req, warnings ?? [], audit);
    return decision('deny', NO_RULE_MATCH, `no allow, warn or audit rule matched ${req.action} on ${render(resource)}: denied by default`);
  }

  private candidatesFor(action: string, resource: string): Candidates {
    const actionKey = this.indexedActions.has(action) ? action : '';
    const headKey = this.headKey(resourceHead(resource));
    let byHead = this.candidates.get(actionKey);
    if (!byHead) {
      byHead = new Map();
      this.candidates.set(actionKey, byHead);
    }
    let found = byHead.get(headKey);
    if (!found) {
      const relevant = this.rules.filter(
        (r) =>
          (r.exactActions === null || r.exactActions.includes(actionKey)) &&
          (r.resourceHeads === null || r.resourceHeads.includes(headKey)),
      );
      found = { denies: relevant.filter((r) => r.effect === 'deny'), allows: relevant.filter((r) => r.effect !== 'deny') };
      byHead.set(headKey, found);
    }
    return found;
  }

  private headKey(head: string | null): string {
    if (head === null) return '';
    let key = this.headKeys.get(head);
    if (key === undefined) {
      const folded = foldCase(head);
      key = this.indexedHeads.has(folded) ? folded : '';
      if (this.headKeys.size < HEAD_KEY_CACHE_LIMIT) this.headKeys.set(head, key);
    }
    return key;
  }
}

const HEAD_KEY_CACHE_LIMIT = 1024;

const TOOL_CALL = 'tool:call';

function matches(rule: CompiledRule, action: string, resource: string, ctx: EvalContext, toolCall: boolean): boolean {
  if (rule.actionTest !== null && !rule.actionTest(action)) return false;
  if (toolCall && rule.toolResourceTest !== null) {
    if (!rule.toolResourceTest(ctx.foldedResource())) return false;
  } else if (!rule.resourceTest(resource)) return false;
  if (rule.inScope !== null && !rule.inScope(ctx)) return false;
  for (const condition of rule.conditions) if (!condition.test(ctx)) return false;
  return true;
}

function explainMatch(rule: CompiledRule, ctx: EvalContext, req: EvalRequest): string {
  if (rule.explained.length === 0) return `${req.action} on ${render(req.resource)}`;
  return rule.explained.map((c) => c.explain(ctx)).join(', ');
}

function warningMessage(rule: CompiledRule, ctx: EvalContext, req: EvalRequest): string {
  return render(rule.description ?? explainMatch(rule, ctx, req), 300);
}

function ruleDecision(
  outcome: 'allow' | 'deny',
  rule: CompiledRule,
  ctx: EvalContext,
  req: EvalRequest,
  warnings: DecisionWarning[],
  audit: boolean,
): Decision {
  const verb = outcome === 'allow' ? 'allowed' : 'denied';
  return {
    decision: outcome,
    reason_code: RULE_MATCH,
    policy: rule.policyName,
    policy_id: rule.policyId,
    rule: rule.label,
    effect: rule.effect,
    reason: `${verb} by rule ${rule.label} of policy ${rule.policyName}: ${explainMatch(rule, ctx, req)}`,
    warnings,
    audit_full_request: audit,
  };
}

function decision(outcome: 'allow' | 'deny', reasonCode: string, reason: string): Decision {
  return {
    decision: outcome,
    reason_code: reasonCode,
    policy: null,
    policy_id: null,
    rule: null,
    effect: null,
    reason,
    warnings: [],
    audit_full_request: false,
  };
}
