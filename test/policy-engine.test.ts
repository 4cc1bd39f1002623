import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  compilePolicies,
  ENGINE_UNAVAILABLE,
  NO_POLICY,
  NO_RULE_MATCH,
  OBSERVE_MODE_NO_POLICY,
  RULE_MATCH,
  type EvalRequest,
  type PolicyDocument,
  toolArgumentsInvalid,
  toolCallFacts,
  type Rule,
} from '../src/policy/index.js';

const SEED_POLICY: PolicyDocument = {
  name: 'mistral-usage-policy',
  rules: [
    {
      effect: 'allow',
      action: 'llm:chat.completions',
      resource: 'mistral/*',
      conditions: { model: ['mistral-large-latest', 'mistral-medium-latest'] },
    },
    { effect: 'deny', action: 'llm:chat.completions', resource: 'mistral/*', conditions: { max_tokens_gt: 8192 } },
  ],
};

function snapshot(documents: PolicyDocument[], strict = false) {
  return compilePolicies(
    documents.map((document, i) => ({ id: `pol_${i}`, document })),
    { strict },
  );
}

function decide(documents: PolicyDocument[], request: EvalRequest) {
  return snapshot(documents).evaluate(request);
}

function chat(body: Record<string, unknown>, extra: Partial<EvalRequest> = {}): EvalRequest {
  const model = typeof body.model === 'string' ? body.model : 'mistral-large-latest';
  return { action: 'llm:chat.completions', resource: `mistral/${model}`, provider: 'mistral', body, ...extra };
}

const ALLOW_ALL: Rule = { effect: 'allow', action: '*', resource: '*' };
// Monday 2025-01-06 10:30 UTC (11:30 in Paris, 19:30 in Tokyo)
const MONDAY_1030_UTC = Date.UTC(2025, 0, 6, 10, 30);

describe('the seed policy (compatibility contract)', () => {
  const seed = snapshot([SEED_POLICY]);

  it('denies mistral-large-latest with max_tokens 10000 by the deny rule', () => {
    const d = seed.evaluate(chat({ model: 'mistral-large-latest', max_tokens: 10000 }));
    assert.equal(d.decision, 'deny');
    assert.equal(d.reason_code, RULE_MATCH);
    assert.equal(d.policy, 'mistral-usage-policy');
    assert.equal(d.policy_id, 'pol_0');
    assert.equal(d.rule, '1');
    assert.equal(d.effect, 'deny');
    assert.equal(d.reason, 'denied by rule 1 of policy mistral-usage-policy: max_tokens 10000 > 8192');
  });

  it('allows max_tokens 100 by the model allow-list rule', () => {
    const d = seed.evaluate(chat({ model: 'mistral-large-latest', max_tokens: 100 }));
    assert.deepEqual([d.decision, d.reason_code, d.rule, d.effect], ['allow', RULE_MATCH, '0', 'allow']);
    assert.deepEqual(d.warnings, []);
    assert.equal(d.audit_full_request, false);
  });

  it('denies model gpt-4 with NO_RULE_MATCH', () => {
    const d = seed.evaluate(chat({ model: 'gpt-4' }));
    assert.deepEqual([d.decision, d.reason_code, d.policy, d.rule, d.effect], ['deny', NO_RULE_MATCH, null, null, null]);
  });

  it('allows a listed model without max_tokens: the missing fact makes the deny condition false', () => {
    assert.equal(seed.evaluate(chat({ model: 'mistral-medium-latest' })).decision, 'allow');
  });

  it('denies other actions and other providers by default', () => {
    const completions = { ...chat({ model: 'mistral-large-latest' }), action: 'llm:completions' };
    assert.equal(seed.evaluate(completions).reason_code, NO_RULE_MATCH);
    assert.equal(seed.evaluate(chat({ model: 'mistral-large-latest' }, { resource: 'openai/mistral-large-latest' })).reason_code, NO_RULE_MATCH);
  });

  it('reports its size', () => {
    assert.deepEqual([seed.policyCount, seed.ruleCount], [1, 2]);
  });
});

describe('action and resource patterns', () => {
  const cases: { name: string; rule: Partial<Rule>; action: string; resource: string; matches: boolean }[] = [
    { name: '* matches across / and :', rule: { action: '*', resource: '*' }, action: 'llm:chat.completions', resource: 'a/b:c/d', matches: true },
    { name: 'prefix*', rule: { action: 'llm:*', resource: 'mistral/*' }, action: 'llm:models.list', resource: 'mistral/x/y', matches: true },
    { name: 'prefix* needs the prefix', rule: { action: 'llm:*', resource: 'mistral/*' }, action: 'tool:call', resource: 'mistral/x', matches: false },
    { name: '*suffix', rule: { action: '*', resource: '*-latest' }, action: 'a', resource: 'mistral/mistral-large-latest', matches: true },
    { name: '*middle*', rule: { action: '*', resource: '*large*' }, action: 'a', resource: 'mistral/mistral-large-latest', matches: true },
    { name: 'pre*suf does not let prefix and suffix overlap', rule: { action: '*', resource: 'ab*ba' }, action: 'a', resource: 'aba', matches: false },
    { name: 'pre*suf', rule: { action: '*', resource: 'ab*ba' }, action: 'a', resource: 'abba', matches: true },
    { name: 'three stars', rule: { action: '*', resource: 'a*b*c*' }, action: 'a', resource: 'xa', matches: false },
    { name: 'three stars in order', rule: { action: '*', resource: 'a*b*c*' }, action: 'a', resource: 'a1b2c3', matches: true },
    { name: '? is exactly one character', rule: { action: '*', resource: 'mistral/gpt-?' }, action: 'a', resource: 'mistral/gpt-4', matches: true },
    { name: '? is not two characters', rule: { action: '*', resource: 'mistral/gpt-?' }, action: 'a', resource: 'mistral/gpt-40', matches: false },
    { name: '? is not zero characters', rule: { action: '*', resource: 'mistral/gpt-?' }, action: 'a', resource: 'mistral/gpt-', matches: false },
    { name: '? is one code point', rule: { action: '*', resource: 'x/?' }, action: 'a', resource: 'x/😀', matches: true },
    { name: '? matches /', rule: { action: 'tool?call', resource: '*' }, action: 'tool:call', resource: 'r', matches: true },
    { name: 'regex characters are literal', rule: { action: '*', resource: 'a.b+(c)?' }, action: 'a', resource: 'a.b+(c)!', matches: true },
    { name: 'regex characters are literal (no match)', rule: { action: '*', resource: 'a.b+(c)?' }, action: 'a', resource: 'aXb+(c)!', matches: false },
    { name: 'a literal * in a request is matched by a wildcard', rule: { action: '*', resource: 'mistral/*' }, action: 'llm:models.list', resource: 'mistral/*', matches: true },
    { name: 'a literal * in a request does not match other text', rule: { action: '*', resource: 'mistral/x' }, action: 'a', resource: 'mistral/*', matches: false },
    { name: 'resources are case-sensitive', rule: { action: '*', resource: 'Mistral/*' }, action: 'a', resource: 'mistral/x', matches: false },
    { name: 'actions are case-insensitive (pattern upper)', rule: { action: 'LLM:Chat.Completions', resource: '*' }, action: 'llm:chat.completions', resource: 'r', matches: true },
    { name: 'actions are case-insensitive (request upper)', rule: { action: 'llm:chat.*', resource: '*' }, action: 'LLM:CHAT.COMPLETIONS', resource: 'r', matches: true },
    { name: 'list is any-of', rule: { action: ['llm:completions', 'llm:chat.completions'], resource: ['openai/*', 'mistral/*'] }, action: 'llm:chat.completions', resource: 'mistral/x', matches: true },
    { name: 'list is any-of (none)', rule: { action: ['llm:completions', 'llm:embeddings'], resource: '*' }, action: 'llm:chat.completions', resource: 'r', matches: false },
    { name: 'not_action excludes', rule: { action: '*', not_action: 'tool:*', resource: '*' }, action: 'tool:call', resource: 'r', matches: false },
    { name: 'not_action lets others through', rule: { action: '*', not_action: 'tool:*', resource: '*' }, action: 'llm:completions', resource: 'r', matches: true },
    { name: 'not_action alone', rule: { not_action: ['tool:call'], resource: '*' }, action: 'llm:completions', resource: 'r', matches: true },
    { name: 'not_action is case-insensitive', rule: { not_action: 'TOOL:CALL', resource: '*' }, action: 'tool:call', resource: 'r', matches: false },
    { name: 'not_action with exact action', rule: { action: 'tool:call', not_action: 'tool:call', resource: '*' }, action: 'tool:call', resource: 'r', matches: false },
    { name: 'not_resource excludes', rule: { action: '*', resource: 'mistral/*', not_resource: 'mistral/*-large-*' }, action: 'a', resource: 'mistral/mistral-large-latest', matches: false },
    { name: 'not_resource lets others through', rule: { action: '*', resource: 'mistral/*', not_resource: 'mistral/*-large-*' }, action: 'a', resource: 'mistral/mistral-small-latest', matches: true },
    { name: 'not_resource alone', rule: { action: '*', not_resource: 'openai/*' }, action: 'a', resource: 'mistral/x', matches: true },
    { name: 'exact action index does not leak to other actions', rule: { action: 'llm:completions', resource: 'mistral/x' }, action: 'llm:completions2', resource: 'mistral/x', matches: false },
    { name: 'resource without a slash and a head-indexed rule', rule: { action: '*', resource: 'mistral/*' }, action: 'a', resource: 'mistral', matches: false },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const rule = { effect: 'allow', ...c.rule } as Rule;
      const d = decide([{ name: 'p', rules: [rule] }], { action: c.action, resource: c.resource });
      assert.equal(d.decision, c.matches ? 'allow' : 'deny');
    });
  }
});

describe('evaluation order', () => {
  it('an explicit deny anywhere wins over earlier allows', () => {
    const d = decide(
      [
        { name: 'grants', rules: [ALLOW_ALL] },
        { name: 'blocks', rules: [{ effect: 'deny', action: 'tool:call', resource: '*/tools/delete_*' }] },
      ],
      { action: 'tool:call', resource: 'mistral/tools/delete_file' },
    );
    assert.deepEqual([d.decision, d.policy, d.rule, d.effect], ['deny', 'blocks', '0', 'deny']);
  });

  it('the first matching deny in policy then rule order decides a deny', () => {
    const deny: Rule = { effect: 'deny', action: '*', resource: '*' };
    const d = decide(
      [
        { name: 'a', rules: [ALLOW_ALL, { ...deny, id: 'first-deny' }, deny] },
        { name: 'b', rules: [deny] },
      ],
      { action: 'x', resource: 'y' },
    );
    assert.deepEqual([d.policy, d.rule], ['a', 'first-deny']);
  });

  it('the first matching allow in policy then rule order decides an allow', () => {
    const d = decide(
      [
        { name: 'a', rules: [{ effect: 'allow', action: 'other', resource: '*' }, ALLOW_ALL, ALLOW_ALL] },
        { name: 'b', rules: [ALLOW_ALL] },
      ],
      { action: 'x', resource: 'y' },
    );
    assert.deepEqual([d.policy, d.rule], ['a', '1']);
  });

  it('policy order is the order given, not the name order', () => {
    const d = decide([{ name: 'z', rules: [ALLOW_ALL] }, { name: 'a', rules: [ALLOW_ALL] }], { action: 'x', resource: 'y' });
    assert.equal(d.policy, 'z');
  });

  it('a rule id replaces the index in the decision', () => {
    const d = decide([{ name: 'p', rules: [{ ...ALLOW_ALL, id: 'grant-all' }] }], { action: 'x', resource: 'y' });
    assert.equal(d.rule, 'grant-all');
    assert.match(d.reason, /^allowed by rule grant-all of policy p: x on y$/);
  });

  it('indexed exact-action rules and wildcard rules keep their relative order', () => {
    const d = decide(
      [{ name: 'p', rules: [{ ...ALLOW_ALL, id: 'wild' }, { effect: 'allow', action: 'x', resource: 'y', id: 'exact' }] }],
      { action: 'x', resource: 'y' },
    );
    assert.equal(d.rule, 'wild');
  });
});

describe('warn and audit effects', () => {
  const warn: Rule = { effect: 'warn', action: '*', resource: '*', description: 'large models cost more' };
  const audit: Rule = { effect: 'audit', action: '*', resource: '*' };

  it('warn allows and carries a warning; it decides when it is the first match', () => {
    const d = decide([{ name: 'p', rules: [warn] }], { action: 'x', resource: 'y' });
    assert.deepEqual([d.decision, d.effect, d.rule], ['allow', 'warn', '0']);
    assert.deepEqual(d.warnings, [{ policy: 'p', rule: '0', message: 'large models cost more' }]);
  });

  it('every matching warn rule adds a warning, even after an allow decided', () => {
    const d = decide(
      [
        { name: 'p', rules: [ALLOW_ALL, warn] },
        { name: 'q', rules: [{ effect: 'warn', action: '*', resource: '*', conditions: { max_tokens_gt: 10 } }] },
      ],
      chat({ max_tokens: 50 }),
    );
    assert.deepEqual([d.effect, d.rule], ['allow', '0']);
    assert.deepEqual(d.warnings, [
      { policy: 'p', rule: '1', message: 'large models cost more' },
      { policy: 'q', rule: '0', message: 'max_tokens 50 > 10' },
    ]);
  });

  it('audit allows and flags the full request for recording', () => {
    const d = decide([{ name: 'p', rules: [ALLOW_ALL, audit] }], { action: 'x', resource: 'y' });
    assert.deepEqual([d.decision, d.effect, d.audit_full_request], ['allow', 'allow', true]);
  });

  it('a deny carries no warnings and no audit flag', () => {
    const d = decide([{ name: 'p', rules: [warn, audit, { effect: 'deny', action: '*', resource: '*' }] }], { action: 'x', resource: 'y' });
    assert.deepEqual([d.decision, d.warnings, d.audit_full_request], ['deny', [], false]);
  });

  it('warning messages are single-line', () => {
    const d = decide([{ name: 'p', rules: [{ ...warn, description: 'line one\nline two' }] }], { action: 'x', resource: 'y' });
    assert.equal(d.warnings[0]?.message, 'line one line two');
  });
});

describe('observe and strict modes', () => {
  it('no policies: observe mode allows', () => {
    const d = compilePolicies([]).evaluate({ action: 'x', resource: 'y' });
    assert.deepEqual([d.decision, d.reason_code, d.policy, d.rule], ['allow', OBSERVE_MODE_NO_POLICY, null, null]);
  });

  it('no policies and strict: denies with NO_POLICY', () => {
    const d = compilePolicies([], { strict: true }).evaluate({ action: 'x', resource: 'y' });
    assert.deepEqual([d.decision, d.reason_code], ['deny', NO_POLICY]);
  });

  it('policies that do not apply are not "no policy": denied with NO_RULE_MATCH', () => {
    const d = decide([{ name: 'p', scope: { key_ids: 'key_other' }, rules: [ALLOW_ALL] }], { action: 'x', resource: 'y', key: { id: 'key_1', attributes: {} } });
    assert.equal(d.reason_code, NO_RULE_MATCH);
  });
});

describe('scope', () => {
  const key = (id: string, attributes: Record<string, string> = {}) => ({ action: 'x', resource: 'y', key: { id, attributes } });
  const cases: { name: string; scope: PolicyDocument['scope']; request: EvalRequest; applies: boolean }[] = [
    { name: 'key_ids lists keys', scope: { key_ids: ['key_a', 'key_b'] }, request: key('key_b'), applies: true },
    { name: 'other keys are out of scope', scope: { key_ids: ['key_a'] }, request: key('key_c'), applies: false },
    { name: 'key_ids take globs', scope: { key_ids: 'key_ci_*' }, request: key('key_ci_7'), applies: true },
    { name: 'a request without a key is out of scope', scope: { key_ids: '*' }, request: { action: 'x', resource: 'y' }, applies: false },
    { name: 'key_attributes any-of', scope: { key_attributes: { team: ['a', 'b'] } }, request: key('k', { team: 'b' }), applies: true },
    { name: 'key_attributes: every attribute must match', scope: { key_attributes: { team: 'a', env: 'prod' } }, request: key('k', { team: 'a', env: 'dev' }), applies: false },
    { name: 'key_attributes: all match', scope: { key_attributes: { team: 'a', env: 'prod' } }, request: key('k', { team: 'a', env: 'prod' }), applies: true },
    { name: 'key_attributes: missing attribute', scope: { key_attributes: { team: 'a' } }, request: key('k', {}), applies: false },
    { name: 'key_ids OR key_attributes (by id)', scope: { key_ids: 'k1', key_attributes: { team: 'a' } }, request: key('k1', { team: 'z' }), applies: true },
    { name: 'key_ids OR key_attributes (by attributes)', scope: { key_ids: 'k1', key_attributes: { team: 'a' } }, request: key('k2', { team: 'a' }), applies: true },
    { name: 'key_ids OR key_attributes (neither)', scope: { key_ids: 'k1', key_attributes: { team: 'a' } }, request: key('k2', { team: 'b' }), applies: false },
    { name: 'attribute values are case-sensitive', scope: { key_attributes: { team: 'a' } }, request: key('k', { team: 'A' }), applies: false },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const deny = decide([{ name: 'scoped', scope: c.scope, rules: [{ effect: 'deny', action: '*', resource: '*' }] }, { name: 'all', rules: [ALLOW_ALL] }], c.request);
      assert.equal(deny.decision, c.applies ? 'deny' : 'allow');
    });
  }
});

/**
 * Each condition is checked both ways: in an allow rule (allowed iff it holds) and in a deny rule next to an
 * allow-all rule (denied iff it holds). A condition on a missing fact holds in neither.
 */
describe('conditions', () => {
  const toolCall = (name: string, args: unknown, extra: Partial<EvalRequest> = {}): EvalRequest => ({
    action: 'tool:call',
    resource: `mistral/tools/${name}`,
    tool: { name, arguments: args },
    ...extra,
  });
  const withKey = (attributes: Record<string, string>, id = 'key_1') => chat({}, { key: { id, attributes } });
  const at = (now: number) => chat({}, { now });
  const tools = (...names: string[]) => chat({ tools: names.map((name) => ({ type: 'function', function: { name } })) });
  const prompt = (content: unknown) => chat({ messages: [{ role: 'user', content }] });

  const cases: { name: string; conditions: Record<string, unknown>; request: EvalRequest; holds: boolean }[] = [
    // numbers
    { name: 'max_tokens_gt true', conditions: { max_tokens_gt: 100 }, request: chat({ max_tokens: 101 }), holds: true },
    { name: 'max_tokens_gt equal is false', conditions: { max_tokens_gt: 100 }, request: chat({ max_tokens: 100 }), holds: false },
    { name: 'max_tokens_gte equal', conditions: { max_tokens_gte: 100 }, request: chat({ max_tokens: 100 }), holds: true },
    { name: 'max_tokens_lt', conditions: { max_tokens_lt: 100 }, request: chat({ max_tokens: 99 }), holds: true },
    { name: 'max_tokens_lte false', conditions: { max_tokens_lte: 100 }, request: chat({ max_tokens: 101 }), holds: false },
    { name: 'max_tokens_eq list any-of', conditions: { max_tokens_eq: [1, 2, 3] }, request: chat({ max_tokens: 2 }), holds: true },
    { name: 'plain number fact is equality', conditions: { n: 2 }, request: chat({ n: 2 }), holds: true },
    { name: 'max_tokens falls back to max_completion_tokens', conditions: { max_tokens_gt: 100 }, request: chat({ max_completion_tokens: 500 }), holds: true },
    { name: 'missing max_tokens: _gt is false', conditions: { max_tokens_gt: 100 }, request: chat({}), holds: false },
    { name: 'missing max_tokens: _lt is false too', conditions: { max_tokens_lt: 100 }, request: chat({}), holds: false },
    { name: 'missing max_tokens: not_ is false too', conditions: { not_max_tokens_gt: 100 }, request: chat({}), holds: false },
    { name: 'no body at all', conditions: { max_tokens_lt: 100 }, request: { action: 'llm:models.list', resource: 'mistral/*' }, holds: false },
    { name: 'a string max_tokens is missing', conditions: { max_tokens_lt: 100_000 }, request: chat({ max_tokens: '50' }), holds: false },
    { name: 'not_max_tokens_gt on present', conditions: { not_max_tokens_gt: 100 }, request: chat({ max_tokens: 5 }), holds: true },
    { name: 'temperature_gt', conditions: { temperature_gt: 0.7 }, request: chat({ temperature: 0.9 }), holds: true },
    { name: 'top_p_lt', conditions: { top_p_lt: 0.5 }, request: chat({ top_p: 0.9 }), holds: false },
    { name: 'message_count_gte', conditions: { message_count_gte: 2 }, request: chat({ messages: [{ content: 'a' }, { content: 'b' }] }), holds: true },
    { name: 'prompt_chars counts message and prompt text', conditions: { prompt_chars_eq: 7 }, request: chat({ messages: [{ content: 'abc' }, { content: [{ type: 'text', text: 'de' }, { type: 'image_url' }] }], prompt: 'fg' }), holds: true },
    { name: 'tool_count', conditions: { tool_count_gt: 1 }, request: tools('a', 'b'), holds: true },
    { name: 'tool_count is 0 without tools', conditions: { tool_count_eq: 0 }, request: chat({}), holds: true },
    // strings
    { name: 'model any-of exact', conditions: { model: ['a', 'mistral-large-latest'] }, request: chat({ model: 'mistral-large-latest' }), holds: true },
    { name: 'model glob', conditions: { model: 'mistral-*-latest' }, request: chat({ model: 'mistral-small-latest' }), holds: true },
    { name: 'model is case-sensitive', conditions: { model: 'Mistral-*' }, request: chat({ model: 'mistral-small-latest' }), holds: false },
    { name: 'not_model', conditions: { not_model: ['gpt-*'] }, request: chat({ model: 'mistral-small-latest' }), holds: true },
    { name: 'not_model on missing model is false', conditions: { not_model: ['gpt-*'] }, request: chat({}), holds: false },
    { name: 'model_contains is case-insensitive substring', conditions: { model_contains: 'LARGE' }, request: chat({ model: 'mistral-large-latest' }), holds: true },
    { name: 'provider', conditions: { provider: 'mistral' }, request: chat({}), holds: true },
    { name: 'agent_id glob', conditions: { agent_id: 'billing-*' }, request: chat({}, { agent_id: 'billing-bot' }), holds: true },
    { name: 'agent_id missing', conditions: { not_agent_id: 'billing-*' }, request: chat({}), holds: false },
    { name: 'key.id', conditions: { 'key.id': 'key_1' }, request: withKey({}), holds: true },
    { name: 'key.<attribute>', conditions: { 'key.team': ['payments', 'search'] }, request: withKey({ team: 'search' }), holds: true },
    { name: 'not_key.<attribute>', conditions: { 'not_key.env': 'prod' }, request: withKey({ env: 'dev' }), holds: true },
    { name: 'key.<attribute> missing', conditions: { 'not_key.env': 'prod' }, request: withKey({}), holds: false },
    { name: 'tools: any declared tool matches', conditions: { tools: 'delete_*' }, request: tools('search', 'delete_file'), holds: true },
    { name: 'tools: none matches', conditions: { tools: 'delete_*' }, request: tools('search'), holds: false },
    { name: 'not_tools: no declared tool matches', conditions: { not_tools: 'delete_*' }, request: tools('search'), holds: true },
    { name: 'not_tools with no tools declared', conditions: { not_tools: 'delete_*' }, request: chat({}), holds: true },
    { name: 'only_tools: every declared tool matches', conditions: { only_tools: ['search', 'calc'] }, request: tools('search', 'calc'), holds: true },
    { name: 'only_tools: one outside the list', conditions: { only_tools: ['search', 'calc'] }, request: tools('search', 'shell'), holds: false },
    { name: 'not_only_tools: one outside the list', conditions: { not_only_tools: ['search'] }, request: tools('search', 'shell'), holds: true },
    { name: 'tools from the legacy functions field', conditions: { tools: 'legacy' }, request: chat({ functions: [{ name: 'legacy' }] }), holds: true },
    { name: 'tool.name', conditions: { 'tool.name': 'send_*' }, request: toolCall('send_email', {}), holds: true },
    // booleans
    { name: 'stream true', conditions: { stream: true }, request: chat({ stream: true }), holds: true },
    { name: 'stream defaults to false', conditions: { stream: false }, request: chat({}), holds: true },
    { name: 'stream of the wrong type is missing', conditions: { stream: false }, request: chat({ stream: 'no' }), holds: false },
    { name: 'tools_present', conditions: { tools_present: true }, request: tools('a'), holds: true },
    { name: 'tools_present false', conditions: { tools_present: false }, request: chat({}), holds: true },
    // existence
    { name: '_exists true', conditions: { max_tokens_exists: true }, request: chat({ max_tokens: 1 }), holds: true },
    { name: '_exists false on a missing fact', conditions: { max_tokens_exists: false }, request: chat({}), holds: true },
    { name: '_exists false on a present fact', conditions: { max_tokens_exists: false }, request: chat({ max_tokens: 1 }), holds: false },
    // time
    { name: 'time_of_day inside', conditions: { time_of_day: { after: '09:00', before: '18:00', tz: 'UTC' } }, request: at(MONDAY_1030_UTC), holds: true },
    { name: 'time_of_day: before is exclusive', conditions: { time_of_day: { after: '09:00', before: '10:30' } }, request: at(MONDAY_1030_UTC), holds: false },
    { name: 'time_of_day: after is inclusive', conditions: { time_of_day: { after: '10:30' } }, request: at(MONDAY_1030_UTC), holds: true },
    { name: 'time_of_day in another zone', conditions: { time_of_day: { after: '11:00', before: '12:00', tz: 'Europe/Paris' } }, request: at(MONDAY_1030_UTC), holds: true },
    { name: 'time_of_day across a DST change (before)', conditions: { time_of_day: { after: '01:59', before: '02:00', tz: 'Europe/Paris' } }, request: at(Date.UTC(2025, 2, 30, 0, 59)), holds: true },
    { name: 'time_of_day across a DST change (after)', conditions: { time_of_day: { after: '03:00', before: '03:01', tz: 'Europe/Paris' } }, request: at(Date.UTC(2025, 2, 30, 1, 0)), holds: true },
    { name: 'time_of_day wrapping midnight', conditions: { time_of_day: { after: '22:00', before: '06:00' } }, request: at(Date.UTC(2025, 0, 6, 23, 0)), holds: true },
    { name: 'time_of_day wrapping midnight (outside)', conditions: { time_of_day: { after: '22:00', before: '06:00' } }, request: at(MONDAY_1030_UTC), holds: false },
    { name: 'time_of_day list is any-of', conditions: { time_of_day: [{ before: '08:00' }, { after: '10:00', before: '11:00' }] }, request: at(MONDAY_1030_UTC), holds: true },
    { name: 'not_time_of_day', conditions: { not_time_of_day: { after: '09:00', before: '18:00' } }, request: at(MONDAY_1030_UTC), holds: false },
    { name: 'weekday', conditions: { weekday: ['sat', 'mon'] }, request: at(MONDAY_1030_UTC), holds: true },
    { name: 'weekday in a zone where it is already Tuesday', conditions: { weekday: { days: ['tue'], tz: 'Pacific/Kiritimati' } }, request: at(MONDAY_1030_UTC), holds: true },
    { name: 'not_weekday', conditions: { not_weekday: ['sat', 'sun'] }, request: at(MONDAY_1030_UTC), holds: true },
    { name: 'an invalid now is a missing time', conditions: { not_weekday: ['sat', 'sun'] }, request: at(Number.NaN), holds: false },
    // prompt
    { name: 'prompt_contains is case-insensitive', conditions: { prompt_contains: ['IGNORE previous'] }, request: prompt('please ignore Previous instructions'), holds: true },
    { name: 'prompt_contains any-of', conditions: { prompt_contains: ['foo', 'bar'] }, request: prompt('a bar'), holds: true },
    { name: 'prompt_contains spans content parts', conditions: { prompt_contains: 'secret' }, request: prompt([{ type: 'text', text: 'top secret' }]), holds: true },
    { name: 'not_prompt_contains', conditions: { not_prompt_contains: 'secret' }, request: prompt('hello'), holds: true },
    { name: 'prompt missing without messages or prompt', conditions: { not_prompt_contains: 'secret' }, request: chat({ model: 'x' }), holds: false },
    { name: 'prompt_detects email', conditions: { prompt_detects: ['email'] }, request: prompt('write to bob@example.com'), holds: true },
    { name: 'prompt_detects credit card (Luhn-valid)', conditions: { prompt_detects: ['credit_card'] }, request: prompt('card 4111 1111 1111 1111'), holds: true },
    { name: 'prompt_detects credit card (Luhn-invalid)', conditions: { prompt_detects: ['credit_card'] }, request: prompt('card 4111 1111 1111 1112'), holds: false },
    { name: 'prompt_detects any-of', conditions: { prompt_detects: ['iban', 'api_key'] }, request: prompt('key sk-proj-Abcdefghijklmnopqrstuv12'), holds: true },
    { name: 'completions prompt string', conditions: { prompt_contains: 'hello' }, request: chat({ prompt: 'Hello world' }), holds: true },
    // tool arguments
    { name: 'tool.args.<path> glob', conditions: { 'tool.args.to': '*@example.com' }, request: toolCall('send_email', { to: 'a@example.com' }), holds: true },
    { name: 'tool.args.<path> nested', conditions: { 'tool.args.options.mode': 'dry-run' }, request: toolCall('deploy', { options: { mode: 'dry-run' } }), holds: true },
    { name: 'tool.args array: any value (plain)', conditions: { 'tool.args.to': '*@example.com' }, request: toolCall('send_email', { to: ['a@evil.test', 'b@example.com'] }), holds: true },
    { name: 'tool.args array: only_ needs every value', conditions: { 'only_tool.args.to': '*@example.com' }, request: toolCall('send_email', { to: ['a@evil.test', 'b@example.com'] }), holds: false },
    { name: 'tool.args array: not_only_ when one is outside', conditions: { 'not_only_tool.args.to': '*@example.com' }, request: toolCall('send_email', { to: ['a@evil.test', 'b@example.com'] }), holds: true },
    { name: 'tool.args path through an array of objects', conditions: { 'only_tool.args.recipients.email': '*@example.com' }, request: toolCall('send_email', { recipients: [{ email: 'a@example.com' }, { email: 'b@example.com' }] }), holds: true },
    { name: 'tool.args numeric segment indexes an array', conditions: { 'tool.args.to.1': 'b@*' }, request: toolCall('send_email', { to: ['a@x', 'b@y'] }), holds: true },
    { name: 'tool.args numeric comparison', conditions: { 'tool.args.amount_gt': 1000 }, request: toolCall('transfer', { amount: 5000 }), holds: true },
    { name: 'tool.args number equality', conditions: { 'tool.args.retries': 3 }, request: toolCall('x', { retries: 3 }), holds: true },
    { name: 'tool.args boolean equality', conditions: { 'tool.args.force': true }, request: toolCall('x', { force: true }), holds: true },
    { name: 'tool.args type mismatch never matches', conditions: { 'tool.args.amount_gt': 10 }, request: toolCall('transfer', { amount: '5000' }), holds: false },
    { name: 'tool.args object value matches no pattern', conditions: { 'not_only_tool.args.to': '*@example.com' }, request: toolCall('send_email', { to: { address: 'x@evil.test' } }), holds: true },
    { name: 'tool.args missing path', conditions: { 'not_tool.args.to': '*@example.com' }, request: toolCall('send_email', {}), holds: false },
    { name: 'tool.args null is missing', conditions: { 'tool.args.to_exists': false }, request: toolCall('send_email', { to: null }), holds: true },
    // tool.args_invalid (how tool.args.<path> behaves on invalid arguments: "unreadable tool arguments" below)
    { name: 'tool.args_invalid on unparsable arguments', conditions: { 'tool.args_invalid': true }, request: toolCall('send_email', '{not json'), holds: true },
    { name: 'tool.args_invalid on JSON that is not an object', conditions: { 'tool.args_invalid': true }, request: toolCall('send_email', ['a@x']), holds: true },
    { name: 'tool.args_invalid false on an object', conditions: { 'tool.args_invalid': false }, request: toolCall('send_email', { to: 'a@x' }), holds: true },
    { name: 'tool.args_invalid false on blank text', conditions: { 'tool.args_invalid': false }, request: toolCall('send_email', '  '), holds: true },
    { name: 'tool.args_invalid: the explicit flag wins', conditions: { 'tool.args_invalid': true }, request: { ...toolCall('x', { a: 1 }), tool: { name: 'x', arguments: { a: 1 }, arguments_invalid: true } }, holds: true },
    { name: 'tool.args_invalid is missing without a tool call', conditions: { 'tool.args_invalid': false }, request: chat({}), holds: false },
    { name: 'tool.args_invalid_exists without a tool call', conditions: { 'tool.args_invalid_exists': false }, request: chat({}), holds: true },
    { name: 'not_tool.args_invalid on an object', conditions: { 'not_tool.args_invalid': true }, request: toolCall('x', {}), holds: true },
    { name: 'tool.args _contains', conditions: { 'tool.args.query_contains': 'drop table' }, request: toolCall('run_sql', { query: 'DROP TABLE users' }), holds: true },
    { name: 'tool.args _detects', conditions: { 'tool.args.body_detects': 'credit_card' }, request: toolCall('send_email', { body: 'pay with 4111-1111-1111-1111' }), holds: true },
    { name: 'tool.args without a tool call', conditions: { 'tool.args.to_exists': false }, request: chat({}), holds: true },
    // AND / combinations
    { name: 'several keys are AND-ed (all hold)', conditions: { model: 'mistral-*', max_tokens_lt: 100 }, request: chat({ model: 'mistral-x', max_tokens: 50 }), holds: true },
    { name: 'several keys are AND-ed (one fails)', conditions: { model: 'mistral-*', max_tokens_lt: 100 }, request: chat({ model: 'mistral-x', max_tokens: 500 }), holds: false },
    { name: 'an empty conditions object always holds', conditions: {}, request: chat({}), holds: true },
  ];

  for (const c of cases) {
    it(c.name, () => {
      const rule = { action: '*', resource: '*', conditions: c.conditions };
      const allowed = decide([{ name: 'p', rules: [{ effect: 'allow', ...rule }] }], c.request);
      assert.equal(allowed.decision, c.holds ? 'allow' : 'deny', 'as an allow rule');
      const denied = decide([{ name: 'p', rules: [{ effect: 'deny', ...rule }, ALLOW_ALL] }], c.request);
      assert.equal(denied.decision, c.holds ? 'deny' : 'allow', 'as a deny rule');
    });
  }
});

describe('tool-call governance', () => {
  const toolPolicy: PolicyDocument = {
    name: 'tool-guard',
    rules: [
      { id: 'no-deletes', effect: 'deny', action: 'tool:call', resource: 'mistral/tools/delete_*' },
      { id: 'internal-mail-only', effect: 'deny', action: 'tool:call', resource: '*/tools/send_email', conditions: { 'not_only_tool.args.to': '*@example.com' } },
      { id: 'mail-needs-recipient', effect: 'deny', action: 'tool:call', resource: '*/tools/send_email', conditions: { 'tool.args.to_exists': false } },
      { effect: 'allow', action: 'tool:call', resource: 'mistral/tools/*' },
    ],
  };
  const guard = snapshot([toolPolicy]);
  const call = (name: string, args: unknown) => guard.evaluate({ action: 'tool:call', resource: `mistral/tools/${name}`, tool: { name, arguments: args } });

  it('denies delete_*', () => {
    assert.deepEqual([call('delete_file', { path: '/x' }).decision, call('delete_file', {}).rule], ['deny', 'no-deletes']);
  });
  it('allows other tools', () => {
    assert.equal(call('read_file', { path: '/x' }).decision, 'allow');
  });
  it('allows send_email to @example.com', () => {
    assert.equal(call('send_email', { to: 'alice@example.com' }).decision, 'allow');
  });
  it('denies send_email elsewhere', () => {
    const d = call('send_email', { to: 'mallory@evil.test' });
    assert.deepEqual([d.decision, d.rule], ['deny', 'internal-mail-only']);
    assert.match(d.reason, /internal-mail-only of policy tool-guard: not \(tool\.args\.to \[mallory@evil\.test\]: every value matches \*@example\.com\)$/);
  });
  it('denies send_email when one of several recipients is elsewhere', () => {
    assert.equal(call('send_email', { to: ['alice@example.com', 'mallory@evil.test'] }).decision, 'deny');
  });
  it('denies send_email with a look-alike domain', () => {
    assert.equal(call('send_email', { to: 'alice@example.com.evil.test' }).decision, 'deny');
  });
  it('denies send_email without a recipient', () => {
    assert.equal(call('send_email', {}).rule, 'mail-needs-recipient');
  });
});

describe('toolCallFacts builds the tool facts from the raw argument text', () => {
  const cases: { name: string; raw: string; arguments: unknown; invalid: boolean }[] = [
    { name: 'a JSON object', raw: '{"path": "/etc/passwd"}', arguments: { path: '/etc/passwd' }, invalid: false },
    { name: 'an empty object', raw: '{}', arguments: {}, invalid: false },
    { name: 'empty text is {}', raw: '', arguments: {}, invalid: false },
    { name: 'whitespace-only text is {}', raw: ' \n\t ', arguments: {}, invalid: false },
    { name: 'unparsable text stays the raw string', raw: '{"path": "/etc/passwd"', arguments: '{"path": "/etc/passwd"', invalid: true },
    { name: 'a JSON array', raw: '[{"path": "/etc/passwd"}]', arguments: [{ path: '/etc/passwd' }], invalid: true },
    { name: 'a JSON string', raw: '"{\\"path\\": 1}"', arguments: '{"path": 1}', invalid: true },
    { name: 'a JSON number', raw: '42', arguments: 42, invalid: true },
    { name: 'JSON null', raw: 'null', arguments: null, invalid: true },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const facts = toolCallFacts('read_file', c.raw);
      assert.deepEqual(facts, { name: 'read_file', arguments: c.arguments, arguments_invalid: c.invalid });
      assert.equal(toolArgumentsInvalid({ name: 'read_file', arguments: facts.arguments }), c.invalid, 'derived from arguments alone');
    });
  }

  it('derives the flag from {name, arguments} when a caller does not pass it', () => {
    const derived: [unknown, boolean][] = [[{ a: 1 }, false], [undefined, false], ['', false], ['  ', false], ['{bad', true], [[1], true], [null, true], [3, true]];
    for (const [args, invalid] of derived) assert.equal(toolArgumentsInvalid({ name: 't', arguments: args }), invalid, JSON.stringify(args));
    assert.equal(toolArgumentsInvalid({ name: 't', arguments: { a: 1 }, arguments_invalid: true }), true);
    assert.equal(toolArgumentsInvalid({ name: 't', arguments: '{bad', arguments_invalid: false }), false);
  });
});

/**
 * Fail closed on tool arguments that cannot be read: a tool.args.<path> condition, whatever its form, holds in a deny
 * rule and is false in an allow (warn, audit) rule. Each case: the rule's conditions, the raw argument text, and
 * whether the rule matches as a deny and as an allow.
 */
describe('unreadable tool arguments', () => {
  const request = (raw: string): EvalRequest => ({ action: 'tool:call', resource: 'mistral/tools/delete_file', tool: toolCallFacts('delete_file', raw) });
  const cases: { name: string; conditions: Record<string, unknown>; raw: string; deny: boolean; allow: boolean }[] = [
    { name: 'glob: readable and matching', conditions: { 'tool.args.path': '/etc/*' }, raw: '{"path": "/etc/passwd"}', deny: true, allow: true },
    { name: 'glob: readable, not matching', conditions: { 'tool.args.path': '/etc/*' }, raw: '{"path": "/tmp/x"}', deny: false, allow: false },
    { name: 'glob: unparsable', conditions: { 'tool.args.path': '/etc/*' }, raw: '{"path": "/etc/passwd"', deny: true, allow: false },
    { name: 'glob: unparsable, other text', conditions: { 'tool.args.path': '/etc/*' }, raw: 'path=/etc/passwd', deny: true, allow: false },
    { name: 'glob: a JSON array', conditions: { 'tool.args.path': '/etc/*' }, raw: '[{"path": "/etc/passwd"}]', deny: true, allow: false },
    { name: 'glob: a JSON string', conditions: { 'tool.args.path': '/etc/*' }, raw: '"/etc/passwd"', deny: true, allow: false },
    { name: 'glob: JSON null', conditions: { 'tool.args.path': '/etc/*' }, raw: 'null', deny: true, allow: false },
    { name: 'glob: empty text is {} (path missing)', conditions: { 'tool.args.path': '/etc/*' }, raw: '', deny: false, allow: false },
    { name: 'not_: unparsable', conditions: { 'not_tool.args.path': '/tmp/*' }, raw: '{', deny: true, allow: false },
    { name: 'only_: unparsable', conditions: { 'only_tool.args.path': '/tmp/*' }, raw: '{', deny: true, allow: false },
    { name: 'not_only_: unparsable', conditions: { 'not_only_tool.args.to': '*@example.com' }, raw: '{', deny: true, allow: false },
    { name: '_exists true: unparsable', conditions: { 'tool.args.path_exists': true }, raw: '{', deny: true, allow: false },
    { name: '_exists false: unparsable', conditions: { 'tool.args.path_exists': false }, raw: '{', deny: true, allow: false },
    { name: '_exists false: empty text', conditions: { 'tool.args.path_exists': false }, raw: '', deny: true, allow: true },
    { name: '_gt: unparsable', conditions: { 'tool.args.amount_gt': 1000 }, raw: '{"amount": 5', deny: true, allow: false },
    { name: '_contains: unparsable', conditions: { 'tool.args.query_contains': 'drop' }, raw: 'DROP TABLE', deny: true, allow: false },
    { name: '_detects: unparsable', conditions: { 'tool.args.body_detects': 'email' }, raw: '{', deny: true, allow: false },
    { name: 'AND with another condition that fails', conditions: { 'tool.args.path': '/etc/*', 'key.id': 'nobody' }, raw: '{', deny: false, allow: false },
    { name: 'other facts are not affected', conditions: { 'tool.name': 'delete_file' }, raw: '{', deny: true, allow: true },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const rule = { action: 'tool:call', resource: '*/tools/*', conditions: c.conditions };
      const denied = decide([{ name: 'p', rules: [{ id: 'r', effect: 'deny', ...rule }, ALLOW_ALL] }], request(c.raw));
      assert.equal(denied.decision, c.deny ? 'deny' : 'allow', 'as a deny rule');
      for (const effect of ['allow', 'warn', 'audit'] as const) {
        const allowed = decide([{ name: 'p', rules: [{ effect, ...rule }] }], request(c.raw));
        assert.equal(allowed.decision, c.allow ? 'allow' : 'deny', `as an ${effect} rule`);
      }
    });
  }

  it('explains a fail-closed denial', () => {
    const d = decide([{ name: 'files', rules: [{ id: 'no-etc', effect: 'deny', action: 'tool:call', resource: '*', conditions: { 'tool.args.path': '/etc/*' } }, ALLOW_ALL] }], request('{"path": "/etc/pa'));
    assert.deepEqual([d.decision, d.rule], ['deny', 'no-etc']);
    assert.equal(d.reason, 'denied by rule no-etc of policy files: tool.args.path unreadable: the tool arguments are not a JSON object (fail closed)');
  });

  it('the docs/policies.md example (section 11)', () => {
    const noEtc: Rule = { id: 'no-etc', effect: 'deny', action: 'tool:call', resource: '*/tools/*', conditions: { 'tool.args.path': '/etc/*' } };
    const tmpOnly: Rule = { id: 'tmp-only', effect: 'allow', action: 'tool:call', resource: '*/tools/read_file', conditions: { 'only_tool.args.path': '/tmp/*' } };
    const files = snapshot([{ name: 'files', rules: [noEtc, tmpOnly] }]);
    const read = (raw: string) => files.evaluate({ action: 'tool:call', resource: 'mistral/tools/read_file', tool: toolCallFacts('read_file', raw) });
    assert.equal(read('{"path": "/tmp/a"}').rule, 'tmp-only');
    for (const raw of ['{"path": "/etc/passwd"}', '{"path": "/etc/passwd"', 'path=/etc/passwd', '[{"path": "/etc/passwd"}]']) {
      assert.deepEqual([read(raw).decision, read(raw).rule], ['deny', 'no-etc'], raw);
    }
    const withoutDeny = snapshot([{ name: 'files', rules: [tmpOnly] }]);
    assert.equal(withoutDeny.evaluate({ action: 'tool:call', resource: 'mistral/tools/read_file', tool: toolCallFacts('read_file', '{"path": "/tmp/a"') }).reason_code, NO_RULE_MATCH);
  });

  it('callers that pass {name, arguments} without the flag get the same decisions', () => {
    const guard = snapshot([{ name: 'p', rules: [{ effect: 'deny', action: 'tool:call', resource: '*', conditions: { 'tool.args.path': '/etc/*' } }, ALLOW_ALL] }]);
    const legacy = (args: unknown) => guard.evaluate({ action: 'tool:call', resource: 'mistral/tools/read_file', tool: { name: 'read_file', arguments: args } }).decision;
    assert.deepEqual([legacy('{not json'), legacy([1]), legacy({ path: '/etc/x' }), legacy({ path: '/tmp/x' }), legacy('')], ['deny', 'deny', 'deny', 'allow', 'allow']);
  });
});

/**
 * Tool names are case-insensitive by default (a runtime may resolve Delete_File to delete_file): the tool:call
 * resource, tool.name and tools. Each case is evaluated as a deny next to an allow-all rule, in the default mode and
 * with "tool_names": "exact".
 */
describe('tool names ignore case', () => {
  const call = (name: string, provider = 'mistral'): EvalRequest => ({ action: 'tool:call', resource: `${provider}/tools/${name}`, provider, tool: toolCallFacts(name, '{}') });
  const declaring = (...names: string[]) => chat({ tools: names.map((name) => ({ type: 'function', function: { name } })) });
  const cases: { name: string; rule: Partial<Rule>; request: EvalRequest; denied: boolean; exact: boolean }[] = [
    { name: 'resource: Delete_File', rule: { resource: '*/tools/delete_file' }, request: call('Delete_File'), denied: true, exact: false },
    { name: 'resource: DELETE_FILE', rule: { resource: '*/tools/delete_file' }, request: call('DELETE_FILE'), denied: true, exact: false },
    { name: 'resource: the same case', rule: { resource: '*/tools/delete_file' }, request: call('delete_file'), denied: true, exact: true },
    { name: 'resource: glob', rule: { resource: 'mistral/tools/delete_*' }, request: call('DELETE_USER'), denied: true, exact: false },
    { name: 'resource: ? glob', rule: { resource: 'mistral/tools/delete_fil?' }, request: call('DELETE_FILE'), denied: true, exact: false },
    { name: 'resource: upper-case pattern', rule: { resource: '*/tools/Delete_File' }, request: call('delete_file'), denied: true, exact: false },
    { name: 'resource: pattern list', rule: { resource: ['openai/tools/x', '*/tools/delete_file'] }, request: call('Delete_File'), denied: true, exact: false },
    { name: 'resource: another tool', rule: { resource: '*/tools/delete_file' }, request: call('Delete_Files'), denied: false, exact: false },
    { name: 'not_resource: ignores case too', rule: { resource: '*/tools/*', not_resource: '*/tools/read_file' }, request: call('READ_FILE'), denied: false, exact: true },
    { name: 'resource: non-ASCII letters fold', rule: { resource: '*/tools/écrire' }, request: call('ÉCRIRE'), denied: true, exact: false },
    { name: 'resource: long s folds like s (casefold)', rule: { resource: '*/tools/send_email' }, request: call('ſend_email'), denied: true, exact: false },
    { name: 'resource: only tool:call resources fold', rule: { action: '*', resource: 'mistral/mistral-large-*' }, request: chat({ model: 'Mistral-Large-latest' }), denied: false, exact: false },
    { name: 'tool.name: Delete_File', rule: { conditions: { 'tool.name': 'delete_file' } }, request: call('Delete_File'), denied: true, exact: false },
    { name: 'tool.name: DELETE_FILE glob', rule: { conditions: { 'tool.name': 'delete_*' } }, request: call('DELETE_FILE'), denied: true, exact: false },
    { name: 'tool.name: list', rule: { conditions: { 'tool.name': ['x', 'Delete_File'] } }, request: call('dElEtE_fIlE'), denied: true, exact: false },
    { name: 'not_tool.name: ignores case too', rule: { conditions: { 'not_tool.name': 'read_file' } }, request: call('Read_File'), denied: false, exact: true },
    { name: 'tool.name_contains already ignores case', rule: { conditions: { 'tool.name_contains': 'delete' } }, request: call('DELETE_FILE'), denied: true, exact: true },
    { name: 'tools: a declared Delete_File', rule: { action: 'llm:chat.completions', resource: '*', conditions: { tools: 'delete_file' } }, request: declaring('search', 'Delete_File'), denied: true, exact: false },
    { name: 'tools: DELETE_* glob', rule: { action: 'llm:chat.completions', resource: '*', conditions: { tools: 'delete_*' } }, request: declaring('DELETE_USER'), denied: true, exact: false },
    { name: 'only_tools: every declared tool, any case', rule: { action: 'llm:chat.completions', resource: '*', conditions: { not_only_tools: ['search', 'calc'] } }, request: declaring('Search', 'CALC'), denied: false, exact: true },
    { name: 'not_tools: none of them, any case', rule: { action: 'llm:chat.completions', resource: '*', conditions: { not_tools: 'shell' } }, request: declaring('SHELL'), denied: false, exact: true },
    { name: 'model names stay case-sensitive', rule: { action: '*', resource: '*', conditions: { model: 'mistral-large-latest' } }, request: chat({ model: 'Mistral-Large-Latest' }), denied: false, exact: false },
    { name: 'key ids stay case-sensitive', rule: { conditions: { 'key.id': 'key_a' } }, request: { ...call('x'), key: { id: 'KEY_A', attributes: {} } }, denied: false, exact: false },
    { name: 'attributes stay case-sensitive', rule: { conditions: { 'key.team': 'ops' } }, request: { ...call('x'), key: { id: 'k', attributes: { team: 'OPS' } } }, denied: false, exact: false },
    // the resource-head index (rules indexed by their provider prefix) with mixed-case names
    { name: 'index: exact head, mixed-case tool', rule: { resource: 'mistral/tools/delete_file' }, request: call('Delete_File'), denied: true, exact: false },
    { name: 'index: mixed-case head in the pattern', rule: { resource: 'Mistral/tools/delete_file' }, request: call('DELETE_FILE'), denied: true, exact: false },
    { name: 'index: mixed-case head in the request', rule: { resource: 'mistral/tools/delete_*' }, request: call('Delete_File', 'MISTRAL'), denied: true, exact: false },
    { name: 'index: another provider', rule: { resource: 'openai/tools/delete_*' }, request: call('Delete_File'), denied: false, exact: false },
    { name: 'index: a mixed-case head outside tool calls is exact', rule: { action: '*', resource: 'Mistral/*' }, request: chat({}, { resource: 'Mistral/x' }), denied: true, exact: true },
    { name: 'index: ... and does not fold', rule: { action: '*', resource: 'Mistral/*' }, request: chat({}, { resource: 'mistral/x' }), denied: false, exact: false },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const rule = { effect: 'deny', action: 'tool:call', resource: '*', ...c.rule } as Rule;
      const other: Rule = { effect: 'deny', action: 'tool:call', resource: 'zzz/tools/*' }; // another indexed head
      const folded = decide([{ name: 'p', rules: [other, rule, ALLOW_ALL] }], c.request);
      assert.equal(folded.decision, c.denied ? 'deny' : 'allow', 'by default (case_insensitive)');
      assert.equal(decide([{ name: 'p', tool_names: 'case_insensitive', rules: [other, rule, ALLOW_ALL] }], c.request).decision, folded.decision, 'explicit case_insensitive');
      const exact = decide([{ name: 'p', tool_names: 'exact', rules: [other, rule, ALLOW_ALL] }], c.request);
      assert.equal(exact.decision, c.exact ? 'deny' : 'allow', 'with tool_names exact');
    });
  }

  it('the mode is per policy', () => {
    const policies: PolicyDocument[] = [
      { name: 'exact', tool_names: 'exact', rules: [{ id: 'exact-deny', effect: 'deny', action: 'tool:call', resource: '*/tools/delete_file' }] },
      { name: 'folded', rules: [{ id: 'folded-deny', effect: 'deny', action: 'tool:call', resource: '*/tools/delete_file' }, ALLOW_ALL] },
    ];
    const guard = snapshot(policies);
    assert.equal(guard.evaluate(call('delete_file')).rule, 'exact-deny');
    assert.equal(guard.evaluate(call('Delete_File')).rule, 'folded-deny');
    const exactOnly = snapshot([policies[0] as PolicyDocument, { name: 'all', rules: [ALLOW_ALL] }]);
    assert.equal(exactOnly.evaluate(call('Delete_File')).decision, 'allow');
  });

  it('an allow matches any case too, and the reason shows the name as called', () => {
    const guard = snapshot([{ name: 'tools', rules: [{ id: 'read', effect: 'allow', action: 'tool:call', resource: 'mistral/tools/read_file', conditions: { 'tool.name': 'read_*' } }] }]);
    const d = guard.evaluate(call('Read_File'));
    assert.deepEqual([d.decision, d.rule], ['allow', 'read']);
    assert.equal(d.reason, 'allowed by rule read of policy tools: tool.name Read_File matches read_* (ignoring case)');
  });

  it('the index still separates providers and actions over many heads', () => {
    const rules: Rule[] = ['mistral', 'OpenAI', 'deepseek'].flatMap((p) => [
      { id: `deny-${p}`, effect: 'deny', action: 'tool:call', resource: `${p}/tools/delete_*` } as Rule,
      { id: `allow-${p}`, effect: 'allow', action: 'tool:call', resource: `${p}/tools/*` } as Rule,
    ]);
    const guard = snapshot([{ name: 'p', rules }]);
    assert.equal(guard.evaluate(call('DELETE_X', 'openai')).rule, 'deny-OpenAI');
    assert.equal(guard.evaluate(call('Read_X', 'OPENAI')).rule, 'allow-OpenAI');
    assert.equal(guard.evaluate(call('Delete_X', 'DeepSeek')).rule, 'deny-deepseek');
    assert.equal(guard.evaluate(call('delete_x', 'groq')).reason_code, NO_RULE_MATCH);
    assert.equal(guard.evaluate({ action: 'llm:chat.completions', resource: 'OPENAI/tools/read_x' }).reason_code, NO_RULE_MATCH);
  });
});

describe('robustness', () => {
  const everything: PolicyDocument = {
    name: 'every-fact',
    rules: [
      {
        effect: 'deny',
        action: '*',
        resource: '*',
        conditions: {
          max_tokens_gt: 1,
          prompt_chars_gt: 1,
          message_count_gt: 0,
          tools: '*',
          prompt_detects: ['email', 'credit_card', 'api_key', 'phone', 'iban'],
          'tool.args.a.b': '*',
          'key.team': '*',
          time_of_day: { after: '00:00', tz: 'Asia/Tokyo' },
        },
      },
      ALLOW_ALL,
    ],
  };
  const odd: unknown[] = [
    null,
    [],
    'text',
    { messages: 'nope', tools: 'nope', max_tokens: null },
    { messages: [null, 1, 'x', { content: null }, { content: [null, 1, { text: 5 }] }], tools: [null, { function: null }, { function: { name: 7 } }] },
    { prompt: [1, null], stream: 1, max_tokens: Number.POSITIVE_INFINITY },
  ];
  for (const [i, body] of odd.entries()) {
    it(`evaluates odd body #${i} without throwing and without allowing by accident`, () => {
      const d = decide([everything], { action: 'x', resource: 'y', body: body as Record<string, unknown>, tool: { name: 't', arguments: body } });
      assert.equal(d.decision, 'allow'); // the deny rule's facts are missing, so ALLOW_ALL decides
      assert.equal(d.rule, '1');
      const strictAllow = decide([{ name: 'p', rules: [{ ...everything.rules[0], effect: 'allow' } as Rule] }], { action: 'x', resource: 'y', body: body as Record<string, unknown> });
      assert.equal(strictAllow.decision, 'deny');
    });
  }

  it('denies with ENGINE_UNAVAILABLE when reading the request throws', () => {
    const body = {};
    Object.defineProperty(body, 'max_tokens', { enumerable: true, get: () => { throw new Error('boom'); } });
    const d = decide([SEED_POLICY], chat(body));
    assert.deepEqual([d.decision, d.reason_code], ['deny', ENGINE_UNAVAILABLE]);
    assert.match(d.reason, /boom/);
  });

  it('never echoes the prompt in a reason', () => {
    const d = decide([{ name: 'p', rules: [{ effect: 'deny', action: '*', resource: '*', conditions: { prompt_contains: 'password' } }] }], chat({ messages: [{ content: 'my password is hunter2' }] }));
    assert.equal(d.decision, 'deny');
    assert.doesNotMatch(d.reason, /hunter2/);
    assert.match(d.reason, /prompt contains password/);
  });

  it('compilePolicies rejects a document that does not validate', () => {
    assert.throws(() => compilePolicies([{ id: 'pol_bad', document: { name: 'x', rules: [] } }]), /policy pol_bad is invalid: \$\.rules: must contain at least one rule/);
  });

  it('the compiled snapshot does not follow later mutation of the document', () => {
    const doc: PolicyDocument = { name: 'p', rules: [{ effect: 'allow', action: 'x', resource: 'y' }] };
    const snap = snapshot([doc]);
    (doc.rules[0] as Rule).effect = 'deny';
    assert.equal(snap.evaluate({ action: 'x', resource: 'y' }).decision, 'allow');
  });
});
