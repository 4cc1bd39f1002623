/**
 * The compiled engine (indexes, fast glob paths, cost-ordered conditions, lazy facts) against a deliberately naive
 * reference evaluator written here from the documented semantics: plain loops over every rule, a RegExp per glob,
 * facts re-read from the request for every condition.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { compileGlob } from '../src/policy/glob.js';
import { compilePolicies, type Decision, type EvalRequest, type PolicyDocument, type Rule } from '../src/policy/index.js';

// ---------- the reference evaluator ----------

function globRegex(pattern: string): RegExp {
  let source = '';
  for (const ch of pattern) {
    if (ch === '*') source += '[\\s\\S]*';
    else if (ch === '?') source += '[\\s\\S]';
    else source += `\\u{${ch.codePointAt(0)?.toString(16)}}`;
  }
  return new RegExp(`^${source}$`, 'u');
}

const list = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
const anyGlob = (patterns: unknown, value: string) => list(patterns as string | string[]).some((p) => globRegex(p).test(value));

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
    case 'tools':
      if (!body) return undefined;
      return Array.isArray(body.tools) ? body.tools.map((t: { function: { name: string } }) => t.function.name) : [];
    case 'key.team':
      return req.key?.attributes.team;
    case 'prompt':
      if (!body || !Array.isArray(body.messages)) return undefined;
      return body.messages.map((m: { content: string }) => m.content).join('\n');
    case 'tool.args.to':
    case 'tool.args.n': {
      const args = req.tool?.arguments as Record<string, unknown> | undefined;
      const value = args?.[name.slice('tool.args.'.length)];
      const values = (Array.isArray(value) ? value : [value]).filter((v) => v !== undefined && v !== null);
      return values.length > 0 ? values : undefined;
    }
    default:
      throw new Error(`reference does not know fact ${name}`);
  }
}

function singleValueTest(op: string, operands: unknown, value: unknown): boolean {
  const ops = list(operands);
  switch (op) {
    case 'match':
      return ops.some((o) => (typeof o === 'string' ? typeof value === 'string' && globRegex(o).test(value) : o === value));
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

function conditionHolds(key: string, operands: unknown, req: EvalRequest): boolean {
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
  const value = readFact(factName, req);
  if (op === 'exists') return (value !== undefined) === operands;
  if (value === undefined) return false;
  const values = Array.isArray(value) ? value : [value];
  const result = only ? values.every((v) => singleValueTest(op, operands, v)) : values.some((v) => singleValueTest(op, operands, v));
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

function ruleMatches(rule: Rule, req: EvalRequest): boolean {
  const action = req.action.toLowerCase();
  const lowerAll = (v: Rule['action']) => list(v).map((p) => p.toLowerCase());
  if (rule.action !== undefined && !anyGlob(lowerAll(rule.action), action)) return false;
  if (rule.not_action !== undefined && anyGlob(lowerAll(rule.not_action), action)) return false;
  if (rule.resource !== undefined && !anyGlob(rule.resource, req.resource)) return false;
  if (rule.not_resource !== undefined && anyGlob(rule.not_resource, req.resource)) return false;
  return Object.entries(rule.conditions ?? {}).every(([key, operands]) => conditionHolds(key, operands, req));
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
      if (ruleMatches(rule, req)) matched.push({ policy: policy.name, rule: rule.id ?? String(index), effect: rule.effect });
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

const actionPattern = text(['a', 'B', ':', '*', '?'], 1, 4);
const resourcePattern = text(['a', 'b', '/', '*', '?'], 1, 5);
const modelPattern = fc.constantFrom('m1', 'm2', 'm*', '?2', '*');
const toolPattern = fc.constantFrom('t1', 't2', 't*');
const recipientPattern = fc.constantFrom('*@ok', 'a@ok', 'b*');
const smallInt = fc.integer({ min: 0, max: 10 });
const clock = fc.constantFrom('00:00', '06:00', '09:30', '12:00', '18:00', '23:59');

const condition: fc.Arbitrary<[string, unknown]> = fc.oneof(
  fc.tuple(fc.constantFrom('model', 'not_model'), oneOrMany(modelPattern)),
  fc.tuple(fc.constantFrom('max_tokens_gt', 'max_tokens_lt', 'max_tokens_eq', 'not_max_tokens_gt'), oneOrMany(smallInt)),
  fc.tuple(fc.constantFrom('tools', 'not_tools', 'only_tools', 'not_only_tools'), oneOrMany(toolPattern)),
  fc.tuple(fc.constantFrom('key.team', 'not_key.team'), oneOrMany(fc.constantFrom('x', 'y', '*'))),
  fc.tuple(fc.constant('stream'), fc.boolean()),
  fc.tuple(fc.constantFrom('prompt_contains', 'not_prompt_contains'), oneOrMany(fc.constantFrom('HELLO', 'bye'))),
  fc.tuple(fc.constantFrom('tool.args.to', 'only_tool.args.to', 'not_only_tool.args.to', 'not_tool.args.to'), oneOrMany(recipientPattern)),
  fc.tuple(fc.constantFrom('tool.args.n_gt', 'tool.args.n'), smallInt),
  fc.tuple(fc.constantFrom('model_exists', 'tool.args.to_exists'), fc.boolean()),
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
  .record({ scope: fc.option(scope, { nil: undefined }), rules: fc.array(rule, { minLength: 1, maxLength: 4 }) })
  .map(({ scope: s, rules }) => ({
    name: 'p',
    ...(s ? { scope: s } : {}),
    // rule ids must be unique within a policy: keep the first use of each id
    rules: rules.map((r, i) => (rules.findIndex((o) => o.id === r.id) === i ? r : { ...r, id: undefined })).map(({ id, ...r }) => (id === undefined ? r : { id, ...r })) as Rule[],
  }));

const policies = fc.array(policy, { minLength: 0, maxLength: 4 }).map((ps) => ps.map((p, i) => ({ ...p, name: `policy-${i}` })));

const body = fc.record(
  {
    model: fc.constantFrom('m1', 'm2', 'm3'),
    max_tokens: fc.oneof(smallInt, fc.constant('5')),
    tools: fc.array(fc.constantFrom('t1', 't2', 't3').map((name) => ({ type: 'function', function: { name } })), { maxLength: 3 }),
    stream: fc.oneof(fc.boolean(), fc.constant('yes')),
    messages: fc.array(fc.constantFrom('hello world', 'say BYE', 'x').map((content) => ({ role: 'user', content })), { maxLength: 3 }),
  },
  { requiredKeys: [] },
);

const request: fc.Arbitrary<EvalRequest> = fc
  .record(
    {
      action: text(['a', 'b', 'B', ':'], 0, 4),
      resource: text(['a', 'b', '/'], 0, 5),
      body,
      key: fc.record({ id: fc.constantFrom('k1', 'k2', 'k3'), attributes: fc.record({ team: fc.constantFrom('x', 'y', 'z') }, { requiredKeys: [] }) }),
      tool: fc.record({
        name: fc.constant('send'),
        arguments: fc.record({ to: fc.oneof(fc.constantFrom('a@ok', 'b@ok', 'c@bad', null), fc.array(fc.constantFrom('a@ok', 'c@bad'), { maxLength: 2 })), n: smallInt }, { requiredKeys: [] }),
      }),
      now: fc.constantFrom(Date.UTC(2025, 0, 6, 5, 59), Date.UTC(2025, 0, 7, 9, 30), Date.UTC(2025, 0, 11, 18, 0), Date.UTC(2025, 0, 12, 23, 59)),
    },
    { requiredKeys: ['action', 'resource', 'now'] },
  )
  .map((r) => r as EvalRequest);

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

  it('glob matchers agree with a RegExp built from the glob', () => {
    fc.assert(
      fc.property(text(['a', 'b', '/', '*', '?', '.', '😀'], 0, 7), text(['a', 'b', '/', '.', '*', '😀'], 0, 8), (pattern, value) => {
        assert.equal(compileGlob(pattern)(value), globRegex(pattern).test(value));
      }),
      { numRuns: 5000 },
    );
  });
});
