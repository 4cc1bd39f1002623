/**
 * Requests still in flight when the shutdown grace period ends are answered (503, or an error event on a stream
 * under way) and each leaves exactly one audit record saying so, with the usage known so far.
 */
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { test } from 'node:test';
import { openSqliteStore } from '../src/store/sqlite.js';
import { startHarness } from './support/harness.js';

interface Answer {
  id: string | undefined;
  status: number;
  text: string;
}

/** One request, read to its end or to the connection's end (shutdown destroys it). */
function send(url: string, key: string, body: unknown, fault: string): Promise<Answer> {
  const target = new URL(`${url}/mistral/v1/chat/completions`);
  const payload = JSON.stringify(body);
  return new Promise((resolve) => {
    const req = httpRequest(
      {
        host: target.hostname,
        port: target.port,
        path: target.pathname,
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload), 'x-fake-fault': fault },
      },
      (res) => {
        let text = '';
        const done = () => resolve({ id: res.headers['x-tollgate-request-id'] as string | undefined, status: res.statusCode ?? 0, text });
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', done);
        res.on('error', done);
        res.on('aborted', done);
      },
    );
    req.on('error', () => resolve({ id: undefined, status: 0, text: '' }));
    req.end(payload);
  });
}

test('a graceful stop writes one record for every request cut off, streamed or not', async () => {
  const h = await startHarness({ env: { CZ_GATEWAY_SHUTDOWN_GRACE_MS: '300' } });
  const { key } = await h.createKey('shutdown');
  const chat = (stream: boolean) => ({ model: 'mistral-large-latest', stream, messages: [{ role: 'user', content: 'Tell me a long story' }] });
  const answers = [
    ...Array.from({ length: 3 }, () => send(h.url, key, chat(true), 'trickle=400')),
    ...Array.from({ length: 2 }, () => send(h.url, key, chat(false), 'hang')),
  ];
  while (h.fake.requests.length < 5) await new Promise((resolve) => setTimeout(resolve, 20));
  await h.gateway.close();
  const got = await Promise.all(answers);

  const store = await openSqliteStore(h.dataDir);
  try {
    const records = (await store.audit.query({ limit: 1000 })).records.filter((r) => r.route === '/mistral/v1/chat/completions');
    const byId = new Map(records.map((r) => [r.id, r]));
    assert.equal(records.length, 5, 'one record per request, no more');
    for (const answer of got) {
      assert.ok(answer.id, 'every client got its request id');
      const record = byId.get(answer.id!);
      assert.ok(record, `a record for ${answer.id}`);
      assert.equal(record.status, 503);
      assert.equal(record.reason_code, 'GATEWAY_SHUTDOWN');
      assert.match(record.error_message ?? '', /gateway shutting down/);
    }
    const streamed = got.filter((a) => a.status === 200);
    assert.equal(streamed.length, 3, 'the streams had started');
    for (const answer of streamed) {
      assert.match(answer.text, /"code":"gateway_shutting_down"/, 'the stream ends with an error event');
      const record = byId.get(answer.id!)!;
      assert.equal(record.streamed, true);
    }
    const refused = got.filter((a) => a.status === 503);
    assert.equal(refused.length, 2);
    for (const answer of refused) assert.equal(JSON.parse(answer.text).error.code, 'gateway_shutting_down');
  } finally {
    await store.close();
    await h.fake.close();
  }
});
