/** A live gateway whose audit store fails: fail-closed refuses work with 503, nothing is lost, and it recovers. */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { eventually, startHarness, type Harness } from './support/harness.js';

let h: Harness;
let key: string;

before(async () => {
  h = await startHarness({ env: { CZ_GATEWAY_AUDIT_FAILURE_MODE: 'closed' } });
  key = (await h.createKey('audit-failure')).key;
});
after(() => h.close());

const models = (agent: string) =>
  fetch(`${h.url}/mistral/v1/models`, { headers: { authorization: `Bearer ${key}`, 'x-controlzero-agent-id': agent } });

test('fail-closed: while the store fails, requests get 503 audit_unavailable; every record lands after recovery', async () => {
  await h.gateway.auditWriter.flush(); // the key's creation is audited too; let it land before the store breaks
  const audit = h.gateway.store.audit;
  const insertBatch = audit.insertBatch.bind(audit);
  let failing = true;
  audit.insertBatch = (records) => (failing ? Promise.reject(new Error('disk I/O error')) : insertBatch(records));

  assert.equal((await models('before-failure')).status, 200);
  await eventually(async () => !h.gateway.auditWriter.accepting);
  const refused = await models('during-failure');
  assert.equal(refused.status, 503);
  const body = (await refused.json()) as { error: { code: string; type: string } };
  assert.equal(body.error.code, 'audit_unavailable');
  const healthz = await fetch(`${h.url}/healthz`);
  assert.equal(healthz.status, 503);
  assert.deepEqual(await healthz.json(), { status: 'unavailable' }, 'nothing about the configuration without the admin token');
  const health = await h.admin('GET', '/api/v1/health');
  assert.equal(health.status, 200);
  assert.equal(health.body.status, 'audit_unavailable');
  assert.deepEqual(health.body.providers, ['mistral']);
  assert.ok(health.body.audit_pending > 0);

  failing = false;
  await eventually(async () => h.gateway.auditWriter.accepting && h.gateway.auditWriter.pending === 0, 10_000);
  assert.equal((await models('after-recovery')).status, 200);
  const records = await h.audit();
  for (const agent of ['before-failure', 'during-failure', 'after-recovery']) {
    assert.equal(records.filter((r) => r.agent_id === agent).length, 1, `${agent}: exactly one record`);
  }
  assert.equal(records.find((r) => r.agent_id === 'during-failure').status, 503);
});
