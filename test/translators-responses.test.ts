/**
 * The OpenAI Responses translator's tool-call side: output items judged and rewritten per deny mode, streams held,
 * judged and released, and every rewritten stream still valid for the official SDK's accumulator.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { accumulateResponse } from 'openai/lib/responses/ResponseAccumulator';
import { ResponseStream } from 'openai/lib/responses/ResponseStream';
import type { Response as OpenAIResponse, ResponseStreamEvent } from 'openai/resources/responses/responses';
import { SseParser } from '../src/sse/parser.js';
import { openaiResponsesToolCalls as shape } from '../src/translators/openai-responses.js';
import { denialNotice, ToolCallDenied, type ToolCallVerdict } from '../src/translators/tool-verdicts.js';
import type { Json } from '../src/translators/types.js';
import {
  arbitraryCallOrText,
  arbitraryStreamCase,
  assertErrorStopsAtDeleteFile,
  assertLeftAlone,
  byteChunks,
  eventsOf,
  governance,
  governBothWays,
  jsonOf,
  mentioningToolCalls,
  pieces,
  pushEach,
  relay,
  sseWriter,
  streamGovernance,
} from './support/tool-stream-fixtures.js';

const fnCall = (id: string, name: string, args: string): Json => ({ type: 'function_call', id: `fc_${id}`, call_id: `call_${id}`, name, arguments: args, status: 'completed' });
const message = (id: string, text: string): Json => ({
  type: 'message',
  id: `msg_${id}`,
  role: 'assistant',
  status: 'completed',
  content: [{ type: 'output_text', text, annotations: [] }],
});
const noticeItem = (call: Json, verdict: ToolCallVerdict): Json => ({
  type: 'message',
  id: call.id,
  role: 'assistant',
  status: 'completed',
  content: [{ type: 'output_text', text: denialNotice(verdict), annotations: [] }],
});

function responseBody(output: Json[], status = 'completed'): Json {
  return { id: 'resp_1', object: 'response', created_at: 1, status, model: 'gpt-test', error: null, incomplete_details: null, output };
}

/** The events the API streams for `output` (deltas cut at `cuts`), sequence-numbered from 0. */
function streamEvents(output: Json[], cuts: number[] = [3, 7]): Json[] {
  const events: Json[] = [];
  const emit = (type: string, fields: Json) => events.push({ type, sequence_number: events.length, ...fields });
  emit('response.created', { response: responseBody([], 'in_progress') });
  emit('response.in_progress', { response: responseBody([], 'in_progress') });
  output.forEach((item, output_index) => {
    const item_id = item.id;
    if (item.type === 'function_call') {
      emit('response.output_item.added', { output_index, item: { ...item, arguments: '', status: 'in_progress' } });
      for (const delta of pieces(item.arguments as string, cuts)) emit('response.function_call_arguments.delta', { item_id, output_index, delta });
      emit('response.function_call_arguments.done', { item_id, output_index, name: item.name, arguments: item.arguments });
    } else {
      const text = (item.content as { text: string }[])[0]!.text;
      const part = { type: 'output_text', text: '', annotations: [] };
      emit('response.output_item.added', { output_index, item: { ...item, status: 'in_progress', content: [] } });
      emit('response.content_part.added', { item_id, output_index, content_index: 0, part });
      for (const delta of pieces(text, cuts)) emit('response.output_text.delta', { item_id, output_index, content_index: 0, delta, logprobs: [] });
      emit('response.output_text.done', { item_id, output_index, content_index: 0, text, logprobs: [] });
      emit('response.content_part.done', { item_id, output_index, content_index: 0, part: { ...part, text } });
    }
    emit('response.output_item.done', { output_index, item });
  });
  emit('response.completed', { response: responseBody(output) });
  return events;
}

const sse = sseWriter({ eventLines: true });

/**
 * What the SDK's accumulator needs: each output_item.added at the next output_index (it pushes), every other event's
 * output_index an added item's; replaying it must not throw, and the snapshot the events built must equal the
 * terminal event's `response.output`. Returns that output.
 */
function assertValidStream(events: Json[]): unknown[] {
  let added = 0;
  let snapshot: OpenAIResponse | undefined;
  let terminal: unknown[] | null = null;
  for (const event of events) {
    if (event.type === 'response.output_item.added') assert.equal(event.output_index, added++, 'output_item.added at the next index');
    else if (typeof event.output_index === 'number') assert.ok(event.output_index < added, `output_index ${event.output_index} of an added item`);
    if (event.type === 'response.completed') {
      assert.deepEqual(JSON.parse(JSON.stringify(snapshot!.output)), (event.response as Json).output, 'streamed items = response.output');
      terminal = (event.response as Json).output as unknown[];
    }
    snapshot = accumulateResponse(event as unknown as ResponseStreamEvent, snapshot);
  }
  assert.ok(terminal, 'the stream ends with response.completed');
  return terminal;
}

/** The stream as the official SDK's ResponseStream reads it; resolves to its final response. */
async function sdkFinalResponse(events: Json[]): Promise<OpenAIResponse> {
  const body = new Response(events.map((e) => JSON.stringify(e)).join('\n')).body!;
  return ResponseStream.fromReadableStream(body).finalResponse();
}

const governStream = streamGovernance(shape, sse, eventsOf);

describe('responses: governResponse', () => {
  const output = () => [message('a', 'Sure.'), fnCall('1', 'read_file', '{"path":"/x"}'), fnCall('2', 'delete_file', '{"path":"/y"}')];

  test('replace: the denied function_call becomes an assistant message with the notice', () => {
    const body = responseBody(output());
    const ctx = governance('replace');
    assert.equal(shape.governResponse(body, ctx), true);
    assert.deepEqual(ctx.verdicts.map((v) => [v.name, v.decision]), [['read_file', 'allow'], ['delete_file', 'deny']]);
    assert.deepEqual(body.output, [message('a', 'Sure.'), fnCall('1', 'read_file', '{"path":"/x"}'), noticeItem(fnCall('2', 'delete_file', ''), ctx.verdicts[1]!)]);
    assert.match(JSON.stringify(body.output), /"delete_file\\" was denied by policy \\"p\\" \(rule no-delete\)/);
    assert.equal('output_text' in body, false, 'the SDK computes output_text; the gateway does not add it');
  });

  test('strip: the denied call is removed, the rest untouched', () => {
    const body = responseBody(output());
    assert.equal(shape.governResponse(body, governance('strip')), true);
    assert.deepEqual(body.output, [message('a', 'Sure.'), fnCall('1', 'read_file', '{"path":"/x"}')]);
  });

  test('error: throws at the first denied call after recording every decision so far', () => {
    assertErrorStopsAtDeleteFile(shape, responseBody([fnCall('1', 'read_file', '{}'), fnCall('2', 'delete_file', '{}'), fnCall('3', 'delete_all', '{}')]));
  });

  test('all allowed, or not a Responses body: unchanged', () => {
    assertLeftAlone(shape, responseBody([fnCall('1', 'read_file', '{}')]), governance('replace'));
    assert.equal(shape.governResponse({ choices: [] }, governance('replace')), false);
  });

  test('names are judged as they are; arguments that do not parse go to the judge as raw text', () => {
    const seen: [string, string][] = [];
    shape.governResponse(responseBody([fnCall('1', 'Delete_File', '{"path": "/x"'), fnCall('2', 'DELETE_FILE', '{}')]), governance('replace', seen));
    assert.deepEqual(seen, [['Delete_File', '{"path": "/x"'], ['DELETE_FILE', '{}']]);
  });

  test('custom_tool_call items are governed too (their free-form input is the arguments text)', () => {
    const seen: [string, string][] = [];
    const custom = { type: 'custom_tool_call', id: 'ctc_1', call_id: 'call_1', name: 'delete_rows', input: 'DELETE FROM t' };
    const body = responseBody([custom]);
    assert.equal(shape.governResponse(body, governance('strip', seen)), true);
    assert.deepEqual(seen, [['delete_rows', 'DELETE FROM t']]);
    assert.deepEqual(body.output, []);
  });
});

describe('responses: stream governor', () => {
  const parallel = () => [message('a', 'Let me look.'), fnCall('1', 'read_file', '{"path":"/x"}'), fnCall('2', 'delete_file', '{"path":"/y"}'), fnCall('3', 'list_dir', '{"dir":"/"}')];

  test('all allowed: every byte passes unchanged', () => {
    const events = streamEvents([message('a', 'Hi'), fnCall('1', 'read_file', '{"path":"/x"}')]);
    const upstream = sse(events, { crlf: true, multiline: true });
    const ctx = governance('replace');
    assert.equal(relay(shape.streamGovernor(ctx), [upstream]), upstream);
    assert.deepEqual(ctx.verdicts.map((v) => v.decision), ['allow']);
  });

  test('a held call queues every later event, and releases them in order once judged', () => {
    const events = streamEvents([fnCall('1', 'read_file', '{"path":"/x"}'), message('b', 'done')]);
    const governor = shape.streamGovernor(governance('replace'));
    const [created, inProgress, added, ...rest] = new SseParser().push(sse(events));
    assert.equal(governor.push(created!, jsonOf(created!.data)), created!.raw);
    governor.push(inProgress!, jsonOf(inProgress!.data));
    assert.equal(governor.push(added!, jsonOf(added!.data)), '');
    assert.equal(governor.holding, true);
    let out = '';
    for (const event of rest) {
      out += governor.push(event, jsonOf(event.data));
      if (jsonOf(event.data)!.type === 'response.function_call_arguments.done') assert.equal(out, '', 'nothing leaves before the item is done');
    }
    assert.equal(governor.holding, false);
    assert.equal(out, added!.raw + rest.map((e) => e.raw).join(''), 'released unchanged, in order');
  });

  test('replace, parallel calls with the middle one denied: a notice message takes its output_index', () => {
    const { events, verdicts } = governStream('replace', streamEvents(parallel()));
    assert.deepEqual(verdicts.map((v) => [v.name, v.decision]), [['read_file', 'allow'], ['delete_file', 'deny'], ['list_dir', 'allow']]);
    const notice = denialNotice(verdicts[1]!);
    const atTwo = events.filter((e) => e.output_index === 2).map((e) => e.type);
    assert.deepEqual(atTwo, [
      'response.output_item.added',
      'response.content_part.added',
      'response.output_text.delta',
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
    ]);
    assert.equal(events.find((e) => e.output_index === 2 && e.type === 'response.output_text.delta')!.delta, notice);
    assert.equal(JSON.stringify(events).includes('/y'), false, 'nothing of the denied call reaches the client');
    const output = assertValidStream(events);
    assert.deepEqual(output, [parallel()[0], parallel()[1], noticeItem(parallel()[2]!, verdicts[1]!), parallel()[3]]);
  });

  test('strip, denied call in the middle: its events go, later output_index move down, sequence_number kept', () => {
    const upstream = streamEvents(parallel());
    const { events, verdicts } = governStream('strip', upstream);
    assert.equal(verdicts[1]!.decision, 'deny');
    const listDir = events.filter((e) => e.item_id === 'fc_3' || (e.item as Json | undefined)?.id === 'fc_3');
    assert.ok(listDir.length > 0);
    assert.ok(listDir.every((e) => e.output_index === 2), 'list_dir renumbered 3 -> 2');
    const upstreamSeq = upstream.filter((e) => e.item_id === 'fc_3' || (e.item as Json | undefined)?.id === 'fc_3').map((e) => e.sequence_number);
    assert.deepEqual(listDir.map((e) => e.sequence_number), upstreamSeq);
    assert.deepEqual(assertValidStream(events), [parallel()[0], parallel()[1], parallel()[3]]);
  });

  test('strip keeps the governor holding, so a relay that routes only tool-call events still renumbers what follows', async () => {
    const output = [fnCall('1', 'delete_file', '{}'), message('b', 'after')];
    const ctx = governance('strip');
    const events = eventsOf(relay(shape.streamGovernor(ctx), [sse(streamEvents(output))], mentioningToolCalls));
    assert.deepEqual(assertValidStream(events), [output[1]]);
    assert.equal((await sdkFinalResponse(events)).output_text, 'after');
  });

  test('strip: the events before the denied call are passed as the upstream bytes', () => {
    const upstream = streamEvents([message('a', 'Hi'), fnCall('1', 'delete_file', '{}')]);
    const style = { crlf: true, multiline: false };
    const callStart = upstream.findIndex((e) => e.output_index === 1);
    const out = relay(shape.streamGovernor(governance('strip')), [sse(upstream, style)]);
    const before = sse(upstream.slice(0, callStart), style);
    assert.equal(out.slice(0, before.length), before);
    assert.equal(out.includes('fc_1'), false);
  });

  test('error: throws at the denied call; the allowed call before it was already sent', () => {
    const ctx = governance('error');
    const governor = shape.streamGovernor(ctx);
    let sent = '';
    assert.throws(() => pushEach(governor, sse(streamEvents(parallel())), (out) => (sent += out)), (e: unknown) => e instanceof ToolCallDenied && e.verdict.name === 'delete_file');
    assert.deepEqual(ctx.verdicts.map((v) => v.name), ['read_file', 'delete_file']);
    assert.match(sent, /"fc_1"/);
    assert.doesNotMatch(sent, /fc_2/);
  });

  test('text and tool mixed, all calls stripped: only the messages remain, valid for the SDK', async () => {
    const output = [message('a', 'Héllo 👋'), fnCall('1', 'delete_file', '{"path":"/y"}'), message('b', 'bye')];
    const { events } = governStream('strip', streamEvents(output));
    assert.deepEqual(assertValidStream(events), [output[0], output[2]]);
    const final = await sdkFinalResponse(events);
    assert.equal(final.output_text, 'Héllo 👋bye');
    assert.deepEqual(final.output.map((item) => item.id), ['msg_a', 'msg_b']);
  });

  test('replace: the SDK ResponseStream reads the notice message', async () => {
    const { events, verdicts } = governStream('replace', streamEvents([fnCall('1', 'delete_file', '{}')]));
    const final = await sdkFinalResponse(events);
    assert.equal(final.output_text, denialNotice(verdicts[0]!));
    assert.deepEqual(final.output.map((item) => item.type), ['message']);
  });

  test("the done events' arguments win over the deltas", () => {
    const seen: [string, string][] = [];
    const events = streamEvents([fnCall('1', 'read_file', '{"path":"/b"}')]).map((e) =>
      e.type === 'response.function_call_arguments.delta' ? { ...e, delta: e.sequence_number === 3 ? '{"path":"/a"}' : '' } : e,
    );
    governStream('replace', events, seen);
    assert.deepEqual(seen, [['read_file', '{"path":"/b"}']]);
  });

  test('names are judged as they are; unparsable arguments reach the judge raw', () => {
    const seen: [string, string][] = [];
    governStream('strip', streamEvents([fnCall('1', 'Delete_File', '{"path": "/x"'), fnCall('2', 'READ_FILE', 'not json')]), seen);
    assert.deepEqual(seen, [['Delete_File', '{"path": "/x"'], ['READ_FILE', 'not json']]);
  });

  test('a call only in response.completed (never streamed) is judged there; streamed ones are not judged twice', () => {
    const streamed = fnCall('1', 'read_file', '{}');
    const unseen = fnCall('2', 'delete_file', '{}');
    const events = streamEvents([streamed]);
    const completed = events[events.length - 1]!;
    completed.response = responseBody([streamed, unseen]);
    const { events: out, verdicts } = governStream('strip', events);
    assert.deepEqual(verdicts.map((v) => v.name), ['read_file', 'delete_file']);
    assert.deepEqual((out[out.length - 1]!.response as Json).output, [streamed]);
  });

  test('stream ends with a call never done: flush judges and releases it', () => {
    const events = streamEvents([fnCall('1', 'delete_file', '{"a":1}')]).filter((e) => e.type !== 'response.output_item.done' && e.type !== 'response.completed');
    const ctx = governance('strip');
    const out = relay(shape.streamGovernor(ctx), [sse(events)]);
    assert.deepEqual(ctx.verdicts.map((v) => v.name), ['delete_file']);
    assert.deepEqual(eventsOf(out).map((e) => e.type), ['response.created', 'response.in_progress']);
  });

  test('streamed custom_tool_call: its input deltas are held and judged', () => {
    const seen: [string, string][] = [];
    const item = { type: 'custom_tool_call', id: 'ctc_1', call_id: 'call_1', name: 'delete_rows', input: 'DELETE FROM t' };
    const events: Json[] = [
      { type: 'response.created', sequence_number: 0, response: responseBody([], 'in_progress') },
      { type: 'response.output_item.added', sequence_number: 1, output_index: 0, item: { ...item, input: '' } },
      { type: 'response.custom_tool_call_input.delta', sequence_number: 2, output_index: 0, item_id: 'ctc_1', delta: 'DELETE ' },
      { type: 'response.custom_tool_call_input.done', sequence_number: 3, output_index: 0, item_id: 'ctc_1', input: 'DELETE FROM t' },
      { type: 'response.output_item.done', sequence_number: 4, output_index: 0, item },
      { type: 'response.completed', sequence_number: 5, response: responseBody([item]) },
    ];
    const { events: out } = governStream('strip', events, seen);
    assert.deepEqual(seen, [['delete_rows', 'DELETE FROM t']]);
    assert.deepEqual(out.map((e) => e.type), ['response.created', 'response.completed']);
    assert.deepEqual(assertValidStream(out), []);
  });

  test('fed byte by byte with CRLF and multi-line data: the same output as fed whole', () => {
    const text = sse(streamEvents([message('a', 'żółw 🐢'), fnCall('1', 'delete_file', '{"p":"ü"}'), fnCall('2', 'read_file', '{}')]), { crlf: true, multiline: true });
    const whole = relay(shape.streamGovernor(governance('replace')), [text]);
    const bytes = Buffer.from(text);
    const byByte = relay(shape.streamGovernor(governance('replace')), [...bytes].map((b) => Uint8Array.of(b)));
    assert.equal(byByte, whole);
    assertValidStream(eventsOf(whole));
  });
});

describe('responses: streamed = non-streamed (property)', () => {
  const names = ['read_file', 'Read_File', 'delete_file', 'DELETE_FILE', 'delete_all', 'list_dir'];
  const item = arbitraryCallOrText(names);

  test('same verdicts, and the streamed result equals the non-streamed one', async () => {
    await fc.assert(
      fc.asyncProperty(arbitraryStreamCase(item, fc.record({ crlf: fc.boolean(), multiline: fc.boolean() })), async ({ items, mode, style, deltaCuts, byteCuts }) => {
        const output = items.map((it, i) => (it.kind === 'call' ? fnCall(String(i), it.name, it.args) : message(String(i), it.text)));

        const body = responseBody(structuredClone(output));
        const { denied, out } = governBothWays(shape, mode, body, byteChunks(sse(streamEvents(output, deltaCuts), style), byteCuts));
        if (denied) return;
        const events = eventsOf(out);
        assert.deepEqual(assertValidStream(events), body.output);
        assert.deepEqual(JSON.parse(JSON.stringify((await sdkFinalResponse(events)).output)).map((i: Json) => i.id), (body.output as Json[]).map((i) => i.id));
      }),
      { numRuns: 200 },
    );
  });
});
