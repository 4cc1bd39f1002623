/** POST /api/v1/evaluate: decisions against given or live policies, the jsonl output shape, precise 400s. */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { evaluateJsonLine } from '../src/policy/index.js';
import { ADMIN_TOKEN, SEED_POLICY, startHarness, type Harness } from './support/harness.js';

let h: Harness;
before(async () => {
  h = await startHarness();
});
after(() => h.close());

const BIG = { action: 'llm:chat.completions', resource: 'mistral/mistral-large-latest', body: { model: 'mistral-large-latest', max_tokens: 10000 } };
const TOOL_POLICY = {
  name: 'mail',
  rules: [{ id: 'internal', effect: 'allow', action: 'tool:call', resource: 'mistral/tools/send_email', conditions: { 'only_tool.args.to': '*@example.com' } }],
};

test('with policies: the same answer as a jsonl line', async () => {
  const input = { policies: [SEED_POLICY], request: BIG };
  const res = await h.admin('POST', '/api/v1/evaluate', input);
  assert.equal(res.status, 200);
  assert.deepEqual(res.body, JSON.parse(evaluateJsonLine(JSON.stringify(input))));
  assert.equal(res.body.decision, 'deny');
  assert.equal(res.body.policy, 'mistral-usage-policy');
  assert.equal(res.body.rule, '1');
  assert.equal(res.body.reason_code, 'RULE_MATCH');
});

test('tool requests: conditions see the tool arguments', async () => {
  const request = (to: string) => ({ action: 'tool:call', resource: 'mistral/tools/send_email', tool: { name: 'send_email', arguments: { to } } });
  const ok = await h.admin('POST', '/api/v1/evaluate', { policies: [TOOL_POLICY], request: request('bob@example.com') });
  assert.equal(ok.body.decision, 'allow');
  assert.equal(ok.body.rule, 'internal');
  const no = await h.admin('POST', '/api/v1/evaluate', { policies: [TOOL_POLICY], request: request('eve@evil.test') });
  assert.equal(no.body.decision, 'deny');
  assert.equal(no.body.reason_code, 'NO_RULE_MATCH');
});

test('tool requests: unreadable arguments fail closed, tool names ignore case', async () => {
  const policy = {
    name: 'files',
    rules: [
      { id: 'no-etc', effect: 'deny', action: 'tool:call', resource: '*', conditions: { 'tool.args.path': '/etc/*' } },
      { id: 'no-delete', effect: 'deny', action: 'tool:call', resource: '*/tools/delete_file' },
      { id: 'tools', effect: 'allow', action: 'tool:call', resource: '*' },
    ],
  };
  const evaluate = (tool: Record<string, unknown>) =>
    h.admin('POST', '/api/v1/evaluate', { policies: [policy], request: { action: 'tool:call', resource: `mistral/tools/${String(tool.name)}`, tool } });
  assert.equal((await evaluate({ name: 'read_file', arguments: { path: '/tmp/x' } })).body.rule, 'tools');
  assert.equal((await evaluate({ name: 'read_file', arguments: { path: '/tmp/x' }, arguments_invalid: true })).body.rule, 'no-etc');
  const unparsable = await evaluate({ name: 'read_file', arguments: '{"path": "/etc/pa' });
  assert.deepEqual([unparsable.status, unparsable.body.decision, unparsable.body.rule], [200, 'deny', 'no-etc']);
  assert.match(unparsable.body.reason, /fail closed/);
  assert.equal((await evaluate({ name: 'DELETE_FILE', arguments: {} })).body.rule, 'no-delete');
  const bad = await evaluate({ name: 'x', arguments: {}, arguments_invalid: 'yes' });
  assert.equal(bad.status, 400);
  assert.equal(bad.body.error.param, 'request.tool.arguments_invalid');
  // the live policy set reads the flag too
  const { id } = await h.createPolicy(policy);
  const live = await h.admin('POST', '/api/v1/evaluate', { request: { action: 'tool:call', resource: 'mistral/tools/read_file', tool: { name: 'read_file', arguments: {}, arguments_invalid: true } } });
  assert.deepEqual([live.body.decision, live.body.rule], ['deny', 'no-etc']);
  await h.admin('DELETE', `/api/v1/policies/${id}`);
});

test('without policies: the live policy set decides', async () => {
  const observe = await h.admin('POST', '/api/v1/evaluate', { request: BIG });
  assert.equal(observe.body.reason_code, 'OBSERVE_MODE_NO_POLICY');
  assert.equal(observe.body.decision, 'allow');
  const { id } = await h.createPolicy(SEED_POLICY);
  const live = await h.admin('POST', '/api/v1/evaluate', { request: BIG });
  assert.deepEqual(Object.keys(live.body).sort(), ['audit_full_request', 'decision', 'effect', 'policy', 'reason', 'reason_code', 'rule', 'warnings']);
  assert.equal(live.body.decision, 'deny');
  assert.equal(live.body.rule, '1');
  await h.admin('DELETE', `/api/v1/policies/${id}`);
});

test('invalid input: 400 naming the field', async () => {
  const missing = await h.admin('POST', '/api/v1/evaluate', { request: { resource: 'mistral/x' } });
  assert.equal(missing.status, 400);
  assert.equal(missing.body.error.param, 'request.action');
  const unknown = await h.admin('POST', '/api/v1/evaluate', { request: { ...BIG, colour: 'red' } });
  assert.equal(unknown.status, 400);
  assert.match(unknown.body.error.message, /colour/);
  const badPolicy = await h.admin('POST', '/api/v1/evaluate', { policies: [{ name: 'p', rules: [{ effect: 'maybe', action: '*' }] }], request: BIG });
  assert.equal(badPolicy.status, 400);
  assert.equal(badPolicy.body.error.param, 'policies[0].rules[0].effect');
  const badTime = await h.admin('POST', '/api/v1/evaluate', { request: { ...BIG, now: 'yesterday' } });
  assert.equal(badTime.body.error.param, 'request.now');
});

test('admin authentication is required; a missing and a wrong token are told apart', async () => {
  const res = await fetch(`${h.url}/api/v1/evaluate`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ request: BIG }) });
  assert.equal(res.status, 401);
  const missing = (await res.json()) as { error: { code: string; message: string } };
  assert.equal(missing.error.code, 'missing_admin_token');
  assert.match(missing.error.message, /^missing admin token: send "Authorization: Bearer <admin token>"/);
  const wrong = await fetch(`${h.url}/api/v1/evaluate`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}x` },
    body: JSON.stringify({ request: BIG }),
  });
  assert.equal(wrong.status, 401);
  const rejected = (await wrong.json()) as { error: { code: string; message: string } };
  assert.equal(rejected.error.code, 'invalid_admin_token');
  assert.match(rejected.error.message, /^admin token not accepted/);
  const refused = (await h.audit('status=401')).filter((r) => r.agent_id === 'admin').map((r) => r.reason_code);
  assert.deepEqual(refused.slice(0, 2), ['AUTH_INVALID_ADMIN_TOKEN', 'AUTH_MISSING_ADMIN_TOKEN']);
});
