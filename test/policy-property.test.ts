/**
 * The compiled engine (indexes, fast glob paths, cost-ordered conditions, lazy facts) against a deliberately naive
 * reference evaluator written here from the documented semantics: plain loops over every rule, a RegExp per glob
 * (with the `i` flag where tool names ignore case), facts re-read from the request for every condition, tool argument
 * validity re-derived from the raw argument text.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { compileGlob } from '../src/policy/glob.js';
import { compilePolicies, compilePolicy, snapshotOf, toolCallFacts, type Decision, type EvalRequest, type PolicyDocument, type Rule } from '../src/policy/index.js';

// ---------- the reference evaluator ----------

function globRegex(pattern: string, ignoreCase = false): RegExp {
  let source = '';
  for (const ch of pattern) {
    if (ch === '*') source += '[\\s\\S]*';
    else if (ch === '?') source += '[\\s\\S]';
    else source += `\\u{${ch.codePointAt(0)?.toString(16)}}`;
  }
  return new RegExp(`^${source}$`, ignoreCase ? 'iu' : 'u');
}

const list = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
const anyGlob = (patterns: unknown, value: string, ignoreCase = false) => list(patterns as string | string[]).some((p) => globRegex(p, ignoreCase).test(value));

/** The raw argument text each generated tool call was built from (the model's output, as the gateway receives it). */
const rawArguments = new WeakMap<EvalRequest, string>();

/** docs/policies.md: blank text is {}; valid when the text parses to a JSON object. undefined = not a tool call. */
function readArguments(req: EvalRequest): { invalid: boolean; value: unknown } | undefined {
  if (!req.tool) return undefined;
  const raw = rawArguments.get(req) ?? '';
  if (/^\s*$/.test(raw)) return { invalid: false, value: {} };
  try {
    const value: unknown = JSON.parse(raw);
    return { invalid: typeof value !== 'object' || value === null || Array.isArray(value), value };
  } catch {
    return { invalid: true, value: raw };
  }
}

/** How the rule being tested reads the request: its policy's tool_names mode and its effect. */
interface RuleContext {
  ignoreToolCase: boolean;
  effect: string;
}

/** Reads one fact the way docs/policies.md defines it; undefined = missing; arrays = several values. */
function readFact(name: string, req: EvalRequest): unknown {
  const body = req.body;
  switch (name) {
    case 'model':
      return typeof body?.model === 'string' ? body.model : undefined;
    case 'max_tokens':
      return typeof body?.max_tokens === 'number' ? body.max_tokens : undefined;
    case 'stream':
      if (!body) return undefined;
      if (body.stream === undefined) return false;
      return typeof body.stream === 'boolean' ? body.stream : undefined;
    case 'tool.name':
      return req.tool?.name;
    case 'tool.args_invalid':
      return readArguments(req)?.invalid;
    case 'tools':
      if (!body) return undefined;
      return Array.isArray(body.tools) ? body.tools.map((t: { function: { name: string } }) => t.function.name) : [];
    case 'key.team':
      return req.key?.attributes.team;
    case 'key.id':
      return req.key?.id;
    case 'agent_id':
      return req.agent_id;
    case 'provider':
      return req.provider;
    case 'prompt':
      if (!body || !Array.isArray(body.messages)) return undefined;
      return body.messages.map((m: { content: string }) => m.content).join('\n');
    case 'tool.args.to':
    case 'tool.args.n': {
      const args = readArguments(req);
      if (!args || args.invalid) return undefined;
      const value = (args.value as Record<string, unknown>)[name.slice('tool.args.'.length)];
      const values = (Array.isArray(value) ? value : [value]).filter((v) => v !== undefined && v !== null);
      return values.length > 0 ? values : undefined;
    }
    default:
      throw new Error(`reference does not know fact ${name}`);
  }
}

function singleValueTest(op: string, operands: unknown, value: unknown, ignoreCase: boolean): boolean {
  const ops = list(operands);
  switch (op) {
    case 'match':
      return ops.some((o) => (typeof o === 'string' ? typeof value === 'string' && globRegex(o, ignoreCase).test(value) : o === value));
    case 'gt':
      return typeof value === 'number' && ops.some((o) => value > (o as number));
    case 'lt':
      return typeof value === 'number' && ops.some((o) => value < (o as number));
    case 'eq':
      return typeof value === 'number' && ops.some((o) => value === o);
    case 'contains':
      return typeof value === 'string' && ops.some((o) => value.toLowerCase().includes(String(o).toLowerCase()));
    default:
      throw new Error(op);
  }
}

function conditionHolds(key: string, operands: unknown, req: EvalRequest, rule: RuleContext): boolean {
  if (key === 'time_of_day' || key === 'weekday') {
    const now = new Date(req.now as number);
    if (key === 'weekday') return list(operands as string[]).includes(['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'][now.getUTCDay()] as string);
    const { after, before } = operands as { after: string; before: string };
    const hhmm = `${String(now.getUTCHours()).padStart(2, '0')}:${String(now.getUTCMinutes()).padStart(2, '0')}`;
    return after <= before ? hhmm >= after && hhmm < before : hhmm >= after || hhmm < before;
  }
  const m = /^(not_)?(only_)?(.+?)(?:_(gt|lt|eq|contains|exists))?$/.exec(key);
  if (!m) throw new Error(key);
  const [, not, only, factName = '', op = 'match'] = m;
  // Fail closed: unreadable arguments make every tool.args.<path> condition hold in a deny rule, and in no other.
  if (factName.startsWith('tool.args.') && readArguments(req)?.invalid === true) return rule.effect === 'deny';
  const value = readFact(factName, req);
  if (op === 'exists') return (value !== undefined) === operands;
  if (value === undefined) return false;
  const values = Array.isArray(value) ? value : [value];
  const ignoreCase = rule.ignoreToolCase && (factName === 'tool.name' || factName === 'tools');
  const test = (v: unknown) => singleValueTest(op, operands, v, ignoreCase);
  const result = only ? values.every(test) : values.some(test);
  return not ? !result : result;
}

function inScope(scope: PolicyDocument['scope'], req: EvalRequest): boolean {
  if (!scope) return true;
  if (!req.key) return false;
  if (scope.key_ids !== undefined && anyGlob(scope.key_ids, req.key.id)) return true;
  const attributes = Object.entries(scope.key_attributes ?? {});
  return attributes.length > 0 && attributes.every(([name, patterns]) => {
    const value = req.key?.attributes[name];
    return value !== undefined && anyGlob(patterns, value);
  });
}

function ruleMatches(rule: Rule, req: EvalRequest, ignoreToolCase: boolean): boolean {
  const action = req.action.toLowerCase();
  const lowerAll = (v: Rule['action']) => list(v).map((p) => p.toLowerCase());
  if (rule.action !== undefined && !anyGlob(lowerAll(rule.action), action)) return false;
  if (rule.not_action !== undefined && anyGlob(lowerAll(rule.not_action), action)) return false;
  const foldResource = ignoreToolCase && action === 'tool:call';
  if (rule.resource !== undefined && !anyGlob(rule.resource, req.resource, foldResource)) return false;
  if (rule.not_resource !== undefined && anyGlob(rule.not_resource, req.resource, foldResource)) return false;
  const context = { ignoreToolCase, effect: rule.effect };
  return Object.entries(rule.conditions ?? {}).every(([key, operands]) => conditionHolds(key, operands, req, context));
}

interface ReferenceDecision {
  decision: 'allow' | 'deny';
  reason_code: string;
  policy: string | null;
  rule: string | null;
  effect: string | null;
  warnings: string[];
  audit_full_request: boolean;
}

function referenceEvaluate(policies: PolicyDocument[], req: EvalRequest, strict: boolean): ReferenceDecision {
  const none = { policy: null, rule: null, effect: null, warnings: [], audit_full_request: false };
  if (policies.length === 0) {
    return strict ? { decision: 'deny', reason_code: 'NO_POLICY', ...none } : { decision: 'allow', reason_code: 'OBSERVE_MODE_NO_POLICY', ...none };
  }
  const matched: { policy: string; rule: string; effect: string }[] = [];
  for (const policy of policies) {
    if (!inScope(policy.scope, req)) continue;
    policy.rules.forEach((rule, index) => {
      if (ruleMatches(rule, req, policy.tool_names !== 'exact')) matched.push({ policy: policy.name, rule: rule.id ?? String(index), effect: rule.effect });
    });
  }
  const deny = matched.find((m) => m.effect === 'deny');
  if (deny) return { decision: 'deny', reason_code: 'RULE_MATCH', ...deny, warnings: [], audit_full_request: false };
  const first = matched[0];
  if (!first) return { decision: 'deny', reason_code: 'NO_RULE_MATCH', ...none };
  return {
    decision: 'allow',
    reason_code: 'RULE_MATCH',
    ...first,
    warnings: matched.filter((m) => m.effect === 'warn').map((m) => `${m.policy}#${m.rule}`),
    audit_full_request: matched.some((m) => m.effect === 'audit'),
  };
}

function comparable(d: Decision): ReferenceDecision {
  return {
    decision: d.decision,
    reason_code: d.reason_code,
    policy: d.policy,
    rule: d.rule,
    effect: d.effect,
    warnings: d.warnings.map((w) => `${w.policy}#${w.rule}`),
    audit_full_request: d.audit_full_request,
  };
}

// ---------- generators: small alphabets so patterns, values and rules collide often ----------

const text = (chars: string[], minLength: number, maxLength: number) => fc.string({ unit: fc.constantFrom(...chars), minLength, maxLength });
const oneOrMany = <T>(arb: fc.Arbitrary<T>) => fc.oneof(arb, fc.array(arb, { minLength: 1, maxLength: 3 }));

const actionPattern = fc.oneof(text(['a', 'B', ':', '*', '?'], 1, 4), fc.constantFrom('tool:call', 'TOOL:*'));
// Heads that differ only in case ("a/" and "A/") exercise the resource-head index.
const resourcePattern = fc.oneof(text(['a', 'A', 'b', '/', '*', '?'], 1, 5), fc.constantFrom('A/*', 'a/B', 'A/b*', '*/b'));
const modelPattern = fc.constantFrom('m1', 'm2', 'm*', '?2', '*');
const toolPattern = fc.constantFrom('t1', 'T2', 't*');
const toolNamePattern = fc.constantFrom('send', 'SEND', 's*', 'T?');
const recipientPattern = fc.constantFrom('*@ok', 'a@ok', 'b*');
const smallInt = fc.integer({ min: 0, max: 10 });
const clock = fc.constantFrom('00:00', '06:00', '09:30', '12:00', '18:00', '23:59');

const condition: fc.Arbitrary<[string, unknown]> = fc.oneof(
  fc.tuple(fc.constantFrom('model', 'not_model'), oneOrMany(modelPattern)),
  fc.tuple(fc.constantFrom('max_tokens_gt', 'max_tokens_lt', 'max_tokens_eq', 'not_max_tokens_gt'), oneOrMany(smallInt)),
  fc.tuple(fc.constantFrom('tools', 'not_tools', 'only_tools', 'not_only_tools'), oneOrMany(toolPattern)),
  fc.tuple(fc.constantFrom('key.team', 'not_key.team'), oneOrMany(fc.constantFrom('x', 'y', '*'))),
  // Exact matches on these facts are what the index files rules under; globs and not_ forms are not.
  fc.tuple(fc.constantFrom('key.id', 'agent_id', 'provider', 'not_agent_id'), oneOrMany(fc.constantFrom('k1', 'g1', 'g2', 'p1', 'P1', 'g*'))),
  fc.tuple(fc.constant('stream'), fc.boolean()),
  fc.tuple(fc.constantFrom('prompt_contains', 'not_prompt_contains'), oneOrMany(fc.constantFrom('HELLO', 'bye'))),
  fc.tuple(fc.constantFrom('tool.args.to', 'only_tool.args.to', 'not_only_tool.args.to', 'not_tool.args.to'), oneOrMany(recipientPattern)),
  fc.tuple(fc.constantFrom('tool.args.n_gt', 'tool.args.n'), smallInt),
  fc.tuple(fc.constantFrom('model_exists', 'tool.args.to_exists', 'tool.args_invalid', 'tool.args_invalid_exists'), fc.boolean()),
  fc.tuple(fc.constantFrom('tool.name', 'not_tool.name'), oneOrMany(toolNamePattern)),
  fc.tuple(fc.constant('time_of_day'), fc.tuple(clock, clock).filter(([a, b]) => a !== b).map(([after, before]) => ({ after, before }))),
  fc.tuple(fc.constant('weekday'), fc.array(fc.constantFrom('sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'), { minLength: 1, maxLength: 3 })),
);

const rule: fc.Arbitrary<Rule> = fc
  .record(
    {
      id: fc.constantFrom('r-a', 'r-b'),
      effect: fc.constantFrom('allow', 'deny', 'warn', 'audit'),
      action: oneOrMany(actionPattern),
      not_action: oneOrMany(actionPattern),
      resource: oneOrMany(resourcePattern),
      not_resource: oneOrMany(resourcePattern),
      conditions: fc.uniqueArray(condition, { maxLength: 3, selector: ([key]) => key }).map((entries) => Object.fromEntries(entries)),
    },
    { requiredKeys: ['effect'] },
  )
  .map((r) => ({ ...r, ...(r.action === undefined && r.not_action === undefined ? { action: '*' } : {}), ...(r.resource === undefined && r.not_resource === undefined ? { resource: 'a/*' } : {}) }) as Rule);

const scope = fc.oneof(
  fc.record({ key_ids: oneOrMany(fc.constantFrom('k1', 'k2', 'k*')) }),
  fc.record({ key_attributes: fc.record({ team: oneOrMany(fc.constantFrom('x', 'y')) }) }),
  fc.record({ key_ids: fc.constant('k1'), key_attributes: fc.record({ team: fc.constant('y') }) }),
);

const policy: fc.Arbitrary<PolicyDocument> = fc
  .record({
    scope: fc.option(scope, { nil: undefined }),
    toolNames: fc.option(fc.constantFrom('exact', 'case_insensitive') as fc.Arbitrary<'exact' | 'case_insensitive'>, { nil: undefined }),
    rules: fc.array(rule, { minLength: 1, maxLength: 4 }),
  })
  .map(({ scope: s, toolNames, rules }) => ({
    name: 'p',
    ...(s ? { scope: s } : {}),
    ...(toolNames ? { tool_names: toolNames } : {}),
    // rule ids must be unique within a policy: keep the first use of each id
    rules: rules.map((r, i) => (rules.findIndex((o) => o.id === r.id) === i ? r : { ...r, id: undefined })).map(({ id, ...r }) => (id === undefined ? r : { id, ...r })) as Rule[],
  }));

const policySet = (maxLength: number) => fc.array(policy, { minLength: 0, maxLength }).map((ps) => ps.map((p, i) => ({ ...p, name: `policy-${i}` })));
const policies = policySet(4);
// Enough rules that candidate groups reach the size at which the engine indexes them by tail, key, model, agent...
const manyPolicies = policySet(60);

const body = fc.record(
  {
    model: fc.constantFrom('m1', 'm2', 'm3'),
    max_tokens: fc.oneof(smallInt, fc.constant('5')),
    tools: fc.array(fc.constantFrom('t1', 'T1', 't2', 't3').map((name) => ({ type: 'function', function: { name } })), { maxLength: 3 }),
    stream: fc.oneof(fc.boolean(), fc.constant('yes')),
    messages: fc.array(fc.constantFrom('hello world', 'say BYE', 'x').map((content) => ({ role: 'user', content })), { maxLength: 3 }),
  },
  { requiredKeys: [] },
);

/** Raw argument text as a model produces it: JSON objects, and text that is blank, unparsable or not an object. */
const argumentText = fc.oneof(
  fc
    .record({ to: fc.oneof(fc.constantFrom('a@ok', 'b@ok', 'c@bad', null), fc.array(fc.constantFrom('a@ok', 'c@bad'), { maxLength: 2 })), n: smallInt }, { requiredKeys: [] })
    .map((args) => JSON.stringify(args)),
  fc.constantFrom('', '  ', '{"to": "c@bad"', '{bad', '[{"to": "c@bad"}]', '"c@bad"', 'null', '7'),
);

/** The tool facts, built by toolCallFacts or, as callers that predate it do, as {name, arguments} (the flag derived). */
const toolFacts = fc.record({ name: fc.constantFrom('send', 'Send', 'SEND', 't1', 'T1'), raw: argumentText, legacy: fc.boolean() });

const request: fc.Arbitrary<EvalRequest> = fc
  .record(
    {
      action: fc.oneof(text(['a', 'b', 'B', ':'], 0, 4), fc.constantFrom('tool:call', 'Tool:Call')),
      resource: fc.oneof(text(['a', 'A', 'b', '/'], 0, 5), fc.constantFrom('a/b', 'A/B', 'a/B')),
      body,
      key: fc.record({ id: fc.constantFrom('k1', 'k2', 'k3'), attributes: fc.record({ team: fc.constantFrom('x', 'y', 'z') }, { requiredKeys: [] }) }),
      agent_id: fc.constantFrom('g1', 'g2', 'g3'),
      provider: fc.constantFrom('p1', 'p2'),
      tool: toolFacts,
      now: fc.constantFrom(Date.UTC(2025, 0, 6, 5, 59), Date.UTC(2025, 0, 7, 9, 30), Date.UTC(2025, 0, 11, 18, 0), Date.UTC(2025, 0, 12, 23, 59)),
    },
    { requiredKeys: ['action', 'resource', 'now'] },
  )
  .map(({ tool, ...rest }) => {
    if (!tool) return rest as EvalRequest;
    const facts = tool.legacy ? { name: tool.name, arguments: parseOrRaw(tool.raw) } : toolCallFacts(tool.name, tool.raw);
    const req = { ...rest, tool: facts } as EvalRequest;
    rawArguments.set(req, tool.raw);
    return req;
  });

/** What the gateway passed before toolCallFacts: the parsed JSON, or the raw string when it does not parse. */
function parseOrRaw(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

// ---------- properties ----------

describe('compiled engine vs naive reference', () => {
  it('agrees on decision, reason code, deciding policy/rule, warnings and audit flag', () => {
    fc.assert(
      fc.property(policies, fc.array(request, { minLength: 1, maxLength: 8 }), fc.boolean(), (docs, requests, strict) => {
        const snapshot = compilePolicies(docs.map((document, i) => ({ id: `pol_${i}`, document })), { strict });
        for (const req of requests) {
          assert.deepEqual(comparable(snapshot.evaluate(req)), referenceEvaluate(docs, req, strict));
        }
      }),
      { numRuns: 2500 },
    );
  });

  it('agrees on large policy sets, where rules are indexed beyond action and resource head', () => {
    fc.assert(
      fc.property(manyPolicies, fc.array(request, { minLength: 1, maxLength: 12 }), (docs, requests) => {
        const snapshot = compilePolicies(docs.map((document, i) => ({ id: `pol_${i}`, document })));
        for (const req of requests) {
          assert.deepEqual(comparable(snapshot.evaluate(req)), referenceEvaluate(docs, req, false));
        }
      }),
      { numRuns: 300 },
    );
  });

  it('a snapshot assembled from the one it replaces decides as one built from scratch, after any changes', () => {
    const edit = fc.record({ kind: fc.constantFrom('insert', 'remove', 'replace'), at: fc.nat(), document: policy });
    fc.assert(
      fc.property(manyPolicies, fc.array(edit, { minLength: 1, maxLength: 8 }), fc.array(request, { minLength: 1, maxLength: 10 }), (docs, edits, requests) => {
        let compiled = docs.map((document, i) => compilePolicy({ id: `pol_${i}`, document }));
        let snapshot = snapshotOf(compiled);
        edits.forEach(({ kind, at, document }, n) => {
          for (const req of requests) snapshot.evaluate(req); // builds the candidate groups the next snapshot inherits
          const i = compiled.length === 0 ? 0 : at % (compiled.length + (kind === 'insert' ? 1 : 0));
          const next = compilePolicy({ id: `new_${n}`, document: { ...document, name: `new-${n}` } });
          compiled =
            kind === 'insert' || compiled.length === 0
              ? [...compiled.slice(0, i), next, ...compiled.slice(i)]
              : kind === 'remove'
                ? compiled.filter((_, j) => j !== i)
                : compiled.map((c, j) => (j === i ? next : c));
          snapshot = snapshotOf(compiled, {}, snapshot);
          const fresh = snapshotOf(compiled);
          for (const req of requests) assert.deepEqual(snapshot.evaluate(req), fresh.evaluate(req));
        });
      }),
      { numRuns: 300 },
    );
  });

  it('glob matchers agree with a RegExp built from the glob', () => {
    fc.assert(
      fc.property(text(['a', 'b', '/', '*', '?', '.', '😀'], 0, 7), text(['a', 'b', '/', '.', '*', '😀'], 0, 8), (pattern, value) => {
        assert.equal(compileGlob(pattern)(value), globRegex(pattern).test(value));
      }),
      { numRuns: 5000 },
    );
  });
});
