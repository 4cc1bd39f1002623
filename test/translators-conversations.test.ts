/**
 * The Mistral Conversations translator's tool-call side: function.call entries judged and rewritten per deny mode,
 * function.call.delta events held, judged and released, and every result still valid for the official SDK's schemas.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { ConversationEvents$inboundSchema, ConversationResponse$inboundSchema } from '@mistralai/mistralai/models/components';
import { SseParser } from '../src/sse/parser.js';
import { mistralConversationsToolCalls as shape } from '../src/translators/mistral-conversations.js';
import { denialNotice, ToolCallDenied } from '../src/translators/tool-verdicts.js';
import type { Json } from '../src/translators/types.js';
import {
  arbitraryCallOrText,
  arbitraryStreamCase,
  assertErrorStopsAtDeleteFile,
  assertLeftAlone,
  byteChunks,
  decisions,
  governance,
  governBothWays,
  jsonOf,
  pieces,
  PLAIN,
  pushEach,
  relay,
  sseWriter,
  streamGovernance,
} from './support/tool-stream-fixtures.js';

const CREATED = '2025-06-01T10:00:00.000Z';
const MODEL = 'mistral-medium-2505';

const fnEntry = (id: string, name: string, args: unknown): Json => ({
  object: 'entry',
  type: 'function.call',
  created_at: CREATED,
  completed_at: null,
  model: MODEL,
  id: `fc_${id}`,
  tool_call_id: `call_${id}`,
  name,
  arguments: args,
});
const msgEntry = (id: string, content: string): Json => ({ object: 'entry', type: 'message.output', created_at: CREATED, model: MODEL, id: `msg_${id}`, role: 'assistant', content });
const noticeEntry = (call: Json, notice: string): Json => ({
  object: 'entry',
  type: 'message.output',
  created_at: CREATED,
  completed_at: null,
  model: MODEL,
  id: call.id,
  role: 'assistant',
  content: notice,
});

const USAGE = { prompt_tokens: 3, completion_tokens: 5, total_tokens: 8 };
const responseBody = (outputs: Json[]): Json => ({ object: 'conversation.response', conversation_id: 'conv_1', outputs, usage: USAGE });

const functionDelta = (outputIndex: number, entry: Json, args: string): Json => ({
  type: 'function.call.delta',
  created_at: CREATED,
  output_index: outputIndex,
  id: entry.id,
  model: MODEL,
  agent_id: null,
  name: entry.name,
  tool_call_id: entry.tool_call_id,
  arguments: args,
});
const messageDelta = (outputIndex: number, entry: Json, content: string): Json => ({
  type: 'message.output.delta',
  created_at: CREATED,
  output_index: outputIndex,
  id: entry.id,
  content_index: 0,
  model: MODEL,
  agent_id: null,
  role: 'assistant',
  content,
});

/** The events the API streams for `outputs` (deltas cut at `cuts`); `'ping'` marks where a comment line goes. */
function streamEvents(outputs: Json[], cuts: number[] = [3, 7], pings: number[] = []): (Json | 'ping')[] {
  const events: (Json | 'ping')[] = [{ type: 'conversation.response.started', created_at: CREATED, conversation_id: 'conv_1' }];
  outputs.forEach((entry, i) => {
    if (entry.type === 'function.call') for (const piece of pieces(String(entry.arguments), cuts)) events.push(functionDelta(i, entry, piece));
    else for (const piece of pieces(String(entry.content), cuts)) events.push(messageDelta(i, entry, piece));
  });
  events.push({ type: 'conversation.response.done', created_at: CREATED, usage: USAGE });
  for (const at of pings) events.splice(1 + (at % events.length), 0, 'ping');
  return events;
}

/** Mistral's keys written escaped (`"t\u0079pe"`: the second character of each of these), as a hostile upstream may. */
const escapeKeys = (json: string) =>
  json.replace(/"(type|arguments|name|output_index)":/g, (_m, key: string) => `"${key.slice(0, 1)}\\u00${key.charCodeAt(1).toString(16)}${key.slice(2)}":`);

/** Stream text for events (`'ping'` as a comment line), each with its `event:` line. */
const sse = sseWriter({ eventLines: true, escapeKeys });

/** The data events of a stream, each one the SDK's ConversationEvents schema knows (it reads others as UNKNOWN). */
function eventsOf(text: string): Json[] {
  return new SseParser()
    .push(text)
    .filter((e) => e.data !== '')
    .map((e) => {
      const parsed = ConversationEvents$inboundSchema.parse({ event: e.event, data: e.data });
      assert.notEqual(parsed.data.type, 'UNKNOWN', `the SDK reads ${e.data}`);
      return JSON.parse(e.data) as Json;
    });
}

const governStream = streamGovernance(shape, sse, eventsOf);

/** What a client builds from the events: one entry per output_index (which must run 0, 1, ...), deltas merged. */
function outputsOf(events: Json[]): Json[] {
  const outputs: Json[] = [];
  for (const e of events) {
    const index = e.output_index as number;
    if (e.type === 'function.call.delta') {
      assert.ok(index <= outputs.length, 'output_index without a gap');
      const entry = (outputs[index] ??= { type: 'function.call', id: e.id, name: e.name, tool_call_id: e.tool_call_id, arguments: '' });
      entry.arguments += e.arguments as string;
    } else if (e.type === 'message.output.delta') {
      assert.ok(index <= outputs.length, 'output_index without a gap');
      const entry = (outputs[index] ??= { type: 'message.output', id: e.id, content: '' });
      entry.content += e.content as string;
    }
  }
  return outputs;
}

/** The same view of a complete response's outputs. */
const outputsView = (outputs: Json[]): Json[] =>
  outputs.map((o) => (o.type === 'function.call' ? { type: o.type, id: o.id, name: o.name, tool_call_id: o.tool_call_id, arguments: o.arguments } : { type: o.type, id: o.id, content: o.content }));

describe('conversations: governResponse', () => {
  const outputs = () => [msgEntry('a', 'Sure.'), fnEntry('1', 'read_file', '{"path":"/x"}'), fnEntry('2', 'delete_file', { path: '/y' })];

  test('replace: the denied function.call entry becomes a message.output entry with the notice', () => {
    const body = responseBody(outputs());
    const ctx = governance('replace');
    assert.equal(shape.governResponse(body, ctx), true);
    assert.deepEqual(decisions(ctx), [['read_file', 'allow'], ['delete_file', 'deny']]);
    assert.deepEqual(body.outputs, [msgEntry('a', 'Sure.'), fnEntry('1', 'read_file', '{"path":"/x"}'), noticeEntry(fnEntry('2', 'delete_file', ''), denialNotice(ctx.verdicts[1]!))]);
    assert.match(JSON.stringify(body.outputs), /"delete_file\\" was denied by policy \\"p\\" \(rule no-delete\)/);
    ConversationResponse$inboundSchema.parse(body);
  });

  test('strip: the denied entry is removed; arguments given as an object are judged as their JSON', () => {
    const seen: [string, string][] = [];
    const body = responseBody(outputs());
    assert.equal(shape.governResponse(body, governance('strip', seen)), true);
    assert.deepEqual(body.outputs, [msgEntry('a', 'Sure.'), fnEntry('1', 'read_file', '{"path":"/x"}')]);
    assert.deepEqual(seen, [['read_file', '{"path":"/x"}'], ['delete_file', '{"path":"/y"}']]);
  });

  test('error: throws at the first denied call after recording every decision so far', () => {
    assertErrorStopsAtDeleteFile(shape, responseBody([fnEntry('1', 'read_file', '{}'), fnEntry('2', 'delete_file', '{}'), fnEntry('3', 'delete_all', '{}')]));
  });

  test('all allowed, or a body of another shape: unchanged', () => {
    assertLeftAlone(shape, responseBody([msgEntry('a', 'hi'), fnEntry('1', 'read_file', '{}'), { object: 'entry', type: 'tool.execution', name: 'web_search', arguments: '{}' }]), governance('strip'));
    assert.equal(shape.governResponse({ choices: [{ message: { tool_calls: [] } }] }, governance('strip')), false);
  });

  test('an entry without type but with a tool_call_id is a function call (the SDK defaults the type)', () => {
    const { type: _type, ...untyped } = fnEntry('1', 'delete_file', '{}');
    assert.equal((ConversationResponse$inboundSchema.parse(responseBody([untyped])) as { outputs: { type: string }[] }).outputs[0]!.type, 'function.call');
    const body = responseBody([untyped]);
    assert.equal(shape.governResponse(body, governance('strip')), true);
    assert.deepEqual(body.outputs, []);
  });
});

describe('conversations: stream governor', () => {
  test('a call is held until the next event of the response, then released as it came', () => {
    const events = streamEvents([msgEntry('a', 'Sure.'), fnEntry('1', 'read_file', '{"path":"/x"}')], [4, 9]);
    const text = sse(events);
    const g = shape.streamGovernor(governance('replace'));
    const parser = new SseParser();
    let out = '';
    for (const event of parser.push(text)) {
      const json = jsonOf(event.data)!;
      const sent = g.push(event, json);
      if (json.type === 'function.call.delta') assert.equal(sent, '', 'held');
      out += sent;
    }
    assert.equal(g.holding, false);
    assert.equal(out + g.flush(), text, 'released byte for byte');
  });

  test('replace: the denied call\'s deltas become one message.output.delta with the notice, at its output_index', () => {
    const seen: [string, string][] = [];
    const outputs = [msgEntry('a', 'Sure.'), fnEntry('1', 'delete_file', '{"path":"/y"}'), fnEntry('2', 'read_file', '{}')];
    const { events, ctx } = governStream('replace', streamEvents(outputs), seen);
    assert.deepEqual(seen, [['delete_file', '{"path":"/y"}'], ['read_file', '{}']]);
    const notice = events.filter((e) => e.type === 'message.output.delta' && e.output_index === 1);
    assert.deepEqual(notice, [{ ...messageDelta(1, { id: 'fc_1' }, denialNotice(ctx.verdicts[0]!)) }]);
    assert.deepEqual(outputsOf(events), outputsView([msgEntry('a', 'Sure.'), noticeEntry(outputs[1]!, denialNotice(ctx.verdicts[0]!)), outputs[2]!]));
  });

  test('strip: the denied call goes, later output_indexes move down', () => {
    const outputs = [fnEntry('1', 'delete_file', '{"path":"/y"}'), msgEntry('a', 'Sure.'), fnEntry('2', 'read_file', '{}')];
    const { events } = governStream('strip', streamEvents(outputs));
    assert.deepEqual(outputsOf(events), outputsView([outputs[1]!, outputs[2]!]));
    assert.equal(events.at(-1)!.type, 'conversation.response.done');
  });

  test('error: throws when the denied call completes, after releasing the allowed call before it', () => {
    const ctx = governance('error');
    const g = shape.streamGovernor(ctx);
    let out = '';
    assert.throws(() => pushEach(g, sse(streamEvents([fnEntry('1', 'read_file', '{}'), fnEntry('2', 'delete_file', '{}')])), (sent) => (out += sent)), ToolCallDenied);
    assert.deepEqual(decisions(ctx), [['read_file', 'allow'], ['delete_file', 'deny']]);
    assert.deepEqual(outputsOf(eventsOf(out)), outputsView([fnEntry('1', 'read_file', '{}')]));
  });

  test('claims the conversation event types only', () => {
    const g = shape.streamGovernor(governance('strip'));
    const [event] = new SseParser().push('event: x\ndata: {}\n\n');
    for (const type of ['conversation.response.started', 'function.call.delta', 'message.output.delta', 'tool.execution.done', 'agent.handoff.done', 'conversation.response.error']) {
      assert.equal(g.claims(event!, { type }), true, type);
    }
    for (const json of [{ type: 'response.created' }, { type: 'content_block_delta' }, { choices: [] }, null]) assert.equal(g.claims(event!, json), false);
  });

  test('a denied call held across many deltas never shows; comments in between keep their place', () => {
    const args = JSON.stringify({ path: '/etc/passwd', note: 'żółw 🐢'.repeat(20) });
    const events = streamEvents([fnEntry('1', 'delete_file', args)], Array.from({ length: 60 }, (_, i) => i * 3), [3, 10]);
    const seen: [string, string][] = [];
    const ctx = governance('strip', seen);
    const text = relay(shape.streamGovernor(ctx), [sse(events)]);
    assert.deepEqual(seen, [['delete_file', args]]);
    assert.equal(text.includes('function.call'), false);
    assert.equal(text.split(': ping').length - 1, 2);
  });

  test('a flush at the end judges the call still held', () => {
    const events = streamEvents([fnEntry('1', 'read_file', '{"a":1}')]).filter((e) => e === 'ping' || e.type !== 'conversation.response.done');
    const ctx = governance('strip');
    const text = relay(shape.streamGovernor(ctx), [sse(events)]);
    assert.deepEqual(decisions(ctx), [['read_file', 'allow']]);
    assert.equal(text, sse(events));
  });

  test('a new id at the same output_index is a new call; an error event completes the call', () => {
    const seen: [string, string][] = [];
    const a = fnEntry('1', 'read_file', '');
    const b = fnEntry('2', 'delete_file', '');
    governStream('replace', [functionDelta(0, a, '{}'), functionDelta(0, b, '{}'), { type: 'conversation.response.error', message: 'boom', code: 500 }], seen);
    assert.deepEqual(seen, [['read_file', '{}'], ['delete_file', '{}']]);
  });

  test('a delta renaming its call is given the call\'s name; a call resumed later is judged with all its arguments', () => {
    const seen: [string, string][] = [];
    const call = fnEntry('1', 'read_file', '');
    const { events } = governStream(
      'strip',
      [
        functionDelta(0, call, '{"path":'),
        { ...functionDelta(0, call, '"/x"}'), name: 'delete_file', tool_call_id: 'call_other' },
        messageDelta(1, msgEntry('a', ''), 'hi'),
        functionDelta(0, call, ' '),
      ],
      seen,
    );
    assert.deepEqual(seen, [['read_file', '{"path":"/x"}'], ['read_file', '{"path":"/x"} ']]);
    assert.deepEqual(
      events.filter((e) => e.type === 'function.call.delta').map((e) => [e.name, e.tool_call_id]),
      [['read_file', 'call_1'], ['read_file', 'call_1'], ['read_file', 'call_1']],
    );
  });

  test('escaped keys in the raw bytes are governed (the relay parses the JSON)', () => {
    const ctx = governance('strip');
    const text = sse(streamEvents([fnEntry('1', 'delete_file', '{}')]), { ...PLAIN, escapedKeys: true });
    assert.match(text, /"t\\u0079pe"/);
    const out = relay(shape.streamGovernor(ctx), [text]);
    assert.deepEqual(decisions(ctx), [['delete_file', 'deny']]);
    assert.equal(outputsOf(eventsOf(out)).length, 0);
  });
});

describe('conversations: streamed = non-streamed (property)', () => {
  const names = ['read_file', 'list_dir', 'delete_file', 'delete_all'];
  const item = arbitraryCallOrText(names);

  test('same verdicts, and the streamed outputs equal the non-streamed ones', () => {
    fc.assert(
      fc.property(
        arbitraryStreamCase(item, fc.record({ crlf: fc.boolean(), multiline: fc.boolean(), escapedKeys: fc.boolean() })),
        fc.array(fc.nat(), { maxLength: 3 }),
        ({ items, mode, style, deltaCuts, byteCuts }, pings) => {
          const outputs = items.map((it, i) => (it.kind === 'call' ? fnEntry(String(i), it.name, it.args) : msgEntry(String(i), it.text)));

          const body = responseBody(structuredClone(outputs));
          const { denied, out } = governBothWays(shape, mode, body, byteChunks(sse(streamEvents(outputs, deltaCuts, pings), style), byteCuts));
          if (denied) return;
          ConversationResponse$inboundSchema.parse(body);
          assert.deepEqual(outputsOf(eventsOf(out)), outputsView(body.outputs as Json[]));
        },
      ),
      { numRuns: 300 },
    );
  });
});
