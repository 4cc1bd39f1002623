/**
 * Compiles validated policies into an immutable snapshot that evaluates requests without re-reading any policy:
 * patterns become matchers, conditions closures, and rules are indexed so a request only tests the rules that could
 * match it. Two levels: rules are bucketed by exact action and resource head (the literal text up to the first "/",
 * case-folded); inside a bucket each rule is filed under its most selective other requirement, if it has one: the
 * resource tail (the literal text after the last "/", case-folded), the key id or a key attribute (scope or
 * condition), the model, provider or agent id (exact `model` / `provider` / `agent_id` / `key.*` conditions). A
 * request looks up its own value of each, so at 10,000 rules it tests tens of rules, not thousands.
 *
 * Policies compile one at a time (compilePolicy) and a snapshot is assembled from compiled policies (snapshotOf).
 * Given the snapshot it replaces, assembly is incremental: rules keep their place in the evaluation order (each policy
 * holds an interval of it, and a policy added between two others takes part of the gap), candidate groups no change
 * touches are shared, and the groups a change touches are rebuilt from their previous content, so a change costs in
 * proportion to the rules it adds or removes and the groups they fall in, not to the whole set.
 *
 * Tool names: in a policy with tool_names "case_insensitive" (the default), a tool:call request's resource is matched
 * case-folded against the rule's case-folded resource patterns (both folded once: patterns here, the resource by the
 * EvalContext), and the tool.name / tools patterns likewise (see condition-compile.ts).
 *
 * Evaluation order: rules are ordered by policy (the order given) then by rule index. Any matching deny rule denies
 * (the first one decides); otherwise the first matching allow/warn/audit rule decides an allow; otherwise deny.
 */
import { compileCondition, render, type CompiledCondition } from './condition-compile.js';
import type { ConditionSpec } from './condition-spec.js';
import { EvalContext } from './eval-context.js';
import { KEY_ATTRIBUTE_PREFIX, resolveFact } from './facts.js';
import { compileAnyOf, foldCase, isGlob, literalPrefix, type StringMatcher } from './glob.js';
import { ENGINE_UNAVAILABLE, NO_POLICY, NO_RULE_MATCH, OBSERVE_MODE_NO_POLICY, RULE_MATCH } from './reason-codes.js';
import type { CompileOptions, Decision, DecisionWarning, Effect, EvalRequest, NamedPolicy, PolicySnapshot } from './types.js';
import { checkPolicy, type CheckedRule, type CheckedScope } from './validate.js';

type ScopeTest = (ctx: EvalContext) => boolean;

interface CompiledRule {
  policyName: string;
  policyId: string;
  label: string;
  effect: Effect;
  description: string | undefined;
  /** Lower-cased exact actions the rule is indexed under; null = tested against every action. */
  exactActions: string[] | null;
  /**
   * For a rule not indexed by exact action: the literal prefixes of its action patterns ("llm:" for "llm:*"), which
   * an action must start with to match; null when some pattern starts with a wildcard, or there are none.
   */
  actionPrefixes: string[] | null;
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
  /** Necessary conditions the index can file the rule under (resource tail, key, model...). */
  requirements: Requirement[];
}

/**
 * A necessary condition of a rule: the request's value of `dimension` (see DIMENSION_READERS) is one of `values`.
 * Rules are filed under one of these in the index; the rule's own tests still check everything.
 */
interface Requirement {
  dimension: string;
  values: string[];
}

/** A rule's place in one snapshot's evaluation order (policy order, then rule index). */
interface Entry {
  rule: CompiledRule;
  order: number;
}

/** The candidate rules of one effect group: those filed under no requirement, then per dimension by value. */
interface Partition {
  rest: Entry[];
  indexes: { dimension: string; read: DimensionReader; byValue: Map<string, Entry[]> }[];
}

interface Candidates {
  /** Every entry of the group, in order: what a change derives the group's next version from. */
  relevant: Entry[];
  denies: Partition;
  allows: Partition; // allow, warn and audit rules
}

/** A policy's place in a snapshot: its rules' orders lie in [lo, hi). */
interface Placed {
  policy: CompiledPolicy;
  lo: number;
  hi: number;
  entries: Entry[];
}

/** What the index knows about the whole set: rules per exact action and per head, distinct required values. */
interface SetStats {
  actions: Map<string, number>;
  heads: Map<string, number>;
  distinctValues: Map<string, number>;
}

/** A compiled policy: reusable in any number of snapshots. */
export interface CompiledPolicy {
  readonly id: string;
  readonly rules: readonly CompiledRule[];
}

export class PolicyCompileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PolicyCompileError';
  }
}

export function compilePolicies(policies: NamedPolicy[], options: CompileOptions = {}): PolicySnapshot {
  return snapshotOf(policies.map(compilePolicy), options);
}

/** Throws PolicyCompileError when the document does not validate. */
export function compilePolicy({ id, document }: NamedPolicy): CompiledPolicy {
  const checked = checkPolicy(document);
  if (!checked.ok) {
    const problems = checked.errors.map((e) => `${e.path}: ${e.message}`).join('; ');
    throw new PolicyCompileError(`policy ${id} is invalid: ${problems}`);
  }
  const policy = checked.policy;
  const inScope = policy.scope && compileScope(policy.scope);
  const scopeRequirements = policy.scope ? scopeRequirementsOf(policy.scope) : [];
  const rules = policy.rules.map((rule) => compileRule(id, policy.document.name, rule, inScope, scopeRequirements, policy.foldToolNames));
  return { id, rules };
}

/**
 * Assembles a snapshot from compiled policies, in the order given; no compilation. With `previous` (the snapshot
 * this one replaces) it reuses what the change leaves as it was.
 */
export function snapshotOf(policies: readonly CompiledPolicy[], options: CompileOptions = {}, previous?: PolicySnapshot): PolicySnapshot {
  const strict = options.strict === true;
  const changed = previous instanceof Snapshot && previous.strict === strict ? previous.changedTo(policies) : null;
  return changed ?? Snapshot.fresh(policies, strict);
}

function place(policy: CompiledPolicy, lo: number, hi: number): Placed {
  const step = (hi - lo) / Math.max(1, policy.rules.length);
  return { policy, lo, hi, entries: policy.rules.map((rule, i) => ({ rule, order: lo + i * step })) };
}

/**
 * Whether a rule belongs to the candidate group of an action key and a head key ('' = any other). A group for an
 * indexed action leaves out the glob rules whose literal prefixes that action does not start with ("llm:*" is not a
 * candidate for tool:call).
 */
function inGroup(rule: CompiledRule, actionKey: string, headKey: string): boolean {
  if (rule.exactActions !== null ? !rule.exactActions.includes(actionKey) : actionKey !== '' && rule.actionPrefixes !== null && !rule.actionPrefixes.some((p) => actionKey.startsWith(p))) {
    return false;
  }
  return rule.resourceHeads === null || rule.resourceHeads.includes(headKey);
}

function countInto(counts: Map<string, number>, keys: readonly string[] | null, by: number): void {
  for (const key of keys ?? []) {
    const count = (counts.get(key) ?? 0) + by;
    if (count > 0) counts.set(key, count);
    else counts.delete(key);
  }
}

function compileRule(
  policyId: string,
  policyName: string,
  rule: CheckedRule,
  inScope: ScopeTest | null,
  scopeRequirements: Requirement[],
  foldToolNames: boolean,
): CompiledRule {
  const actions = rule.action?.map((a) => a.toLowerCase()) ?? null;
  const notActions = rule.notAction?.map((a) => a.toLowerCase()) ?? null;
  const indexable = actions !== null && !actions.some(isGlob);
  const options = { foldToolNames, failClosed: rule.effect === 'deny' };
  const conditions = rule.conditions.map((spec) => compileCondition(spec, options));
  const folded = (patterns: string[] | null) => patterns && patterns.map(foldCase);
  const tails = resourceTails(rule.resource);
  return {
    policyName,
    policyId,
    label: rule.label,
    effect: rule.effect,
    description: rule.description,
    exactActions: indexable ? [...new Set(actions)] : null,
    actionPrefixes: !indexable && actions && actions.every((a) => literalPrefix(a) !== '') ? [...new Set(actions.map(literalPrefix))] : null,
    actionTest: patternTest(indexable ? null : actions, notActions),
    resourceHeads: resourceHeads(rule.resource),
    resourceTest: patternTest(rule.resource, rule.notResource) ?? (() => true),
    toolResourceTest: foldToolNames ? (patternTest(folded(rule.resource), folded(rule.notResource)) ?? (() => true)) : null,
    inScope,
    conditions: [...conditions].sort((a, b) => a.cost - b.cost),
    explained: conditions,
    requirements: [
      ...(tails ? [{ dimension: TAIL, values: tails }] : []),
      ...scopeRequirements,
      ...rule.conditions.flatMap(conditionRequirement),
    ],
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

/**
 * "send_email" for "*\/tools/send_email" and "mistral/tools/send_email": the literal text after a pattern's last "/"
 * (the whole pattern when it is literal with no "/"), case-folded; null when some pattern has a wildcard there. A
 * value matching such a pattern ends with "/" + that text, which holds no "/", so the value's own tail is that text.
 */
function resourceTails(patterns: string[] | null): string[] | null {
  if (!patterns) return null;
  const tails = new Set<string>();
  for (const p of patterns) {
    const tail = resourceTail(p);
    if (isGlob(tail)) return null;
    tails.add(foldCase(tail));
  }
  return [...tails];
}

function resourceTail(text: string): string {
  return text.slice(text.lastIndexOf('/') + 1);
}

/** key_ids alone require the key id; key_attributes alone require each attribute; both are an either-or: nothing. */
function scopeRequirementsOf(scope: CheckedScope): Requirement[] {
  if (scope.keyIds && scope.keyAttributes.length === 0) return exactRequirement('key.id', scope.keyIds);
  if (scope.keyIds) return [];
  return scope.keyAttributes.flatMap(([name, patterns]) => exactRequirement(`key.${name}`, patterns));
}

/** A plain exact match on an indexed fact (model: [a, b]) requires the request's value to be one of those. */
function conditionRequirement(spec: ConditionSpec): Requirement[] {
  if (spec.kind !== 'fact' || spec.op !== 'match' || spec.negate || !isIndexedFact(spec.fact.name)) return [];
  if (!spec.operands.every((o): o is string => typeof o === 'string')) return [];
  return exactRequirement(spec.fact.name, spec.operands);
}

function exactRequirement(dimension: string, patterns: string[]): Requirement[] {
  return patterns.some(isGlob) ? [] : [{ dimension, values: [...new Set(patterns)] }];
}

type DimensionReader = (ctx: EvalContext) => string | undefined;

const TAIL = 'resource.tail';
const INDEXED_FACTS = new Set(['model', 'provider', 'agent_id', 'key.id']);

function isIndexedFact(name: string): boolean {
  return INDEXED_FACTS.has(name) || (name.startsWith(KEY_ATTRIBUTE_PREFIX) && name.length > KEY_ATTRIBUTE_PREFIX.length);
}

/** How a request reads each dimension: the same fact readers the conditions and scopes use. */
function dimensionReader(dimension: string): DimensionReader {
  if (dimension === TAIL) return (ctx) => ctx.foldedResourceTail();
  const fact = resolveFact(dimension);
  if (!fact) throw new PolicyCompileError(`no fact ${dimension} to index on`);
  return (ctx) => {
    const value = fact.read(ctx);
    return typeof value === 'string' ? value : undefined;
  };
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
  readonly policyCount: number;
  private readonly readers = new Map<string, DimensionReader>();
  /** Candidate rules per indexed action ('' = any other) and resource head ('' = any other), built on first use. */
  private readonly candidates = new Map<string, Map<string, Candidates>>();
  /** Request resource head as given -> its index key (folded head, or ''), so the hot path folds no text. Bounded. */
  private readonly headKeys = new Map<string, string>();

  private constructor(
    private readonly placed: Placed[],
    readonly strict: boolean,
    private readonly stats: SetStats,
  ) {
    this.policyCount = placed.length;
    this.ruleCount = placed.reduce((n, p) => n + p.entries.length, 0);
  }

  static fresh(policies: readonly CompiledPolicy[], strict: boolean): Snapshot {
    const placed = policies.map((policy, i) => place(policy, i, i + 1));
    const stats: SetStats = { actions: new Map(), heads: new Map(), distinctValues: new Map() };
    const values = new Map<string, Set<string>>();
    for (const { policy } of placed) {
      for (const rule of policy.rules) {
        countInto(stats.actions, rule.exactActions, 1);
        countInto(stats.heads, rule.resourceHeads, 1);
        for (const { dimension, values: required } of rule.requirements) {
          let seen = values.get(dimension);
          if (!seen) values.set(dimension, (seen = new Set()));
          for (const value of required) seen.add(value);
        }
      }
    }
    for (const [dimension, seen] of values) stats.distinctValues.set(dimension, seen.size);
    return new Snapshot(placed, strict, stats);
  }

  /**
   * This snapshot changed to `policies`: the policies it already has keep their places, new ones are placed in the
   * gaps, and the candidate groups are carried over (as they were, or rebuilt from their previous content where the
   * change adds or removes rules). Null when the places run out of room: then a fresh build renumbers them.
   */
  changedTo(policies: readonly CompiledPolicy[]): Snapshot | null {
    const before = new Map(this.placed.map((p) => [p.policy, p]));
    const upcoming: number[] = [];
    let next = Infinity;
    for (let i = policies.length - 1; i >= 0; i--) {
      upcoming[i] = next;
      const kept = before.get(policies[i] as CompiledPolicy);
      if (kept) next = kept.lo;
    }
    const placed: Placed[] = [];
    const added: Entry[] = [];
    const staying = new Set<CompiledPolicy>();
    let floor = -Infinity;
    for (const [i, policy] of policies.entries()) {
      const kept = before.get(policy);
      if (kept) {
        if (kept.lo < floor || staying.has(policy)) return null;
        staying.add(policy);
        placed.push(kept);
        floor = kept.hi;
        continue;
      }
      const ceiling = upcoming[i] as number;
      const lo = floor === -Infinity ? (ceiling === Infinity ? 0 : ceiling - 1) : ceiling === Infinity ? floor : floor + (ceiling - floor) / 4;
      const hi = ceiling === Infinity ? lo + 1 : floor === -Infinity ? ceiling - 0.5 : floor + ((ceiling - floor) * 3) / 4;
      if (!(hi - lo > 1e-6)) return null;
      const fresh = place(policy, lo, hi);
      placed.push(fresh);
      added.push(...fresh.entries);
      floor = hi;
    }
    const removed = new Set<Entry>();
    for (const p of this.placed) if (!staying.has(p.policy)) for (const entry of p.entries) removed.add(entry);

    const stats: SetStats = { actions: new Map(this.stats.actions), heads: new Map(this.stats.heads), distinctValues: new Map(this.stats.distinctValues) };
    for (const [entries, by] of [[removed, -1], [added, 1]] as const) {
      for (const { rule } of entries) {
        countInto(stats.actions, rule.exactActions, by);
        countInto(stats.heads, rule.resourceHeads, by);
      }
    }
    // Selectivity statistics are a heuristic: a dimension new to the set is counted, the others keep their counts.
    for (const { rule } of added) for (const r of rule.requirements) if (!stats.distinctValues.has(r.dimension)) stats.distinctValues.set(r.dimension, r.values.length);

    const snapshot = new Snapshot(placed, this.strict, stats);
    snapshot.inherit(this, removed, added);
    return snapshot;
  }

  /** Carries over `previous`'s candidate groups that still mean the same, and derives those for new keys. */
  private inherit(previous: Snapshot, removed: Set<Entry>, added: Entry[]): void {
    const changed = [...removed, ...added];
    const derive = (base: Candidates, actionKey: string, headKey: string): Candidates => {
      const touched = changed.some((e) => inGroup(e.rule, actionKey, headKey));
      if (!touched) return base;
      const joining = added.filter((e) => inGroup(e.rule, actionKey, headKey));
      const isDeny = (e: Entry) => e.rule.effect === 'deny';
      return {
        relevant: mergeByOrder(base.relevant.filter((e) => !removed.has(e)), joining),
        denies: this.changedPartition(base.denies, removed, joining.filter(isDeny)),
        allows: this.changedPartition(base.allows, removed, joining.filter((e) => !isDeny(e))),
      };
    };
    const actionKeys = ['', ...this.stats.actions.keys()];
    const headKeys = ['', ...this.stats.heads.keys()];
    for (const actionKey of actionKeys) {
      for (const headKey of headKeys) {
        // The same group in the previous snapshot, else the group a request for a key new to the set used to get
        // (the "any other" group), which holds every rule of the new group but the ones this change adds.
        const wasIndexed = (key: string, counts: Map<string, number>) => key === '' || counts.has(key);
        const baseAction = wasIndexed(actionKey, previous.stats.actions) ? actionKey : '';
        const baseHead = wasIndexed(headKey, previous.stats.heads) ? headKey : '';
        const base = previous.candidates.get(baseAction)?.get(baseHead);
        if (!base) continue; // never used: built on first use
        let byHead = this.candidates.get(actionKey);
        if (!byHead) this.candidates.set(actionKey, (byHead = new Map()));
        byHead.set(headKey, derive(base, actionKey, headKey));
      }
    }
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

    const denying = inOrder(denies, ctx);
    for (let entry = denying.next(); entry !== undefined; entry = denying.next()) {
      if (matches(entry.rule, action, resource, ctx, toolCall)) return ruleDecision('deny', entry.rule, ctx, req, [], false);
    }
    let decider: CompiledRule | null = null;
    let warnings: DecisionWarning[] | null = null;
    let audit = false;
    const allowing = inOrder(allows, ctx);
    for (let entry = allowing.next(); entry !== undefined; entry = allowing.next()) {
      const rule = entry.rule;
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
    const actionKey = this.stats.actions.has(action) ? action : '';
    const headKey = this.headKey(resourceHead(resource));
    let byHead = this.candidates.get(actionKey);
    if (!byHead) {
      byHead = new Map();
      this.candidates.set(actionKey, byHead);
    }
    let found = byHead.get(headKey);
    if (!found) {
      const relevant: Entry[] = [];
      for (const { entries } of this.placed) for (const entry of entries) if (inGroup(entry.rule, actionKey, headKey)) relevant.push(entry);
      found = this.group(relevant);
      byHead.set(headKey, found);
    }
    return found;
  }

  private group(relevant: Entry[]): Candidates {
    return {
      relevant,
      denies: this.partition(relevant.filter((e) => e.rule.effect === 'deny')),
      allows: this.partition(relevant.filter((e) => e.rule.effect !== 'deny')),
    };
  }

  /**
   * Files each entry under its most selective requirement (fewest of the dimension's distinct values) on a dimension
   * worth a lookup here (at least MIN_INDEXED entries of the group could be filed under it); the rest stay in `rest`.
   */
  private partition(entries: Entry[]): Partition {
    const counts = new Map<string, number>();
    for (const { rule } of entries) for (const { dimension } of rule.requirements) counts.set(dimension, (counts.get(dimension) ?? 0) + 1);
    const rest: Entry[] = [];
    const byDimension = new Map<string, Map<string, Entry[]>>();
    for (const entry of entries) {
      const requirement = this.mostSelective(entry.rule.requirements, (dimension) => (counts.get(dimension) ?? 0) >= MIN_INDEXED);
      if (!requirement) {
        rest.push(entry);
        continue;
      }
      let byValue = byDimension.get(requirement.dimension);
      if (!byValue) byDimension.set(requirement.dimension, (byValue = new Map()));
      for (const value of requirement.values) {
        let list = byValue.get(value);
        if (!list) byValue.set(value, (list = []));
        list.push(entry);
      }
    }
    const indexes = [...byDimension].map(([dimension, byValue]) => ({ dimension, read: this.reader(dimension), byValue }));
    return { rest, indexes };
  }

  /**
   * `partition` without the `removed` entries and with the `joining` ones (in order), copying only the lists that
   * change: a removed entry is dropped from every list it could be filed in, a joining one is filed under its most
   * selective requirement among the dimensions the partition already indexes.
   */
  private changedPartition(partition: Partition, removed: Set<Entry>, joining: Entry[]): Partition {
    const indexed = new Set(partition.indexes.map((index) => index.dimension));
    const drops = new Map<string, Set<Entry>>();
    const adds = new Map<string, Entry[]>();
    const slot = (dimension: string | null, value = '') => (dimension === null ? '' : `${dimension}\u0000${value}`);
    const note = <T>(map: Map<string, T>, key: string, make: () => T): T => {
      let found = map.get(key);
      if (found === undefined) map.set(key, (found = make()));
      return found;
    };
    for (const entry of removed) {
      note(drops, slot(null), () => new Set()).add(entry);
      for (const { dimension, values } of entry.rule.requirements) {
        if (indexed.has(dimension)) for (const value of values) note(drops, slot(dimension, value), () => new Set()).add(entry);
      }
    }
    for (const entry of joining) {
      const requirement = this.mostSelective(entry.rule.requirements, (dimension) => indexed.has(dimension));
      if (!requirement) note(adds, slot(null), () => []).push(entry);
      else for (const value of requirement.values) note(adds, slot(requirement.dimension, value), () => []).push(entry);
    }
    const edited = (list: Entry[], key: string): Entry[] => {
      const drop = drops.get(key);
      const kept = drop ? list.filter((e) => !drop.has(e)) : list;
      return mergeByOrder(kept, adds.get(key) ?? []);
    };
    const rest = drops.has(slot(null)) || adds.has(slot(null)) ? edited(partition.rest, slot(null)) : partition.rest;
    const indexes = partition.indexes.map((index) => {
      let byValue: Map<string, Entry[]> | null = null;
      for (const key of new Set([...drops.keys(), ...adds.keys()])) {
        if (!key.startsWith(`${index.dimension}\u0000`)) continue;
        const value = key.slice(index.dimension.length + 1);
        byValue ??= new Map(index.byValue);
        const list = edited(index.byValue.get(value) ?? [], key);
        if (list.length > 0) byValue.set(value, list);
        else byValue.delete(value);
      }
      return byValue ? { ...index, byValue } : index;
    });
    return { rest, indexes };
  }

  private mostSelective(requirements: Requirement[], eligible: (dimension: string) => boolean): Requirement | null {
    let best: Requirement | null = null;
    let bestShare = 1;
    for (const requirement of requirements) {
      if (!eligible(requirement.dimension)) continue;
      const share = requirement.values.length / (this.stats.distinctValues.get(requirement.dimension) ?? 1);
      if (best === null || share < bestShare) [best, bestShare] = [requirement, share];
    }
    return best;
  }

  private reader(dimension: string): DimensionReader {
    let read = this.readers.get(dimension);
    if (!read) this.readers.set(dimension, (read = dimensionReader(dimension)));
    return read;
  }

  private headKey(head: string | null): string {
    if (head === null) return '';
    let key = this.headKeys.get(head);
    if (key === undefined) {
      const folded = foldCase(head);
      key = this.stats.heads.has(folded) ? folded : '';
      if (this.headKeys.size < HEAD_KEY_CACHE_LIMIT) this.headKeys.set(head, key);
    }
    return key;
  }
}

/** Two lists in order merged into one in order. */
function mergeByOrder(a: Entry[], b: Entry[]): Entry[] {
  if (b.length === 0) return a;
  const merged: Entry[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    const x = a[i];
    const y = b[j];
    if (y === undefined || (x !== undefined && x.order < y.order)) (merged.push(x as Entry), i++);
    else (merged.push(y), j++);
  }
  return merged;
}

/**
 * The partition's candidates for this request in evaluation order: `rest` and the request's list of each dimension,
 * merged by order, so the scan stops exactly where a scan over every rule in order would (and so tests the fewest
 * rules, and triggers expensive facts such as prompt scans no more often).
 */
function inOrder(partition: Partition, ctx: EvalContext): EntryCursor {
  const lists = partition.rest.length > 0 ? [partition.rest] : [];
  for (const index of partition.indexes) {
    const value = index.read(ctx);
    const list = value === undefined ? undefined : index.byValue.get(value);
    if (list) lists.push(list);
  }
  return new EntryCursor(lists);
}

class EntryCursor {
  private readonly at: number[];

  constructor(private readonly lists: Entry[][]) {
    this.at = new Array<number>(lists.length).fill(0);
  }

  next(): Entry | undefined {
    const { lists, at } = this;
    if (lists.length === 1) return (lists[0] as Entry[])[(at[0] as number)++];
    let best: Entry | undefined;
    let from = -1;
    for (let i = 0; i < lists.length; i++) {
      const entry = (lists[i] as Entry[])[at[i] as number];
      if (entry !== undefined && (best === undefined || entry.order < best.order)) {
        best = entry;
        from = i;
      }
    }
    if (from >= 0) (at[from] as number)++;
    return best;
  }
}

const HEAD_KEY_CACHE_LIMIT = 1024;
/** Fewer rules than this under one dimension of a candidate group are cheaper to test than to look up. */
const MIN_INDEXED = 8;

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
