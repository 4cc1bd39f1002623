/**
 * Reads rarely end where SSE events do: the relay parses the event a read finishes, relays the whole events after it
 * unparsed when they cannot carry tool calls, and keeps the start of the next. Whatever the read boundaries (here an
 * upstream writing its stream in pieces of 1 byte up to all of it at once), the client gets the upstream's exact
 * bytes, usage is counted, and a denied tool call never reaches it, whole in one read or split across several.
 */
import assert from 'node:assert/strict';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { startHarness, type Harness } from './support/harness.js';

const chunk = (delta: Record<string, unknown>, finish: string | null = null, extra: Record<string, unknown> = {}) =>
  `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta, finish_reason: finish }], ...extra })}\n\n`;

function stream(tool: string | null): string {
  const events = [chunk({ role: 'assistant', content: '' })];
  for (let i = 0; i < 30; i++) {
    events.push(chunk({ content: `word ${i} é ✓ ` }));
    // An event whose first character is not ASCII (an unknown field, ignored by clients): a read can end inside it.
    if (i % 10 === 5) events.push('✓ unknown field\n\n');
  }
  if (tool) {
    events.push(chunk({ tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: tool, arguments: '{"path":"/tmp/secret-target"}' } }] }));
    events.push(chunk({}, 'tool_calls', { usage: { prompt_tokens: 5, completion_tokens: 31, total_tokens: 36 } }));
  } else {
    events.push(chunk({}, 'stop', { usage: { prompt_tokens: 5, completion_tokens: 30, total_tokens: 35 } }));
  }
  events.push('data: [DONE]\n\n');
  return events.join('');
}

let upstream: Server;
let h: Harness;
let key: string;

before(async () => {
  upstream = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', async () => {
      const { piece, tool } = JSON.parse(body).metadata as { piece: number; tool: string | null };
      const bytes = Buffer.from(stream(tool));
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.socket?.setNoDelay(true);
      for (let i = 0; i < bytes.length; i += piece) {
        res.write(bytes.subarray(i, i + piece));
        await new Promise((r) => setImmediate(r));
      }
      res.end();
    });
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  h = await startHarness({
    env: {
      CZ_GATEWAY_CANNED_ENABLED: 'true',
      CZ_GATEWAY_CANNED_API_KEY: 'sk-canned',
      CZ_GATEWAY_CANNED_BASE_URL: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`,
      CZ_GATEWAY_TOOL_DENY_MODE: 'error',
    },
  });
  await h.createPolicy({
    name: 'reads',
    rules: [
      { effect: 'allow', action: 'llm:chat.completions', resource: 'canned/*' },
      { effect: 'allow', action: 'tool:call', resource: 'canned/tools/*' },
      { effect: 'deny', action: 'tool:call', resource: 'canned/tools/delete_*' },
    ],
  });
  key = (await h.createKey('reads')).key;
});
after(async () => {
  await h.close();
  upstream.closeAllConnections();
  await new Promise((r) => upstream.close(r));
});

function ask(piece: number, tool: string | null): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(`${h.url}/canned/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' } });
    req.on('response', (res) => {
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
    });
    req.on('error', reject);
    req.end(JSON.stringify({ model: 'm', stream: true, messages: [{ role: 'user', content: 'hi' }], metadata: { piece, tool } }));
  });
}

const PIECES = [1, 2, 5, 7, 13, 31, 64, 100, 333, 1000, 4096, 1_000_000];

test('whatever the read boundaries, the client gets the exact upstream bytes and the usage is counted', async () => {
  // An allowed tool call is governed, so its event (and what the governor held with it) is written anew; everything
  // before it is relayed byte for byte.
  const [beforeCall] = stream('read_file').split(/data: [^\n]*"tool_calls"[^\n]*\n\n/);
  for (const piece of PIECES) {
    assert.equal(await ask(piece, null), stream(null), `pieces of ${piece}`);
    const text = await ask(piece, 'read_file');
    assert.ok(text.startsWith(beforeCall!) && text.endsWith('data: [DONE]\n\n'), `pieces of ${piece}, allowed tool call`);
    const events = text.slice(beforeCall!.length).split('\n\n').filter((e) => e !== '' && e !== 'data: [DONE]');
    const fn = { name: '', arguments: '' };
    for (const event of events) {
      for (const call of JSON.parse(event.replace(/^data: /, '')).choices[0].delta.tool_calls ?? []) {
        fn.name += call.function?.name ?? '';
        fn.arguments += call.function?.arguments ?? '';
      }
    }
    assert.deepEqual(fn, { name: 'read_file', arguments: '{"path":"/tmp/secret-target"}' }, `pieces of ${piece}`);
  }
  const records = await h.audit('provider=canned&limit=100');
  assert.equal(records.length, PIECES.length * 2);
  for (const record of records) assert.ok(record.total_tokens === 35 || record.total_tokens === 36, JSON.stringify(record));
});

test('whatever the read boundaries, a denied tool call never reaches the client', async () => {
  for (const piece of PIECES) {
    const text = await ask(piece, 'delete_file');
    assert.ok(!text.includes('"tool_calls"') && !text.includes('secret-target'), `pieces of ${piece}: ${text.slice(-600)}`);
    assert.ok(text.includes('word 29'), 'the content before the call was relayed');
    assert.match(text.split('\n\n').filter(Boolean).at(-1)!, /"code":"tool_call_denied"/, 'the stream ends with the denial');
  }
});
