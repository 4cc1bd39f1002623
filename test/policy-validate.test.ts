import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validatePolicy } from '../src/policy/index.js';

const rule = (extra: Record<string, unknown> = {}) => ({ effect: 'allow', action: 'llm:chat.completions', resource: 'mistral/*', ...extra });
const policy = (...rules: unknown[]) => ({ name: 'p', rules });
const withConditions = (conditions: unknown) => policy(rule({ conditions }));

function errorsOf(doc: unknown) {
  const result = validatePolicy(doc);
  assert.equal(result.ok, false, 'expected the document to be rejected');
  return result.ok ? [] : result.errors;
}

describe('validatePolicy accepts', () => {
  const valid: [string, unknown][] = [
    ['the seed policy', { name: 'mistral-usage-policy', rules: [rule({ conditions: { model: ['mistral-large-latest', 'mistral-medium-latest'] } }), rule({ effect: 'deny', conditions: { max_tokens_gt: 8192 } })] }],
    ['every field', {
      name: 'full',
      description: 'all the things',
      scope: { key_ids: ['key_a', 'key_ci_*'], key_attributes: { team: ['a', 'b'], env: 'prod' } },
      rules: [
        { id: 'r1', description: 'd', effect: 'warn', action: ['llm:*', 'tool:call'], not_action: 'llm:models.list', resource: '*', not_resource: ['openai/*'] },
        { effect: 'audit', not_action: 'x', not_resource: 'y' },
      ],
    }],
    ['tool_names exact', { name: 'p', tool_names: 'exact', rules: [rule()] }],
    ['tool_names case_insensitive', { name: 'p', tool_names: 'case_insensitive', rules: [rule()] }],
    ['every condition family', withConditions({
      max_tokens_gte: 1, temperature_lt: [0.5, 0.7], top_p_lte: 1, n_eq: 1, message_count: 3, prompt_chars_gt: 10, tool_count_lt: 5,
      model: 'mistral-*', not_provider: ['openai'], agent_id_contains: 'bot', 'key.id': 'key_?', 'not_key.team': 'x', 'tool.name': 'send_*',
      only_tools: ['a', 'b'], prompt_detects: ['email', 'credit_card', 'api_key', 'phone', 'iban'], not_prompt_contains: 'x',
      stream: false, tools_present: true, 'tool.args.to': ['*@example.com', 3, true], 'not_only_tool.args.cc': '*@example.com',
      'tool.args.amount_lte': 100, 'tool.args.to_exists': true, model_exists: false, 'tool.args_invalid': false, 'tool.args_invalid_exists': true,
      time_of_day: [{ after: '09:00', before: '18:00', tz: 'Europe/Paris' }, { after: '22:00' }], not_weekday: ['sat', { days: ['sun'], tz: 'Asia/Tokyo' }],
    })],
  ];
  for (const [name, doc] of valid) {
    it(name, () => {
      const result = validatePolicy(doc);
      assert.deepEqual(result, { ok: true, policy: doc });
      assert.ok(result.ok && result.policy !== doc, 'returns a copy the caller cannot mutate');
    });
  }
});

describe('validatePolicy reports every problem with its JSON path', () => {
  const cases: { name: string; doc: unknown; errors: [path: string, message: string | RegExp][] }[] = [
    { name: 'not an object', doc: [], errors: [['$', 'a policy must be a JSON object, got an array']] },
    { name: 'missing name', doc: { rules: [rule()] }, errors: [['$.name', 'required: a non-empty string']] },
    { name: 'blank name', doc: { name: '  ', rules: [rule()] }, errors: [['$.name', 'required: a non-empty string']] },
    { name: 'missing rules', doc: { name: 'p' }, errors: [['$.rules', 'required: a non-empty list of rules, got nothing']] },
    { name: 'empty rules', doc: policy(), errors: [['$.rules', 'must contain at least one rule']] },
    { name: 'unknown policy field', doc: { ...policy(rule()), version: 2 }, errors: [['$.version', 'unknown field; allowed fields: name, description, scope, tool_names, rules']] },
    { name: 'tool_names: an unknown mode', doc: { ...policy(rule()), tool_names: 'ignore_case' }, errors: [['$.tool_names', 'must be "case_insensitive" (the default: tool names ignore case) or "exact", got "ignore_case"']] },
    { name: 'tool_names: modes are case-sensitive', doc: { ...policy(rule()), tool_names: 'Exact' }, errors: [['$.tool_names', 'must be "case_insensitive" (the default: tool names ignore case) or "exact", got "Exact"']] },
    { name: 'tool_names: not a string', doc: { ...policy(rule()), tool_names: false }, errors: [['$.tool_names', 'must be "case_insensitive" (the default: tool names ignore case) or "exact", got a boolean']] },
    { name: 'tool_names: null', doc: { ...policy(rule()), tool_names: null }, errors: [['$.tool_names', 'must be "case_insensitive" (the default: tool names ignore case) or "exact", got null']] },
    { name: 'tool.args_invalid is a boolean fact', doc: withConditions({ 'tool.args_invalid': 'yes' }), errors: [['$.rules[0].conditions["tool.args_invalid"]', 'got a string; expected true or false or a non-empty list of them']] },
    { name: 'tool.args_invalid takes no string operator', doc: withConditions({ 'tool.args_invalid_contains': 'x' }), errors: [['$.rules[0].conditions["tool.args_invalid_contains"]', 'tool.args_invalid is a boolean fact; it takes no suffix, and _exists']] },
    { name: 'description type', doc: { ...policy(rule()), description: 5 }, errors: [['$.description', 'must be a string, got a number']] },
    { name: 'rule not an object', doc: policy('allow'), errors: [['$.rules[0]', 'a rule must be a JSON object, got a string']] },
    { name: 'unknown effect', doc: policy(rule(), rule({ effect: 'block' })), errors: [['$.rules[1].effect', 'must be one of allow, deny, warn, audit']] },
    { name: 'misspelt rule field', doc: policy(rule({ condition: {} })), errors: [['$.rules[0].condition', /^unknown field; allowed fields: id, description, effect, action, not_action, resource, not_resource, conditions$/]] },
    { name: 'no action', doc: policy({ effect: 'allow', resource: '*' }), errors: [['$.rules[0]', 'needs "action" or "not_action"']] },
    { name: 'no resource', doc: policy({ effect: 'allow', action: '*' }), errors: [['$.rules[0]', 'needs "resource" or "not_resource"']] },
    { name: 'empty action pattern', doc: policy(rule({ action: '' })), errors: [['$.rules[0].action', 'an empty pattern can never match']] },
    { name: 'action with impossible characters', doc: policy(rule({ action: ['llm:chat', 'llm chat'] })), errors: [['$.rules[0].action[1]', '" " can never match: actions contain only letters, digits, . _ - : /']] },
    { name: 'not_action with impossible characters', doc: policy(rule({ not_action: 'tool@call' })), errors: [['$.rules[0].not_action', '"@" can never match: actions contain only letters, digits, . _ - : /']] },
    { name: 'empty resource list', doc: policy(rule({ resource: [] })), errors: [['$.rules[0].resource', 'must be a pattern or a non-empty list of patterns, got an empty list']] },
    { name: 'empty resource pattern', doc: policy(rule({ resource: ['mistral/*', ''] })), errors: [['$.rules[0].resource[1]', 'an empty pattern can never match']] },
    { name: 'resource with a control character', doc: policy(rule({ not_resource: 'a\nb' })), errors: [['$.rules[0].not_resource', 'control characters can never match a resource']] },
    { name: 'pattern of the wrong type', doc: policy(rule({ resource: 5 })), errors: [['$.rules[0].resource', 'must be a string pattern, got a number']] },
    { name: 'duplicate rule ids', doc: policy(rule({ id: 'a' }), rule({ id: 'a' })), errors: [['$.rules[1].id', 'duplicate rule id "a" (also rule 0)']] },
    { name: 'an id equal to another rule index', doc: policy(rule(), rule({ id: '0' })), errors: [['$.rules[1].id', 'duplicate rule id "0" (also rule 0)']] },
    { name: 'empty rule id', doc: policy(rule({ id: '' })), errors: [['$.rules[0].id', 'must be a non-empty string']] },
    { name: 'conditions not an object', doc: withConditions(['model']), errors: [['$.rules[0].conditions', 'must be an object of condition key -> value, got an array']] },
    { name: 'unknown condition key lists the known ones', doc: withConditions({ max_token_gt: 5 }), errors: [['$.rules[0].conditions.max_token_gt', /^unknown condition "max_token_gt"; known conditions: numbers max_tokens, temperature, top_p, n, message_count, prompt_chars, tool_count .*strings model, provider, agent_id, key\.id, tool\.name, tools, prompt, key\.<attribute> .*booleans stream, tools_present, tool\.args_invalid; .*time_of_day; weekday/]] },
    { name: 'condition paths quote dotted keys', doc: withConditions({ 'key.team': 5 }), errors: [['$.rules[0].conditions["key.team"]', 'got a number; expected a non-empty string (exact or * ? glob) or a non-empty list of them']] },
    { name: 'number expected', doc: withConditions({ max_tokens_gt: '8192' }), errors: [['$.rules[0].conditions.max_tokens_gt', 'got a string; expected a number or a non-empty list of them']] },
    { name: 'number list item', doc: withConditions({ max_tokens_eq: [1, 'two'] }), errors: [['$.rules[0].conditions.max_tokens_eq[1]', 'got a string; expected a number']] },
    { name: 'empty list', doc: withConditions({ model: [] }), errors: [['$.rules[0].conditions.model', 'must be a non-empty string (exact or * ? glob) or a non-empty list of them, got an empty list']] },
    { name: 'empty glob', doc: withConditions({ model: ['a', ''] }), errors: [['$.rules[0].conditions.model[1]', 'an empty pattern can never match; expected a non-empty string (exact or * ? glob)']] },
    { name: 'boolean expected', doc: withConditions({ stream: 'true' }), errors: [['$.rules[0].conditions.stream', 'got a string; expected true or false or a non-empty list of them']] },
    { name: 'operator on the wrong fact type', doc: withConditions({ model_gt: 5 }), errors: [['$.rules[0].conditions.model_gt', 'model is a string fact; it takes no suffix, _contains, _detects, and _exists']] },
    { name: 'string operator on a number fact', doc: withConditions({ max_tokens_contains: 'x' }), errors: [['$.rules[0].conditions.max_tokens_contains', 'max_tokens is a number fact; it takes no suffix, _gt, _gte, _lt, _lte, _eq, and _exists']] },
    { name: 'unknown detector', doc: withConditions({ prompt_detects: ['email', 'ssn'] }), errors: [['$.rules[0].conditions.prompt_detects[1]', 'unknown detector "ssn"; expected a detector name (email, credit_card, api_key, phone, iban)']] },
    { name: '_exists takes a boolean', doc: withConditions({ model_exists: 'yes' }), errors: [['$.rules[0].conditions.model_exists', 'must be true or false, got a string']] },
    { name: '_exists takes no prefix', doc: withConditions({ not_model_exists: true }), errors: [['$.rules[0].conditions.not_model_exists', 'not_ and only_ do not apply to _exists; use true or false']] },
    { name: 'an empty tool.args path', doc: withConditions({ 'tool.args.a..b': 'x' }), errors: [['$.rules[0].conditions["tool.args.a..b"]', /^unknown condition/]] },
    { name: 'invalid time format', doc: withConditions({ time_of_day: { after: '9:00', before: '24:00' } }), errors: [
      ['$.rules[0].conditions.time_of_day.after', 'must be a time "HH:MM" between 00:00 and 23:59'],
      ['$.rules[0].conditions.time_of_day.before', 'must be a time "HH:MM" between 00:00 and 23:59'],
    ] },
    { name: 'unknown time zone', doc: withConditions({ time_of_day: { after: '09:00', tz: 'Mars/Olympus' } }), errors: [['$.rules[0].conditions.time_of_day.tz', 'unknown IANA time zone "Mars/Olympus" (e.g. "UTC", "Europe/Paris")']] },
    { name: 'an empty window', doc: withConditions({ time_of_day: { tz: 'UTC' } }), errors: [['$.rules[0].conditions.time_of_day', 'needs "after", "before" or both']] },
    { name: 'a zero-length window', doc: withConditions({ time_of_day: [{ after: '09:00' }, { after: '10:00', before: '10:00' }] }), errors: [['$.rules[0].conditions.time_of_day[1]', '"after" and "before" must differ']] },
    { name: 'window field typo', doc: withConditions({ time_of_day: { from: '09:00', after: '09:00' } }), errors: [['$.rules[0].conditions.time_of_day.from', 'unknown field; allowed fields: after, before, tz']] },
    { name: 'only_ on time_of_day', doc: withConditions({ only_time_of_day: { after: '09:00' } }), errors: [['$.rules[0].conditions.only_time_of_day', 'only_ does not apply to time_of_day']] },
    { name: 'unknown weekday', doc: withConditions({ weekday: ['mon', 'Monday'] }), errors: [['$.rules[0].conditions.weekday[1]', 'must be one of sun, mon, tue, wed, thu, fri, sat']] },
    { name: 'weekday object problems', doc: withConditions({ weekday: { days: [], tz: 'Nowhere' } }), errors: [
      ['$.rules[0].conditions.weekday.tz', 'unknown IANA time zone "Nowhere" (e.g. "UTC", "Europe/Paris")'],
      ['$.rules[0].conditions.weekday.days', 'must name at least one day'],
    ] },
    { name: 'scope without selectors', doc: { ...policy(rule()), scope: {} }, errors: [['$.scope', 'needs "key_ids" and/or "key_attributes" (omit "scope" to apply the policy to every key)']] },
    { name: 'scope field typo', doc: { ...policy(rule()), scope: { keys: ['a'], key_ids: 'a' } }, errors: [['$.scope.keys', 'unknown field; allowed fields: key_ids, key_attributes']] },
    { name: 'scope attribute values', doc: { ...policy(rule()), scope: { key_attributes: { team: [] } } }, errors: [['$.scope.key_attributes.team', 'must be a pattern or a non-empty list of patterns, got an empty list']] },
    { name: 'empty scope attributes', doc: { ...policy(rule()), scope: { key_attributes: {} } }, errors: [['$.scope.key_attributes', 'must be a non-empty object of attribute -> pattern or list of patterns']] },
    { name: 'empty key id', doc: { ...policy(rule()), scope: { key_ids: [''] } }, errors: [['$.scope.key_ids[0]', 'an empty pattern can never match']] },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const errors = errorsOf(c.doc);
      assert.equal(errors.length, c.errors.length, `got ${JSON.stringify(errors)}`);
      c.errors.forEach(([path, message], i) => {
        assert.equal(errors[i]?.path, path);
        if (typeof message === 'string') assert.equal(errors[i]?.message, message);
        else assert.match(errors[i]?.message ?? '', message);
      });
    });
  }

  it('collects problems across rules and fields in one pass', () => {
    const errors = errorsOf({ rules: [rule({ effect: 'nope' }), rule({ conditions: { bogus: 1, max_tokens_gt: 'x' } })] });
    assert.deepEqual(
      errors.map((e) => e.path),
      ['$.name', '$.rules[0].effect', '$.rules[1].conditions.bogus', '$.rules[1].conditions.max_tokens_gt'],
    );
  });
});
