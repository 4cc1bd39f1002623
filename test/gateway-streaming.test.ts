/** Streaming: the client receives the upstream's exact bytes, each chunk as soon as it is sent; aborts propagate. */
import assert from 'node:assert/strict';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { eventually, startHarness, type Harness } from './support/harness.js';

/** Odd but valid SSE: comments, CRLF and LF, multi-line data, usage on the last chunk, then [DONE]. */
const CANNED = [
  ': keep-alive comment\n\n',
  'data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}\r\n\r\n',
  'data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"Hel"},"finish_reason":null}]}\n\n',
  'data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"m",\ndata: "choices":[{"index":0,"delta":{"content":"lo ✓"},"finish_reason":null}]}\n\n',
  'data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":""},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":4,"total_tokens":7}}\n\n',
  'data: [DONE]\n\n',
];

let canned: Server;
/** Lockstep: the canned upstream sends chunk i+1 only after the test has seen chunk i arrive at the client. */
let release: (() => void) | null = null;
let h: Harness;
let key: string;

before(async () => {
  canned = createServer(async (req, res) => {
    req.resume();
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    for (const chunk of CANNED) {
      res.write(chunk);
      await new Promise<void>((r) => (release = r));
    }
    res.end();
  });
  await new Promise<void>((r) => canned.listen(0, '127.0.0.1', r));
  h = await startHarness({
    env: {
      CZ_GATEWAY_CANNED_ENABLED: 'true',
      CZ_GATEWAY_CANNED_API_KEY: 'sk-canned',
      CZ_GATEWAY_CANNED_BASE_URL: `http://127.0.0.1:${(canned.address() as AddressInfo).port}`,
    },
  });
  key = (await h.createKey('stream-tests')).key;
});
after(async () => {
  await h.close();
  canned.closeAllConnections();
  await new Promise((r) => canned.close(r));
});

test('streamed bytes equal the upstream bytes, and every chunk arrives before the next is sent', async () => {
  const received: Buffer[] = [];
  const status = await new Promise<number>((resolve, reject) => {
    const req = request(`${h.url}/canned/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    });
    req.on('response', (res) => {
      let text = '';
      let expectedIndex = 0;
      res.on('data', (chunk: Buffer) => {
        received.push(chunk);
        text += chunk.toString('utf8');
        // Release the upstream once the client holds everything sent so far: proves nothing is held back.
        const sentSoFar = CANNED.slice(0, expectedIndex + 1).join('');
        if (text === sentSoFar) {
          expectedIndex++;
          release?.();
        }
      });
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(JSON.stringify({ model: 'm', stream: true, messages: [{ role: 'user', content: 'hi' }] }));
  });
  assert.equal(status, 200);
  assert.equal(Buffer.concat(received).toString('utf8'), CANNED.join(''));
  const [record] = await h.audit('provider=canned');
  assert.equal(record.streamed, true);
  assert.equal(record.total_tokens, 7);
  assert.equal(record.prompt_tokens, 3);
});

test('a client that disconnects mid-stream aborts the upstream request, and the audit says so', async () => {
  const abortedBefore = h.fake.aborted;
  const controller = new AbortController();
  const res = await fetch(`${h.url}/mistral/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'x-fake-fault': 'trickle=100', 'x-controlzero-agent-id': 'quitter' },
    body: JSON.stringify({ model: 'mistral-large-latest', stream: true, messages: [{ role: 'user', content: 'a long answer please '.repeat(5) }] }),
    signal: controller.signal,
  });
  const reader = res.body!.getReader();
  await reader.read();
  controller.abort();
  await eventually(async () => h.fake.aborted > abortedBefore);
  const record = await eventually(async () => (await h.audit()).find((r) => r.agent_id === 'quitter'));
  assert.equal(record.client_aborted, true);
  assert.equal(record.status, 499);
  assert.equal(record.streamed, true);
  assert.match(record.error_message, /client closed the connection/);
});

test('an upstream reset mid-stream ends the stream with an error event and a 502 audit record', async () => {
  const res = await fetch(`${h.url}/mistral/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'x-fake-fault': 'reset-mid-stream', 'x-controlzero-agent-id': 'reset' },
    body: JSON.stringify({ model: 'mistral-large-latest', stream: true, messages: [{ role: 'user', content: 'tell me something long' }] }),
  });
  assert.equal(res.status, 200);
  const text = await res.text();
  assert.match(text, /"code":"upstream_connection_reset"/);
  const record = await eventually(async () => (await h.audit()).find((r) => r.agent_id === 'reset'));
  assert.equal(record.status, 502);
  assert.match(record.error_message, /closed the connection/);
});

test('a malformed event from the provider is not relayed as a success: the stream ends with an error event, the record says 502', async () => {
  const res = await fetch(`${h.url}/mistral/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'x-fake-fault': 'malformed-sse', 'x-controlzero-agent-id': 'malformed' },
    body: JSON.stringify({ model: 'mistral-large-latest', stream: true, messages: [{ role: 'user', content: 'hi' }] }),
  });
  assert.equal(res.status, 200, 'the stream had started');
  const text = await res.text();
  assert.ok(!text.includes('"id":"malformed"'), 'the malformed event is not relayed');
  assert.ok(!text.includes('[DONE]'), 'nor the end marker that would call the answer complete');
  const last = text.trim().split('\n\n').at(-1)!;
  // Mistral's error object, which is OpenAI's too: what both SDK families raise on mid-stream.
  assert.match(last, /^data: \{/);
  const event = JSON.parse(last.slice('data: '.length));
  assert.equal(event.object, 'error');
  assert.match(event.message, /not valid JSON/);
  assert.equal(event.error.code, 'upstream_invalid_response');
  const record = await eventually(async () => (await h.audit()).find((r) => r.agent_id === 'malformed'));
  assert.equal(record.status, 502);
  assert.match(record.error_message, /stream event whose data is not valid JSON/);
});

test('a malformed event in a Conversations stream ends it with the Conversations error event', async () => {
  const res = await fetch(`${h.url}/mistral/v1/conversations`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'x-fake-fault': 'malformed-sse', 'x-controlzero-agent-id': 'malformed-conv' },
    body: JSON.stringify({ model: 'mistral-large-latest', stream: true, inputs: 'hi' }),
  });
  const text = await res.text();
  assert.ok(!text.includes('"id":"malformed"'));
  assert.match(text.trim().split('\n\n').at(-1)!, /conversation\.response\.error/);
  const record = await eventually(async () => (await h.audit()).find((r) => r.agent_id === 'malformed-conv'));
  assert.equal(record.status, 502);
});
