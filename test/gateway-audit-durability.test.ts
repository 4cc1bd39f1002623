/**
 * CZ_GATEWAY_AUDIT_DURABILITY on a real gateway: in `sync`, every answer a client has read in full (plain, streamed,
 * refused, unroutable) already has its record committed, with the batch flush interval set to a minute; in `batch`
 * the same answers arrive before their records (which is what makes SIGKILL lose them: test/chaos.test.ts).
 */
import Database from 'better-sqlite3';
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';
import { startHarness, type Harness } from './support/harness.js';

const harnesses: Harness[] = [];
after(async () => {
  for (const h of harnesses) await h.close();
});

async function gateway(durability: 'batch' | 'sync'): Promise<{ h: Harness; key: string; committed: (id: string) => boolean }> {
  const h = await startHarness({ env: { CZ_GATEWAY_AUDIT_DURABILITY: durability, CZ_GATEWAY_AUDIT_FLUSH_MS: '60000' } });
  harnesses.push(h);
  const { key } = await h.createKey();
  await h.createPolicy({ name: 'p', rules: [{ effect: 'allow', action: 'llm:*', resource: 'mistral/*', conditions: { model: ['mistral-small-latest'] } }] });
  const db = new Database(path.join(h.dataDir, 'tollgate.db'), { readonly: true });
  const byId = db.prepare<[string], { id: string }>('SELECT id FROM audit_records WHERE id = ?');
  return { h, key, committed: (id) => byId.get(id) !== undefined };
}

/** Each kind of answer, read in full by the client; returns its request id. */
const answers: Record<string, (url: string, key: string) => Promise<string>> = {
  async plain(url, key) {
    const res = await fetch(`${url}/mistral/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'mistral-small-latest', messages: [{ role: 'user', content: 'hi' }] }),
    });
    assert.equal(res.status, 200);
    await res.json();
    return res.headers.get('x-tollgate-request-id')!;
  },
  async streamed(url, key) {
    const res = await fetch(`${url}/mistral/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'mistral-small-latest', stream: true, messages: [{ role: 'user', content: 'a long answer please' }] }),
    });
    assert.equal(res.status, 200);
    assert.match(await res.text(), /data: \[DONE\]\n\n$/);
    return res.headers.get('x-tollgate-request-id')!;
  },
  async denied(url, key) {
    const res = await fetch(`${url}/mistral/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'mistral-large-latest', messages: [{ role: 'user', content: 'hi' }] }),
    });
    assert.equal(res.status, 403);
    await res.json();
    return res.headers.get('x-tollgate-request-id')!;
  },
  async unroutable(url) {
    const res = await fetch(`${url}/nowhere`);
    assert.equal(res.status, 404);
    await res.text();
    return res.headers.get('x-tollgate-request-id')!;
  },
};

let sync: Awaited<ReturnType<typeof gateway>>;
let batch: Awaited<ReturnType<typeof gateway>>;
before(async () => {
  [sync, batch] = await Promise.all([gateway('sync'), gateway('batch')]);
});

for (const [kind, answer] of Object.entries(answers)) {
  test(`sync: a ${kind} answer read in full has its record committed already`, async () => {
    const ids = await Promise.all(Array.from({ length: 5 }, () => answer(sync.h.url, sync.key)));
    for (const id of ids) assert.ok(sync.committed(id), `record ${id} committed before its answer ended`);
  });

  test(`batch: a ${kind} answer arrives before its record is written (within the flush interval)`, async () => {
    const id = await answer(batch.h.url, batch.key);
    assert.equal(batch.committed(id), false);
    await batch.h.gateway.auditWriter.flush();
    assert.ok(batch.committed(id));
  });
}

test('sync: the official OpenAI SDK, streamed and not, sees its calls complete only with their records committed', async () => {
  const client = new OpenAI({ baseURL: `${sync.h.url}/mistral/v1`, apiKey: sync.key, maxRetries: 0 });
  const { data, response } = await client.chat.completions.create({ model: 'mistral-small-latest', messages: [{ role: 'user', content: 'hi' }] }).withResponse();
  assert.ok(data.choices[0]!.message.content);
  assert.ok(sync.committed(response.headers.get('x-tollgate-request-id')!));
  const { data: stream, response: streamResponse } = await client.chat.completions
    .create({ model: 'mistral-small-latest', stream: true, messages: [{ role: 'user', content: 'hi' }] })
    .withResponse();
  let text = '';
  for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
  assert.ok(text.length > 0);
  assert.ok(sync.committed(streamResponse.headers.get('x-tollgate-request-id')!));
});

test('the health details say which durability is in force', async () => {
  assert.equal((await sync.h.admin('GET', '/api/v1/health')).body.audit_durability, 'sync');
  assert.equal((await batch.h.admin('GET', '/api/v1/health')).body.audit_durability, 'batch');
});
