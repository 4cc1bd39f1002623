import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { evaluateJsonLine } from '../src/policy/index.js';

const SEED = {
  name: 'mistral-usage-policy',
  rules: [
    { effect: 'allow', action: 'llm:chat.completions', resource: 'mistral/*', conditions: { model: ['mistral-large-latest', 'mistral-medium-latest'] } },
    { effect: 'deny', action: 'llm:chat.completions', resource: 'mistral/*', conditions: { max_tokens_gt: 8192 } },
  ],
};

const line = (input: unknown) => JSON.parse(evaluateJsonLine(JSON.stringify(input))) as Record<string, unknown>;
const chatRequest = (body: Record<string, unknown>) => ({ action: 'llm:chat.completions', resource: 'mistral/mistral-large-latest', body });

describe('evaluateJsonLine', () => {
  it('answers a decision line for the seed policy', () => {
    assert.deepEqual(line({ policies: [SEED], request: chatRequest({ model: 'mistral-large-latest', max_tokens: 10000 }) }), {
      decision: 'deny',
      reason_code: 'RULE_MATCH',
      policy: 'mistral-usage-policy',
      rule: '1',
      effect: 'deny',
      reason: 'denied by rule 1 of policy mistral-usage-policy: max_tokens 10000 > 8192',
      warnings: [],
      audit_full_request: false,
    });
    const allowed = line({ policies: [SEED], request: chatRequest({ model: 'mistral-large-latest', max_tokens: 100 }) });
    assert.deepEqual([allowed.decision, allowed.policy, allowed.rule], ['allow', 'mistral-usage-policy', '0']);
    const unknownModel = line({ policies: [SEED], request: chatRequest({ model: 'gpt-4' }) });
    assert.deepEqual([unknownModel.decision, unknownModel.policy, unknownModel.rule, unknownModel.reason_code], ['deny', null, null, 'NO_RULE_MATCH']);
  });

  it('passes key, tool and time through to the engine', () => {
    const policy = {
      name: 'p',
      rules: [{ effect: 'allow', action: 'tool:call', resource: '*', conditions: { 'key.team': 'a', 'tool.args.to': '*@example.com', weekday: 'mon' } }],
    };
    const request = {
      action: 'tool:call',
      resource: 'mistral/tools/send_email',
      key: { id: 'key_1', attributes: { team: 'a' } },
      tool: { name: 'send_email', arguments: { to: 'x@example.com' } },
      now: '2025-01-06T10:30:00Z',
    };
    assert.equal(line({ policies: [policy], request }).decision, 'allow');
    assert.equal(line({ policies: [policy], request: { ...request, now: Date.UTC(2025, 0, 7) } }).decision, 'deny');
    assert.equal(line({ policies: [policy], request: { ...request, key: { id: 'key_1' } } }).decision, 'deny');
  });

  it('tool calls: arguments_invalid (given or derived) and tool names that differ in case', () => {
    const policy = {
      name: 'files',
      rules: [
        { id: 'no-etc', effect: 'deny', action: 'tool:call', resource: '*', conditions: { 'tool.args.path': '/etc/*' } },
        { id: 'no-delete', effect: 'deny', action: 'tool:call', resource: '*/tools/delete_file' },
        { effect: 'allow', action: 'tool:call', resource: '*' },
      ],
    };
    const call = (tool: Record<string, unknown>) => line({ policies: [policy], request: { action: 'tool:call', resource: `mistral/tools/${String(tool.name)}`, tool } });
    assert.equal(call({ name: 'read_file', arguments: { path: '/tmp/x' } }).decision, 'allow');
    assert.equal(call({ name: 'read_file', arguments: { path: '/tmp/x' }, arguments_invalid: true }).rule, 'no-etc');
    assert.equal(call({ name: 'read_file', arguments: '{"path": "/etc/pa' }).rule, 'no-etc');
    assert.equal(call({ name: 'read_file', arguments: '' }).decision, 'allow');
    assert.equal(call({ name: 'Delete_File', arguments: {} }).rule, 'no-delete');
    assert.equal(line({ policies: [{ ...policy, tool_names: 'exact' }], request: { action: 'tool:call', resource: 'mistral/tools/Delete_File', tool: { name: 'Delete_File', arguments: {} } } }).decision, 'allow');
    assert.match(String(call({ name: 'x', arguments: {}, arguments_invalid: 'yes' }).error), /\$\.request\.tool\.arguments_invalid: /);
  });

  it('observe mode with no policies, strict on request', () => {
    assert.equal(line({ policies: [], request: chatRequest({}) }).reason_code, 'OBSERVE_MODE_NO_POLICY');
    assert.equal(line({ policies: [], request: chatRequest({}), strict: true }).reason_code, 'NO_POLICY');
  });

  it('invalid policies answer a deny listing every validation error', () => {
    const out = line({ policies: [SEED, { name: 'bad', rules: [{ effect: 'block', action: '*', resource: '*' }] }, {}], request: chatRequest({}) });
    assert.deepEqual(out, {
      decision: 'deny',
      reason_code: 'INVALID_POLICY',
      policy: null,
      rule: null,
      effect: null,
      reason:
        'invalid policy: $.policies[1].rules[0].effect: must be one of allow, deny, warn, audit; ' +
        '$.policies[2].name: required: a non-empty string; $.policies[2].rules: required: a non-empty list of rules, got nothing',
      warnings: [],
      audit_full_request: false,
    });
  });

  it('answers an error line for input that is not a request line', () => {
    assert.match(String(line({ policies: [] }).error), /^invalid input line: \$\.request: /);
    assert.match(String(line({ policies: [], request: { action: 1, resource: 'r' } }).error), /\$\.request\.action: /);
    assert.match(String(line({ policies: [], request: { action: 'a', resource: 'r', extra: 1 } }).error), /extra/);
    assert.match(String(JSON.parse(evaluateJsonLine('{"policies": [')).error), /^invalid JSON: /);
    assert.match(String(JSON.parse(evaluateJsonLine('[]')).error), /^invalid input line: \$: /);
  });

  it('gives the same answers when the compiled policies come from its cache', () => {
    const input = { policies: [SEED], request: chatRequest({ model: 'mistral-medium-latest' }) };
    const first = evaluateJsonLine(JSON.stringify(input));
    for (let i = 0; i < 100; i++) evaluateJsonLine(JSON.stringify({ policies: [{ ...SEED, name: `other-${i}` }], request: input.request }));
    assert.equal(evaluateJsonLine(JSON.stringify(input)), first);
    assert.equal(JSON.parse(first).decision, 'allow');
  });
});
