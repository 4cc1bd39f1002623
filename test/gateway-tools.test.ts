/**
 * Tool-call governance end to end: the fake upstream returns exactly chosen tool calls; the gateway evaluates each as
 * tool:call on mistral/tools/<name> and, per CZ_GATEWAY_TOOL_DENY_MODE, replaces, strips or fails on denied ones.
 */
import { Mistral } from '@mistralai/mistralai';
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import { eventually, startHarness, type Harness } from './support/harness.js';

const POLICY = {
  name: 'tool-governance',
  rules: [
    { id: 'chat', effect: 'allow', action: 'llm:chat.completions', resource: 'mistral/*' },
    { id: 'no-drop-tools', effect: 'deny', action: 'llm:chat.completions', resource: 'mistral/*', conditions: { tools: 'drop_*' } },
    { id: 'tools', effect: 'allow', action: 'tool:call', resource: 'mistral/tools/*' },
    { id: 'no-delete', effect: 'deny', action: 'tool:call', resource: 'mistral/tools/delete_*' },
    {
      id: 'internal-mail',
      effect: 'deny',
      action: 'tool:call',
      resource: 'mistral/tools/send_email',
      conditions: { 'not_only_tool.args.to': '*@example.com' },
    },
  ],
};

const READ = { name: 'read_file', arguments: { path: '/etc/hosts' } };
const DELETE = { name: 'delete_file', arguments: { path: '/tmp/x' } };
const DELETE_TOOL = {
  type: 'function' as const,
  function: { name: 'delete_file', parameters: { type: 'object', properties: { path: { type: 'string' } }, required: ['path'] } },
};
const MESSAGES = [{ role: 'user' as const, content: 'Tidy up my files' }];

type Mode = 'replace' | 'strip' | 'error';
type Style = 'mistral' | 'fragmented';

interface Setup {
  h: Harness;
  key: string;
  openai: OpenAI;
}

async function setup(mode: Mode): Promise<Setup> {
  const h = await startHarness({ env: { CZ_GATEWAY_TOOL_DENY_MODE: mode, CZ_GATEWAY_DENY_DETAIL: 'full' } });
  await h.createPolicy(POLICY);
  const key = (await h.createKey(`tools-${mode}`)).key;
  return { h, key, openai: new OpenAI({ baseURL: `${h.url}/mistral/v1`, apiKey: key, maxRetries: 0 }) };
}

function fakeHeaders(calls: unknown[], style: Style = 'mistral'): Record<string, string> {
  return { 'x-fake-tool-calls': JSON.stringify(calls), 'x-fake-tool-call-style': style };
}

/** What a streamed answer adds up to, as an SDK user would assemble it. */
async function collect(stream: AsyncIterable<OpenAI.ChatCompletionChunk>) {
  let content = '';
  let finish: string | null = null;
  const calls: { id?: string; name: string; arguments: string }[] = [];
  for await (const chunk of stream) {
    const choice = chunk.choices[0];
    if (!choice) continue;
    content += choice.delta.content ?? '';
    for (const d of choice.delta.tool_calls ?? []) {
      const call = (calls[d.index] ??= { name: '', arguments: '' });
      if (d.id) call.id = d.id;
      call.name += d.function?.name ?? '';
      call.arguments += d.function?.arguments ?? '';
    }
    finish = choice.finish_reason ?? finish;
  }
  return { content, finish, calls };
}

/** The raw `data:` payloads of a streamed request. */
async function rawEvents(s: Setup, calls: unknown[], style: Style): Promise<string[]> {
  const res = await fetch(`${s.h.url}/mistral/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${s.key}`, 'content-type': 'application/json', ...fakeHeaders(calls, style) },
    body: JSON.stringify({ model: 'mistral-large-latest', messages: MESSAGES, stream: true }),
  });
  assert.equal(res.status, 200);
  const text = await res.text();
  return text
    .split('\n\n')
    .filter((e) => e.startsWith('data: '))
    .map((e) => e.slice(6));
}

async function lastAudit(h: Harness, predicate: (r: any) => boolean = () => true): Promise<any> {
  return eventually(async () => (await h.audit()).find(predicate));
}

describe('deny mode replace (default)', () => {
  let s: Setup;
  before(async () => {
    s = await setup('replace');
  });
  after(() => s.h.close());

  test('non-streaming: the denied call is replaced by a notice, the allowed one is kept', async () => {
    const res = await s.openai.chat.completions.create(
      { model: 'mistral-large-latest', messages: MESSAGES },
      { headers: fakeHeaders([READ, DELETE]) },
    );
    const choice = res.choices[0]!;
    assert.equal(choice.finish_reason, 'tool_calls');
    assert.deepEqual(
      choice.message.tool_calls?.map((c) => (c.type === 'function' ? [c.function.name, JSON.parse(c.function.arguments)] : null)),
      [['read_file', READ.arguments]],
    );
    const content = choice.message.content ?? '';
    assert.match(content, /Tool call "delete_file" was denied by policy "tool-governance" \(rule no-delete\)/);
    const record = await lastAudit(s.h, (r) => r.details?.tool_calls);
    assert.deepEqual(
      record.details.tool_calls.map((v: any) => [v.name, v.decision, v.policy, v.rule, v.reason_code]),
      [
        ['read_file', 'allow', 'tool-governance', 'tools', 'RULE_MATCH'],
        ['delete_file', 'deny', 'tool-governance', 'no-delete', 'RULE_MATCH'],
      ],
    );
    assert.equal(record.decision, 'allow');
    assert.match(record.details.tool_calls[1].reason, /no-delete/);
  });

  test('non-streaming: all calls denied -> no tool_calls, finish_reason stop', async () => {
    const res = await s.openai.chat.completions.create(
      { model: 'mistral-large-latest', messages: MESSAGES },
      { headers: fakeHeaders([DELETE]) },
    );
    const choice = res.choices[0]!;
    assert.equal(choice.finish_reason, 'stop');
    assert.equal(choice.message.tool_calls, undefined);
    assert.match(choice.message.content ?? '', /delete_file/);
  });

  for (const style of ['mistral', 'fragmented'] as const) {
    test(`streaming (${style} style): allowed call released whole, denied one replaced by a notice`, async () => {
      const stream = await s.openai.chat.completions.create(
        { model: 'mistral-large-latest', messages: MESSAGES, stream: true },
        { headers: fakeHeaders([READ, DELETE], style) },
      );
      const got = await collect(stream);
      assert.deepEqual(
        got.calls.map((c) => [c.name, JSON.parse(c.arguments)]),
        [['read_file', READ.arguments]],
      );
      assert.ok(got.calls[0]!.id);
      assert.equal(got.finish, 'tool_calls');
      assert.match(got.content, /Tool call "delete_file" was denied by policy "tool-governance" \(rule no-delete\)/);
    });

    test(`streaming (${style} style): no fragment of a denied call reaches the client`, async () => {
      const events = await rawEvents(s, [DELETE, READ], style);
      assert.ok(!events.some((e) => e.includes('/tmp/x')), 'the denied call arguments never leave the gateway');
      assert.equal(events[events.length - 1], '[DONE]');
      const released = events.filter((e) => e.includes('"tool_calls":[')).map((e) => JSON.parse(e));
      assert.equal(released.length, 1);
      assert.deepEqual(released[0].choices[0].delta.tool_calls.map((c: any) => [c.index, c.function.name]), [[0, 'read_file']]);
    });
  }

  test('streaming: all calls denied -> finish_reason stop', async () => {
    const stream = await s.openai.chat.completions.create(
      { model: 'mistral-large-latest', messages: MESSAGES, stream: true },
      { headers: fakeHeaders([DELETE], 'fragmented') },
    );
    const got = await collect(stream);
    assert.deepEqual(got.calls, []);
    assert.equal(got.finish, 'stop');
    assert.match(got.content, /delete_file/);
  });

  test('send_email is allowed only to @example.com recipients', async () => {
    const res = await s.openai.chat.completions.create(
      { model: 'mistral-large-latest', messages: MESSAGES },
      {
        headers: fakeHeaders([
          { name: 'send_email', arguments: { to: 'bob@example.com', body: 'hi' } },
          { name: 'send_email', arguments: { to: 'eve@evil.test', body: 'secrets' } },
        ]),
      },
    );
    const calls = res.choices[0]!.message.tool_calls ?? [];
    assert.deepEqual(
      calls.map((c) => (c.type === 'function' ? JSON.parse(c.function.arguments).to : null)),
      ['bob@example.com'],
    );
    assert.match(res.choices[0]!.message.content ?? '', /rule internal-mail/);
  });

  test('requests are governed on the tools they declare', async () => {
    const declare = (name: string): OpenAI.ChatCompletionTool => ({
      type: 'function',
      function: { name, parameters: { type: 'object', properties: {} } },
    });
    await assert.rejects(
      s.openai.chat.completions.create({ model: 'mistral-large-latest', messages: MESSAGES, tools: [declare('drop_database')] }),
      (err: unknown) => err instanceof OpenAI.PermissionDeniedError && /no-drop-tools/.test(err.message),
    );
    const ok = await s.openai.chat.completions.create({ model: 'mistral-large-latest', messages: MESSAGES, tools: [declare('read_file')] });
    assert.equal(ok.choices[0]!.message.tool_calls?.length, 1);
  });

  test('@mistralai/mistralai: a denied call comes back as a readable notice (streamed and not)', async () => {
    const mistral = new Mistral({ apiKey: s.key, serverURL: `${s.h.url}/mistral` });
    const res = await mistral.chat.complete({
      model: 'mistral-large-latest',
      messages: MESSAGES,
      tools: [DELETE_TOOL],
    });
    const choice = res.choices[0]!;
    assert.equal(choice.finishReason, 'stop');
    assert.ok(!choice.message?.toolCalls || choice.message.toolCalls.length === 0);
    assert.match(String(choice.message?.content), /Tool call "delete_file" was denied/);

    const stream = await mistral.chat.stream({ model: 'mistral-large-latest', messages: MESSAGES, tools: [DELETE_TOOL] });
    let content = '';
    let finish: string | null | undefined;
    let calls = 0;
    for await (const event of stream) {
      const c = event.data.choices[0];
      content += typeof c?.delta.content === 'string' ? c.delta.content : '';
      calls += c?.delta.toolCalls?.length ?? 0;
      finish = c?.finishReason ?? finish;
    }
    assert.equal(calls, 0);
    assert.equal(finish, 'stop');
    assert.match(content, /Tool call "delete_file" was denied/);
  });
});

describe('deny mode strip', () => {
  let s: Setup;
  before(async () => {
    s = await setup('strip');
  });
  after(() => s.h.close());

  test('non-streaming: the denied call disappears silently', async () => {
    const res = await s.openai.chat.completions.create(
      { model: 'mistral-large-latest', messages: MESSAGES },
      { headers: fakeHeaders([READ, DELETE]) },
    );
    const choice = res.choices[0]!;
    assert.deepEqual(choice.message.tool_calls?.map((c) => (c.type === 'function' ? c.function.name : null)), ['read_file']);
    assert.equal(choice.message.content, '');
    const record = await lastAudit(s.h, (r) => r.details?.tool_calls);
    assert.deepEqual(record.details.tool_calls.map((v: any) => v.decision), ['allow', 'deny']);
  });

  for (const style of ['mistral', 'fragmented'] as const) {
    test(`streaming (${style} style)`, async () => {
      const stream = await s.openai.chat.completions.create(
        { model: 'mistral-large-latest', messages: MESSAGES, stream: true },
        { headers: fakeHeaders([DELETE, READ], style) },
      );
      const got = await collect(stream);
      assert.deepEqual(got.calls.map((c) => c.name), ['read_file']);
      assert.equal(got.content, '');
      assert.equal(got.finish, 'tool_calls');
    });
  }

  test('all calls denied -> finish_reason stop', async () => {
    const res = await s.openai.chat.completions.create(
      { model: 'mistral-large-latest', messages: MESSAGES },
      { headers: fakeHeaders([DELETE]) },
    );
    assert.equal(res.choices[0]!.finish_reason, 'stop');
    assert.equal(res.choices[0]!.message.tool_calls, undefined);
  });
});

describe('deny mode error', () => {
  let s: Setup;
  before(async () => {
    s = await setup('error');
  });
  after(() => s.h.close());

  test('non-streaming: 403 naming the tool, policy and rule', async () => {
    const res = await fetch(`${s.h.url}/mistral/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${s.key}`, 'content-type': 'application/json', ...fakeHeaders([READ, DELETE]) },
      body: JSON.stringify({ model: 'mistral-large-latest', messages: MESSAGES }),
    });
    assert.equal(res.status, 403);
    assert.equal(res.headers.get('x-tollgate-decision'), 'deny');
    const body = (await res.json()) as any;
    assert.equal(body.error.type, 'permission_error');
    assert.equal(body.error.code, 'tool_call_denied');
    assert.equal(body.error.tool, 'delete_file');
    assert.equal(body.error.policy, 'tool-governance');
    assert.equal(body.error.rule, 'no-delete');
    const record = await lastAudit(s.h, (r) => r.details?.tool_calls);
    assert.equal(record.decision, 'deny');
    assert.equal(record.status, 403);
    assert.equal(record.rule, 'no-delete');
    assert.deepEqual(record.details.tool_calls.map((v: any) => v.decision), ['allow', 'deny']);
  });

  test('openai SDK: PermissionDeniedError; allowed-only responses pass', async () => {
    await assert.rejects(
      s.openai.chat.completions.create({ model: 'mistral-large-latest', messages: MESSAGES }, { headers: fakeHeaders([DELETE]) }),
      OpenAI.PermissionDeniedError,
    );
    const ok = await s.openai.chat.completions.create({ model: 'mistral-large-latest', messages: MESSAGES }, { headers: fakeHeaders([READ]) });
    assert.equal(ok.choices[0]!.message.tool_calls?.length, 1);
  });

  for (const style of ['mistral', 'fragmented'] as const) {
    test(`streaming (${style} style): an error event, then the end of the stream`, async () => {
      const events = await rawEvents(s, [DELETE, READ], style);
      const last = JSON.parse(events[events.length - 1]!);
      assert.equal(last.error.code, 'tool_call_denied');
      assert.equal(last.error.rule, 'no-delete');
      assert.ok(!events.includes('[DONE]'));
      assert.ok(!events.some((e) => e.includes('/tmp/x')));
      const stream = await s.openai.chat.completions.create(
        { model: 'mistral-large-latest', messages: MESSAGES, stream: true },
        { headers: fakeHeaders([DELETE], style) },
      );
      await assert.rejects(collect(stream), /delete_file/);
    });
  }
});
