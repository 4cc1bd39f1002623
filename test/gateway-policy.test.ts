/** Policy enforcement on the request path: observe mode, the seed's policy, 403 shape, strict mode, engine failure. */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { SEED_POLICY, startHarness, type Harness } from './support/harness.js';

let h: Harness;
let key: string;

before(async () => {
  h = await startHarness();
  key = (await h.createKey('policy-tests', { team: 'ml' })).key;
});
after(() => h.close());

function chat(body: Record<string, unknown>, headers: Record<string, string> = {}) {
  return fetch(`${h.url}/mistral/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ messages: [{ role: 'user', content: 'hello' }], ...body }),
  });
}

test('observe mode: with no policy everything is allowed, flagged and audited', async () => {
  const res = await chat({ model: 'mistral-small-latest' });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('x-tollgate-policy-mode'), 'observe');
  const id = res.headers.get('x-tollgate-request-id');
  const [record] = (await h.audit()).filter((r) => r.id === id);
  assert.equal(record.decision, 'allow');
  assert.equal(record.reason_code, 'OBSERVE_MODE_NO_POLICY');
});

test("the seed's policy: allow-listed models pass, max_tokens > 8192 is denied even for them, other models fail closed", async () => {
  const { id: policyId } = await h.createPolicy(SEED_POLICY);

  const ok = await chat({ model: 'mistral-large-latest', max_tokens: 100 });
  assert.equal(ok.status, 200);
  assert.equal(ok.headers.get('x-tollgate-policy-mode'), null);
  await ok.text();

  const tooMany = await chat({ model: 'mistral-large-latest', max_tokens: 10000 });
  assert.equal(tooMany.status, 403);
  const denied = (await tooMany.json()) as any;
  assert.equal(denied.error.type, 'permission_error');
  assert.equal(denied.error.code, 'policy_denied');
  assert.equal(denied.error.policy, 'mistral-usage-policy');
  assert.equal(denied.error.rule, '1');
  assert.match(denied.error.message, /mistral-usage-policy/);

  const otherModel = await chat({ model: 'mistral-small-latest' });
  assert.equal(otherModel.status, 403);
  const body = (await otherModel.json()) as any;
  assert.equal(body.error.reason_code, 'NO_RULE_MATCH');

  const records = await h.audit('decision=deny');
  assert.ok(records.some((r) => r.reason_code === 'RULE_MATCH' && r.policy === 'mistral-usage-policy' && r.rule === '1' && r.status === 403));
  assert.ok(records.some((r) => r.reason_code === 'NO_RULE_MATCH' && r.model === 'mistral-small-latest'));
  // Denied requests never reach the provider.
  assert.ok(!h.fake.requests.some((r: any) => r.body?.max_tokens === 10000));

  // Policy changes apply to the next request, without restart.
  const updated = await h.admin('PUT', `/api/v1/policies/${policyId}`, {
    ...SEED_POLICY,
    rules: [{ ...SEED_POLICY.rules[0], conditions: { model: ['mistral-small-latest'] } }],
  });
  assert.equal(updated.status, 200);
  assert.equal((await chat({ model: 'mistral-small-latest' })).status, 200);
  assert.equal((await chat({ model: 'mistral-large-latest' })).status, 403);
  assert.equal((await h.admin('DELETE', `/api/v1/policies/${policyId}`)).status, 200);
  assert.equal((await chat({ model: 'mistral-large-latest' })).headers.get('x-tollgate-policy-mode'), 'observe');
});

test('models listing is governed as llm:models.list on provider/*', async () => {
  const { id } = await h.createPolicy({
    name: 'no-listing',
    rules: [
      { effect: 'deny', action: 'llm:models.list', resource: 'mistral/*' },
      { effect: 'allow', action: 'llm:*', resource: 'mistral/*' },
    ],
  });
  const res = await fetch(`${h.url}/mistral/v1/models`, { headers: { authorization: `Bearer ${key}` } });
  assert.equal(res.status, 403);
  const [record] = await h.audit('status=403');
  assert.equal(record.action, 'llm:models.list');
  assert.equal(record.resource, 'mistral/*');
  await h.admin('DELETE', `/api/v1/policies/${id}`);
});

test('a route the gateway does not know is governed on the model its body names, whatever the content type', async () => {
  const { id } = await h.createPolicy({
    name: 'no-bad-model',
    rules: [
      { id: 'all', effect: 'allow', action: '*', resource: '*' },
      { id: 'bad', effect: 'deny', action: '*', resource: 'mistral/bad-model' },
    ],
  });
  const before = h.fake.requests.length;
  for (const contentType of ['application/json', 'text/plain', 'application/octet-stream', 'application/x-www-form-urlencoded', undefined]) {
    const res = await fetch(`${h.url}/mistral/v1/score`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, ...(contentType ? { 'content-type': contentType } : {}) },
      body: JSON.stringify({ model: 'bad-model', text_1: 'a', text_2: 'b' }),
    });
    assert.equal(res.status, 403, String(contentType));
    const body = (await res.json()) as any;
    assert.equal(body.error.rule, 'bad');
  }
  assert.equal(h.fake.requests.length, before, 'the provider saw none of them');
  const [record] = await h.audit('status=403');
  assert.equal(record.action, 'llm:score');
  assert.equal(record.resource, 'mistral/bad-model');
  await h.admin('DELETE', `/api/v1/policies/${id}`);
});

test('an invalid policy is rejected with every problem and its path, and nothing is stored', async () => {
  const before = (await h.admin('GET', '/api/v1/policies')).body.policies.length;
  const res = await h.admin('POST', '/api/v1/policies', { name: 'bad', rules: [{ effect: 'maybe', action: 'llm:*', resource: 'mistral/*' }] });
  assert.equal(res.status, 400);
  assert.equal(res.body.error.code, 'invalid_policy');
  assert.ok(res.body.error.errors.some((e: any) => e.path.includes('rules[0].effect')));
  assert.equal((await h.admin('GET', '/api/v1/policies')).body.policies.length, before);
});

test('policy names are unique: a second policy of that name, or a rename onto it, is a 409 naming the name', async () => {
  const rules = [{ effect: 'allow', action: 'llm:*', resource: 'mistral/*' }];
  const first = await h.admin('POST', '/api/v1/policies', { name: 'unique-name', rules });
  assert.equal(first.status, 201);
  const again = await h.admin('POST', '/api/v1/policies', { name: 'unique-name', rules });
  assert.equal(again.status, 409);
  assert.equal(again.body.error.code, 'policy_name_taken');
  assert.equal(again.body.error.param, 'name');
  assert.equal(again.body.error.policy_id, first.body.id);
  assert.match(again.body.error.message, new RegExp(`^a policy named "unique-name" already exists \\(${first.body.id}\\)`));
  const other = await h.admin('POST', '/api/v1/policies', { name: 'other-name', rules });
  const renamed = await h.admin('PUT', `/api/v1/policies/${other.body.id}`, { name: 'unique-name', rules });
  assert.equal(renamed.status, 409);
  assert.equal(renamed.body.error.code, 'policy_name_taken');
  // Keeping its own name is no conflict.
  assert.equal((await h.admin('PUT', `/api/v1/policies/${first.body.id}`, { name: 'unique-name', rules, description: 'kept' })).status, 200);
  const names = (await h.admin('GET', '/api/v1/policies')).body.policies.map((p: { name: string }) => p.name);
  assert.deepEqual(names.filter((n: string) => n === 'unique-name' || n === 'other-name').sort(), ['other-name', 'unique-name']);
  for (const id of [first.body.id, other.body.id]) await h.admin('DELETE', `/api/v1/policies/${id}`);
});

test('if the engine fails on a request, the answer is deny (ENGINE_UNAVAILABLE)', async () => {
  const registry = h.gateway.policies as unknown as { current: { evaluate(): never } };
  const saved = registry.current;
  registry.current = { ...saved, evaluate: () => { throw new Error('boom'); } };
  try {
    const res = await chat({ model: 'mistral-large-latest' });
    assert.equal(res.status, 403);
    assert.equal(((await res.json()) as any).error.reason_code, 'ENGINE_UNAVAILABLE');
  } finally {
    registry.current = saved;
  }
  const [record] = await h.audit('decision=deny');
  assert.equal(record.reason_code, 'ENGINE_UNAVAILABLE');
});

test('strict mode: no policy means deny', async () => {
  const strict = await startHarness({ env: { CZ_GATEWAY_STRICT_POLICY: 'true' } });
  try {
    const k = await strict.createKey();
    const res = await fetch(`${strict.url}/mistral/v1/models`, { headers: { authorization: `Bearer ${k.key}` } });
    assert.equal(res.status, 403);
    assert.equal(((await res.json()) as any).error.reason_code, 'NO_POLICY');
  } finally {
    await strict.close();
  }
});

test('what an unauthenticated caller can learn: /healthz says up or not, a 404 names no enabled provider', async () => {
  const healthz = await fetch(`${h.url}/healthz`);
  assert.deepEqual(await healthz.json(), { status: 'ok' });
  const unknown = await fetch(`${h.url}/nosuch/v1/chat/completions`, { method: 'POST' });
  assert.equal(unknown.status, 404);
  assert.doesNotMatch(await unknown.text(), /mistral/);
  const health = await h.admin('GET', '/api/v1/health');
  assert.deepEqual(Object.keys(health.body).sort(), ['audit_durability', 'audit_pending', 'policy_mode', 'providers', 'status', 'store']);
  assert.equal((await fetch(`${h.url}/api/v1/health`)).status, 401);
});
