/** Two gateway processes' worth of state on one data dir: a revocation or policy made through one reaches the other. */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { loadConfig } from '../src/config/config.js';
import { startGateway, type Gateway } from '../src/gateway.js';
import { createLogger } from '../src/log.js';
import { openSqliteStore } from '../src/store/sqlite.js';
import { ADMIN_TOKEN, SEED_POLICY, startHarness, UPSTREAM_KEY, type Harness } from './support/harness.js';

let a: Harness;
let b: Gateway;

before(async () => {
  a = await startHarness({ env: { CZ_GATEWAY_SYNC_MS: '60000' } });
  const config = await loadConfig({
    CZ_GATEWAY_HOST: '127.0.0.1',
    CZ_GATEWAY_PORT: '0',
    CZ_GATEWAY_DATA_DIR: a.dataDir,
    CZ_GATEWAY_MISTRAL_ENABLED: 'true',
    CZ_GATEWAY_MISTRAL_API_KEY: UPSTREAM_KEY,
    CZ_GATEWAY_MISTRAL_BASE_URL: a.fake.url,
    CZ_GATEWAY_SYNC_MS: '60000', // the test triggers checks itself
  });
  b = await startGateway(config, await openSqliteStore(a.dataDir), ADMIN_TOKEN, createLogger('error', () => undefined));
});
after(async () => {
  await b.close();
  await a.close();
});

const chat = (url: string, key: string, model = 'mistral-large-latest') =>
  fetch(`${url}/mistral/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }] }),
  });

test('a key created and revoked through one gateway is honoured by the other after its next sync', async () => {
  const { key, id } = await a.createKey('shared');
  assert.equal((await chat(b.url, key)).status, 200, 'a new key is found by the other gateway at once');
  await a.admin('DELETE', `/api/v1/keys/${id}`);
  await b.sync.check();
  const res = await chat(b.url, key);
  assert.equal(res.status, 401);
  assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'revoked_api_key');
});

test('a policy created through one gateway is enforced by the other after its next sync', async () => {
  const { key } = await a.createKey('policy-sync');
  assert.equal((await chat(b.url, key, 'mistral-small-latest')).headers.get('x-tollgate-policy-mode'), 'observe');
  const { id } = await a.createPolicy(SEED_POLICY);
  await b.sync.check();
  assert.equal((await chat(b.url, key, 'mistral-small-latest')).status, 403);
  await a.admin('DELETE', `/api/v1/policies/${id}`);
  await b.sync.check();
  assert.equal((await chat(b.url, key, 'mistral-small-latest')).status, 200);
});

test('only the keys changed since the last sync are reloaded; a deleted key (which cannot be listed as changed) forces a full reload', async () => {
  const { key, id } = await a.createKey('incremental');
  assert.equal((await chat(b.url, key)).status, 200);
  const store = b.store;
  const before = await store.revisions();
  await a.admin('DELETE', `/api/v1/keys/${id}`);
  const changed = await store.keys.changedSince(before.keys);
  assert.deepEqual(changed.map((k) => [k.id, k.revoked_at !== null]), [[id, true]], 'the revocation, and nothing else');
  await b.sync.check();
  assert.equal((await chat(b.url, key)).status, 401);

  const other = await a.createKey('to-delete');
  assert.equal((await chat(b.url, other.key)).status, 200);
  const { default: Database } = await import('better-sqlite3');
  const db = new Database(`${a.dataDir}/tollgate.db`);
  db.prepare('DELETE FROM api_keys WHERE id = ?').run(other.id); // an operator's hand, outside the API
  db.close();
  const removed = await store.revisions();
  assert.ok(removed.keysRemoved > before.keysRemoved);
  await b.sync.check();
  assert.equal((await chat(b.url, other.key)).status, 401, 'gone from memory too');
});
