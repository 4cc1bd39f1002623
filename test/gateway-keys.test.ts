/** Gateway keys: creation (shown once, stored hashed), both header forms, agent ids, revocation and expiry. */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import Database from 'better-sqlite3';
import path from 'node:path';
import { startHarness, type Harness } from './support/harness.js';

let h: Harness;
before(async () => {
  h = await startHarness();
});
after(() => h.close());

const models = (headers: Record<string, string>) => fetch(`${h.url}/mistral/v1/models`, { headers });

test('a key is cz_live_ + a high-entropy secret, shown once and stored only as a hash', async () => {
  const created = await h.admin('POST', '/api/v1/keys', { name: 'ci', attributes: { team: 'platform', env: 'prod' } });
  assert.equal(created.status, 201);
  assert.match(created.body.key, /^cz_live_[0-9A-Za-z]{43}$/);
  assert.deepEqual(created.body.attributes, { team: 'platform', env: 'prod' });
  const listed = await h.admin('GET', '/api/v1/keys');
  const text = JSON.stringify(listed.body);
  assert.ok(!text.includes(created.body.key), 'the secret must never be shown again');
  const got = await h.admin('GET', `/api/v1/keys/${created.body.id}`);
  assert.equal(got.body.key, undefined);
  assert.equal(got.body.status, 'active');

  const db = new Database(path.join(h.dataDir, 'tollgate.db'), { readonly: true });
  const dump = JSON.stringify(db.prepare('SELECT * FROM api_keys').all());
  db.close();
  assert.ok(!dump.includes(created.body.key.slice(8)), 'the secret must not be in the database');
});

test('both header forms authenticate; X-ControlZero-API-Key leaves Authorization to the client', async () => {
  const { key, id } = await h.createKey('headers');
  assert.equal((await models({ authorization: `Bearer ${key}` })).status, 200);
  const res = await models({ 'x-controlzero-api-key': key, authorization: 'Bearer some-tool-token' });
  assert.equal(res.status, 200);
  const [record] = await h.audit(`key_id=${id}`);
  assert.equal(record.key_id, id);
  const last = h.fake.requests.at(-1)!;
  assert.equal(last.headers.authorization?.startsWith('Bearer sk-upstream'), true);
  assert.equal(last.headers['x-controlzero-api-key'], undefined);
});

test('agent id: recorded from X-ControlZero-Agent-ID, default <provider>-direct', async () => {
  const { key, id } = await h.createKey('agents');
  await models({ authorization: `Bearer ${key}`, 'x-controlzero-agent-id': 'billing-bot' });
  await models({ authorization: `Bearer ${key}` });
  const records = await h.audit(`key_id=${id}`);
  assert.deepEqual(records.map((r) => r.agent_id).sort(), ['billing-bot', 'mistral-direct']);
});

test('agent ids are at most 128 characters: a longer one is a 400 naming the header, in the route\'s error shape, and audited cut', async () => {
  const { key } = await h.createKey('long-agents');
  const longest = 'a'.repeat(128);
  assert.equal((await models({ authorization: `Bearer ${key}`, 'x-controlzero-agent-id': longest })).status, 200);
  const res = await models({ authorization: `Bearer ${key}`, 'x-controlzero-agent-id': `${longest}b` });
  assert.equal(res.status, 400);
  const body = (await res.json()) as { object: string; message: string; param: string; error: { code: string; param: string; message: string } };
  // /mistral answers in the body that is Mistral's error object and OpenAI's at once.
  assert.equal(body.object, 'error');
  assert.equal(body.error.code, 'invalid_agent_id');
  assert.equal(body.error.param, 'x-controlzero-agent-id');
  assert.equal(body.error.message, 'X-ControlZero-Agent-ID is 129 characters long; at most 128 are accepted');
  assert.equal(body.message, body.error.message);
  // Refused before authentication: the record names the agent (cut), not the key.
  const refused = (await h.audit('status=400&agent_id=' + encodeURIComponent(`${longest}…`))).find((r) => r.id === res.headers.get('x-tollgate-request-id'));
  assert.equal(refused?.key_id, null);
  assert.equal(refused?.agent_id, `${longest}…`);
  assert.equal(refused?.reason_code, 'INVALID_REQUEST');
  assert.match(refused?.error_message, /X-ControlZero-Agent-ID is 129 characters long/);
  assert.equal(h.fake.requests.filter((r) => r.headers['x-controlzero-agent-id'] === `${longest}b`).length, 0, 'never forwarded');
});

test('missing, malformed and unknown keys are 401 with precise codes, and audited', async () => {
  const cases: [Record<string, string>, string][] = [
    [{}, 'missing_api_key'],
    [{ authorization: 'Bearer sk-openai-style' }, 'invalid_api_key'],
    [{ authorization: 'Bearer cz_live_doesnotexist' }, 'invalid_api_key'],
  ];
  for (const [headers, code] of cases) {
    const res = await models(headers);
    assert.equal(res.status, 401);
    const body = (await res.json()) as any;
    assert.equal(body.error.type, 'authentication_error');
    assert.equal(body.error.code, code);
  }
  const records = await h.audit('status=401');
  assert.ok(records.length >= 3);
  assert.ok(records.every((r) => r.decision === 'deny' && r.reason_code.startsWith('AUTH_')));
});

test('revocation takes effect on the next request', async () => {
  const { key, id } = await h.createKey('revoke-me');
  assert.equal((await models({ authorization: `Bearer ${key}` })).status, 200);
  const revoked = await h.admin('DELETE', `/api/v1/keys/${id}`);
  assert.equal(revoked.body.status, 'revoked');
  const res = await models({ authorization: `Bearer ${key}` });
  assert.equal(res.status, 401);
  assert.equal(((await res.json()) as any).error.code, 'revoked_api_key');
  const [record] = await h.audit(`key_id=${id}&status=401`);
  assert.equal(record.reason_code, 'AUTH_REVOKED_API_KEY');
});

test('expired keys are refused', async () => {
  const { key } = await h.createKey('short-lived', {}, new Date(Date.now() + 300).toISOString());
  assert.equal((await models({ authorization: `Bearer ${key}` })).status, 200);
  await new Promise((r) => setTimeout(r, 350));
  const res = await models({ authorization: `Bearer ${key}` });
  assert.equal(res.status, 401);
  assert.equal(((await res.json()) as any).error.code, 'expired_api_key');
});

test('key creation input is validated', async () => {
  const noName = await h.admin('POST', '/api/v1/keys', { attributes: {} });
  assert.equal(noName.status, 400);
  assert.equal(noName.body.error.param, 'name');
  const past = await h.admin('POST', '/api/v1/keys', { name: 'x', expires_at: '2001-01-01T00:00:00Z' });
  assert.equal(past.body.error.param, 'expires_at');
  const badAttr = await h.admin('POST', '/api/v1/keys', { name: 'x', attributes: { team: 5 } });
  assert.equal(badAttr.status, 400);
  assert.equal(badAttr.body.error.param, 'attributes.team');
  const noAuth = await fetch(`${h.url}/api/v1/keys`);
  assert.equal(noAuth.status, 401);
});
