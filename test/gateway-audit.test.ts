/** Exactly one audit record for every kind of outcome, each with the right status and error, plus audit queries. */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startHarness, type Harness } from './support/harness.js';

let h: Harness;
let key: string;
let keyId: string;

before(async () => {
  h = await startHarness({
    env: {
      CZ_GATEWAY_MAX_BODY_BYTES: '4096',
      CZ_GATEWAY_MISTRAL_TIMEOUT_MS: '400',
      // A provider nobody listens for: connection refused.
      CZ_GATEWAY_DEADEND_ENABLED: 'true',
      CZ_GATEWAY_DEADEND_API_KEY: 'sk-dead',
      CZ_GATEWAY_DEADEND_BASE_URL: 'http://127.0.0.1:9',
    },
  });
  ({ key, id: keyId } = await h.createKey('audit-tests'));
});
after(() => h.close());

interface Case {
  name: string;
  path?: string;
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  status: number;
  code?: string;
  decision: 'allow' | 'deny';
}

const chatBody = (extra: Record<string, unknown> = {}) =>
  JSON.stringify({ model: 'mistral-large-latest', messages: [{ role: 'user', content: 'hello' }], ...extra });

const CASES: Case[] = [
  { name: 'allowed', body: chatBody(), status: 200, decision: 'allow' },
  { name: 'malformed-json', body: '{"model": "mistral-large-latest", ', status: 400, code: 'invalid_json', decision: 'deny' },
  { name: 'not-an-object', body: '[1,2]', status: 400, code: 'invalid_json', decision: 'deny' },
  { name: 'missing-model', body: JSON.stringify({ messages: [{ role: 'user', content: 'x' }] }), status: 400, code: 'missing_required_parameter', decision: 'deny' },
  { name: 'bad-max-tokens', body: chatBody({ max_tokens: 'lots' }), status: 400, code: 'invalid_parameter', decision: 'deny' },
  { name: 'wrong-content-type', headers: { 'content-type': 'text/plain' }, body: chatBody(), status: 415, code: 'unsupported_content_type', decision: 'deny' },
  { name: 'oversized', body: chatBody({ padding: 'x'.repeat(5000) }), status: 413, code: 'request_too_large', decision: 'deny' },
  { name: 'unauthenticated', headers: { authorization: '' }, body: chatBody(), status: 401, code: 'missing_api_key', decision: 'deny' },
  { name: 'unknown-provider', path: '/nosuch/v1/chat/completions', body: chatBody(), status: 404, code: 'unknown_provider', decision: 'deny' },
  { name: 'unknown-route', path: '/mistral/v2/chat/completions', body: chatBody(), status: 404, code: 'unknown_route', decision: 'deny' },
  { name: 'miscased-route', path: '/mistral/v1/Chat/Completions', body: chatBody(), status: 404, code: 'unknown_route', decision: 'deny' },
  { name: 'encoded-slash', path: '/mistral/v1/chat%2Fcompletions', body: chatBody(), status: 400, code: 'invalid_path', decision: 'deny' },
  { name: 'compressed-body', headers: { 'content-encoding': 'gzip' }, body: chatBody(), status: 415, code: 'unsupported_content_encoding', decision: 'deny' },
  { name: 'upstream-500', headers: { 'x-fake-fault': 'status=500' }, body: chatBody(), status: 502, code: 'upstream_server_error', decision: 'allow' },
  { name: 'upstream-429', headers: { 'x-fake-fault': 'status=429' }, body: chatBody(), status: 429, decision: 'allow' },
  { name: 'upstream-422', body: JSON.stringify({ model: 'mistral-large-latest', messages: [{ role: 'user', content: 'x' }], temperature: 'hot' }), status: 422, decision: 'allow' },
  { name: 'upstream-timeout', headers: { 'x-fake-fault': 'hang' }, body: chatBody(), status: 504, code: 'upstream_timeout', decision: 'allow' },
  { name: 'upstream-reset', headers: { 'x-fake-fault': 'reset' }, body: chatBody(), status: 502, code: 'upstream_connection_reset', decision: 'allow' },
  { name: 'upstream-refused', path: '/deadend/v1/chat/completions', body: chatBody(), status: 502, code: 'upstream_unreachable', decision: 'allow' },
];

test('every outcome gets the right OpenAI-shaped error and exactly one audit record', async () => {
  for (const c of CASES) {
    const res = await fetch(h.url + (c.path ?? '/mistral/v1/chat/completions'), {
      method: c.method ?? 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'x-controlzero-agent-id': c.name, ...c.headers },
      body: c.body,
    });
    const text = await res.text();
    assert.equal(res.status, c.status, `${c.name}: ${text}`);
    if (c.status >= 400) {
      const body = JSON.parse(text);
      assert.equal(typeof body.error.message, 'string', c.name);
      assert.ok('type' in body.error && 'code' in body.error && 'param' in body.error, `${c.name}: OpenAI error shape`);
      if (c.code) assert.equal(body.error.code, c.code, `${c.name}: ${text}`);
    }
  }
  const records = await h.audit();
  for (const c of CASES) {
    const mine = records.filter((r) => r.agent_id === c.name);
    assert.equal(mine.length, 1, `${c.name}: expected exactly one audit record, got ${mine.length}`);
    const [r] = mine;
    assert.equal(r.status, c.status, c.name);
    assert.equal(r.decision, c.decision, c.name);
    if (c.status >= 400) assert.ok(r.error_message, `${c.name}: error message recorded`);
    assert.ok(r.latency_ms >= 0);
  }
  const allowed = records.find((r) => r.agent_id === 'allowed');
  assert.equal(allowed.key_id, keyId);
  assert.equal(allowed.provider, 'mistral');
  assert.equal(allowed.action, 'llm:chat.completions');
  assert.equal(allowed.resource, 'mistral/mistral-large-latest');
  assert.equal(allowed.model, 'mistral-large-latest');
  assert.ok(allowed.total_tokens > 0);
  assert.ok(allowed.upstream_latency_ms >= 0);
  assert.equal(allowed.streamed, false);
  const missingModel = records.find((r) => r.agent_id === 'missing-model');
  assert.match(missingModel.error_message, /model/);
});

test("429 from the provider keeps retry-after and the provider's rate-limit headers, in its own naming", async () => {
  const res = await fetch(`${h.url}/mistral/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'x-fake-fault': 'status=429' },
    body: chatBody(),
  });
  assert.equal(res.status, 429);
  assert.ok(res.headers.get('retry-after'));
  // Mistral's names (the fake sends them as api.mistral.ai does).
  assert.equal(res.headers.get('x-ratelimit-remaining-req-minute'), '0');
  assert.equal(res.headers.get('x-ratelimit-limit-tokens-minute'), '500000');
  assert.equal(res.headers.get('x-ratelimit-remaining-tokens-minute'), '499000');
  assert.equal(((await res.json()) as any).error.type, 'rate_limit_error');
});

test('audit query: filters, newest first, cursor pagination, validation', async () => {
  for (let i = 0; i < 7; i++) {
    await fetch(`${h.url}/mistral/v1/models`, { headers: { authorization: `Bearer ${key}`, 'x-controlzero-agent-id': 'pager' } });
  }
  const seen: string[] = [];
  let cursor = '';
  let pages = 0;
  do {
    const res = await h.admin('GET', `/api/v1/audit?key_id=${keyId}&status=200&limit=3${cursor ? `&cursor=${cursor}` : ''}`);
    assert.equal(res.status, 200);
    seen.push(...res.body.records.map((r: any) => r.id));
    cursor = res.body.next_cursor;
    pages++;
  } while (cursor);
  assert.equal(new Set(seen).size, seen.length);
  assert.ok(seen.length >= 8 && pages >= 3);
  const all = await h.audit(`key_id=${keyId}&status=200`);
  assert.deepEqual(seen, all.map((r) => r.id));
  const times = all.map((r) => Date.parse(r.time));
  assert.deepEqual(times, [...times].sort((a, b) => b - a));

  const since = all[2].time;
  const recent = await h.audit(`key_id=${keyId}&since=${encodeURIComponent(since)}`);
  assert.ok(recent.every((r) => Date.parse(r.time) >= Date.parse(since)));
  assert.ok((await h.audit('provider=nosuch')).length === 0);
  assert.ok((await h.audit('decision=allow')).every((r) => r.decision === 'allow'));

  // By agent and by route (the path as requested) or action, alone or with other filters.
  const byAgent = await h.audit('agent_id=pager');
  assert.equal(byAgent.length, 7);
  assert.ok(byAgent.every((r) => r.agent_id === 'pager'));
  assert.deepEqual(await h.audit(`agent_id=pager&key_id=${keyId}&route=/mistral/v1/models`), byAgent);
  assert.deepEqual(await h.audit('agent_id=pager&action=llm:models.list'), byAgent);
  assert.equal((await h.audit('agent_id=pager&route=/mistral/v1/chat/completions')).length, 0);
  assert.ok((await h.audit('route=/mistral/v1/models')).length >= 7);
  const emptyAgent = await h.admin('GET', '/api/v1/audit?agent_id=');
  assert.equal(emptyAgent.status, 400);
  assert.equal(emptyAgent.body.error.param, 'agent_id');

  const bad = await h.admin('GET', '/api/v1/audit?limit=5000');
  assert.equal(bad.status, 400);
  assert.equal(bad.body.error.param, 'limit');
  const badCursor = await h.admin('GET', '/api/v1/audit?cursor=garbage');
  assert.equal(badCursor.status, 400);
  assert.equal(badCursor.body.error.param, 'cursor');
});

test('admin changes and bad admin tokens are audited; admin reads are not', async () => {
  const created = await h.admin('POST', '/api/v1/keys', { name: 'audited-admin-change' });
  await h.admin('DELETE', `/api/v1/keys/${created.body.id}`);
  const badPolicy = await h.admin('POST', '/api/v1/policies', { name: 'bad', rules: [] });
  assert.equal(badPolicy.status, 400);
  const intruder = await fetch(`${h.url}/api/v1/policies`, { method: 'POST', headers: { authorization: 'Bearer guess' } });
  assert.equal(intruder.status, 401);
  await h.admin('GET', '/api/v1/keys');

  const admin = (await h.audit()).filter((r) => r.agent_id === 'admin');
  const summary = admin.map((r) => [r.action, r.resource, r.decision, r.status]).reverse();
  assert.deepEqual(summary.slice(-4), [
    ['admin:keys.create', `keys/${created.body.id}`, 'allow', 201],
    ['admin:keys.revoke', `keys/${created.body.id}`, 'allow', 200],
    ['admin:policies.create', null, 'allow', 400],
    [null, null, 'deny', 401],
  ]);
  assert.ok(!admin.some((r) => r.action === 'admin:keys.list'), 'reads are not audited');
  const revocations = await h.audit('action=admin:keys.revoke');
  assert.deepEqual(revocations.map((r) => r.resource), [`keys/${created.body.id}`]);
  assert.ok(!JSON.stringify(admin).includes(created.body.key), 'the new secret is never in the audit');
});
