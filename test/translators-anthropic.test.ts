/**
 * The Anthropic Messages translator's tool-call side: tool_use blocks judged and rewritten per deny mode, streams held,
 * judged and released, and every rewritten stream still read by the official SDK's MessageStream.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { MessageStream } from '@anthropic-ai/sdk/lib/MessageStream';
import { SseParser } from '../src/sse/parser.js';
import { anthropicMessagesToolCalls as shape } from '../src/translators/anthropic-messages.js';
import { denialNotice, ToolCallDenied } from '../src/translators/tool-verdicts.js';
import type { Json } from '../src/translators/types.js';
import {
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

const toolUse = (id: string, name: string, input: unknown): Json => ({ type: 'tool_use', id: `toolu_${id}`, name, input });
const text = (value: string): Json => ({ type: 'text', text: value });

function messageBody(content: Json[], stopReason = content.some((b) => b.type === 'tool_use') ? 'tool_use' : 'end_turn'): Json {
  return {
    id: 'msg_1',
    type: 'message',
    role: 'assistant',
    model: 'claude-test',
    content,
    stop_reason: stopReason,
    stop_sequence: null,
    usage: { input_tokens: 3, output_tokens: 9 },
  };
}

/**
 * The events the API streams for `body` (deltas cut at `cuts`; a tool's input as partial_json, `rawInput` overriding
 * the serialised input by block index).
 */
function streamEvents(body: Json, cuts: number[] = [3, 7], rawInput: Record<number, string> = {}): Json[] {
  const events: Json[] = [{ type: 'message_start', message: { ...body, content: [], stop_reason: null, usage: { input_tokens: 3, output_tokens: 1 } } }];
  (body.content as Json[]).forEach((block, index) => {
    if (block.type === 'tool_use') {
      events.push({ type: 'content_block_start', index, content_block: { ...block, input: {} } });
      // The API's first input delta is empty.
      for (const partial_json of ['', ...pieces(rawInput[index] ?? JSON.stringify(block.input), cuts)]) {
        events.push({ type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json } });
      }
    } else {
      events.push({ type: 'content_block_start', index, content_block: { type: 'text', text: '' } });
      if (index === 0) events.push({ type: 'ping' });
      for (const delta of pieces(block.text as string, cuts)) events.push({ type: 'content_block_delta', index, delta: { type: 'text_delta', text: delta } });
    }
    events.push({ type: 'content_block_stop', index });
  });
  events.push({ type: 'message_delta', delta: { stop_reason: body.stop_reason, stop_sequence: null }, usage: { output_tokens: 9 } });
  events.push({ type: 'message_stop' });
  return events;
}

const sse = sseWriter({ eventLines: true });

/** Block starts at 0, 1, ... and every block event's index a started block's: what MessageStream's `content[index]` needs. */
function assertContiguousBlocks(events: Json[]): void {
  let started = 0;
  for (const event of events) {
    if (event.type === 'content_block_start') assert.equal(event.index, started++, 'content_block_start at the next index');
    else if (typeof event.index === 'number') assert.ok(event.index < started, `index ${event.index} of a started block`);
  }
}

/** The stream as the official SDK's MessageStream reads it: its final message, as plain JSON. */
async function sdkFinalMessage(events: Json[]): Promise<Json> {
  assertContiguousBlocks(events);
  const body = new Response(events.map((e) => JSON.stringify(e)).join('\n')).body!;
  return JSON.parse(JSON.stringify(await MessageStream.fromReadableStream(body).finalMessage())) as Json;
}

const governStream = streamGovernance(shape, sse, eventsOf);

const parallel = () => [text('Let me look.'), toolUse('1', 'read_file', { path: '/x' }), toolUse('2', 'delete_file', { path: '/y' }), toolUse('3', 'list_dir', { dir: '/' })];

describe('anthropic: governResponse', () => {
  test('replace: the denied tool_use becomes a text block with the notice', () => {
    const body = messageBody(parallel());
    const ctx = governance('replace');
    assert.equal(shape.governResponse(body, ctx), true);
    assert.deepEqual(ctx.verdicts.map((v) => [v.name, v.decision]), [['read_file', 'allow'], ['delete_file', 'deny'], ['list_dir', 'allow']]);
    assert.deepEqual(body.content, [parallel()[0], parallel()[1], text(denialNotice(ctx.verdicts[1]!)), parallel()[3]]);
    assert.equal(body.stop_reason, 'tool_use', 'tool_use blocks are left');
  });

  test('strip: all denied -> blocks removed, stop_reason end_turn', () => {
    const body = messageBody([text('Hi'), toolUse('1', 'delete_file', {}), toolUse('2', 'delete_all', {})]);
    assert.equal(shape.governResponse(body, governance('strip')), true);
    assert.deepEqual(body.content, [text('Hi')]);
    assert.equal(body.stop_reason, 'end_turn');
  });

  test('replace: all denied -> stop_reason end_turn too (no tool_use left)', () => {
    const body = messageBody([toolUse('1', 'delete_file', {})]);
    shape.governResponse(body, governance('replace'));
    assert.equal(body.stop_reason, 'end_turn');
  });

  test('error: throws at the first denied block after recording every decision so far', () => {
    assertErrorStopsAtDeleteFile(shape, messageBody(parallel()));
  });

  test('all allowed, server tools, or not a message: unchanged', () => {
    const body = messageBody([toolUse('1', 'read_file', {}), { type: 'server_tool_use', id: 'srvtoolu_1', name: 'delete_web', input: {} }]);
    const ctx = governance('strip');
    assertLeftAlone(shape, body, ctx);
    assert.deepEqual(ctx.verdicts.map((v) => v.name), ['read_file']);
    assert.equal(shape.governResponse({ object: 'response', output: [] }, ctx), false);
  });

  test('the judge gets the name as it is and the input serialised', () => {
    const seen: [string, string][] = [];
    shape.governResponse(messageBody([toolUse('1', 'Delete_File', { path: '/x', n: [1, 2] })]), governance('replace', seen));
    assert.deepEqual(seen, [['Delete_File', '{"path":"/x","n":[1,2]}']]);
  });
});

describe('anthropic: stream governor', () => {
  test('all allowed: every byte passes unchanged', () => {
    const upstream = sse(streamEvents(messageBody([text('Hi'), toolUse('1', 'read_file', { path: '/x' })])), { crlf: true, multiline: true });
    const ctx = governance('replace');
    assert.equal(relay(shape.streamGovernor(ctx), [upstream]), upstream);
    assert.deepEqual(ctx.verdicts.map((v) => [v.name, v.decision]), [['read_file', 'allow']]);
  });

  test('a held block queues every later event (also unclaimed ones) and releases them in order once judged', () => {
    const upstream = streamEvents(messageBody([toolUse('1', 'read_file', { a: 1 }), text('after')]));
    // A comment (not JSON, not claimed) inside the held block: the relay hands it over because the governor holds.
    const [start, blockStart, ...rest] = new SseParser().push(`${sse(upstream.slice(0, 3))}: keep-alive\n\n${sse(upstream.slice(3))}`);
    const governor = shape.streamGovernor(governance('replace'));
    assert.equal(governor.push(start!, jsonOf(start!.data)), start!.raw);
    assert.equal(governor.push(blockStart!, jsonOf(blockStart!.data)), '');
    assert.equal(governor.holding, true);
    let out = '';
    for (const event of rest.slice(0, 3)) out += governor.push(event, jsonOf(event.data));
    assert.equal(out, '', 'nothing leaves before content_block_stop');
    for (const event of rest.slice(3)) out += governor.push(event, jsonOf(event.data));
    assert.equal(out, [blockStart!, ...rest].map((e) => e.raw).join(''));
    assert.equal(governor.holding, false);
  });

  test('replace, parallel blocks with the middle one denied: a text block at its index, the SDK reads it', async () => {
    const body = messageBody(parallel());
    const { events, verdicts } = governStream('replace', streamEvents(body));
    assert.deepEqual(verdicts.map((v) => [v.name, v.decision]), [['read_file', 'allow'], ['delete_file', 'deny'], ['list_dir', 'allow']]);
    assert.deepEqual(events.filter((e) => e.index === 2), [
      { type: 'content_block_start', index: 2, content_block: { type: 'text', text: '' } },
      { type: 'content_block_delta', index: 2, delta: { type: 'text_delta', text: denialNotice(verdicts[1]!) } },
      { type: 'content_block_stop', index: 2 },
    ]);
    assert.equal(JSON.stringify(events).includes('/y'), false, 'nothing of the denied block reaches the client');
    shape.governResponse(body, governance('replace'));
    const final = await sdkFinalMessage(events);
    assert.deepEqual(final.content, body.content);
    assert.equal(final.stop_reason, 'tool_use');
  });

  test('strip, denied block in the middle: its events go, later indices move down', async () => {
    const { events } = governStream('strip', streamEvents(messageBody(parallel())));
    const listDir = events.filter((e) => (e.content_block as Json | undefined)?.id === 'toolu_3');
    assert.equal(listDir[0]!.index, 2);
    assert.equal(events.filter((e) => e.type === 'content_block_stop').length, 3);
    const final = await sdkFinalMessage(events);
    assert.deepEqual(final.content, [parallel()[0], parallel()[1], parallel()[3]]);
  });

  test('strip keeps the governor holding, so a relay that routes only tool-call events still renumbers what follows', async () => {
    const content = [toolUse('1', 'delete_file', {}), text('after')];
    const events = eventsOf(relay(shape.streamGovernor(governance('strip')), [sse(streamEvents(messageBody(content)))], mentioningToolCalls));
    const final = await sdkFinalMessage(events);
    assert.deepEqual(final.content, [text('after')]);
    assert.equal(final.stop_reason, 'end_turn');
  });

  test('text and tools mixed, every tool_use removed: stop_reason becomes end_turn', async () => {
    for (const mode of ['strip', 'replace'] as const) {
      const { events, verdicts } = governStream(mode, streamEvents(messageBody([text('Héllo 👋'), toolUse('1', 'delete_file', { p: 'ü' })])));
      const final = await sdkFinalMessage(events);
      assert.equal(final.stop_reason, 'end_turn', mode);
      assert.deepEqual(final.content, mode === 'strip' ? [text('Héllo 👋')] : [text('Héllo 👋'), text(denialNotice(verdicts[0]!))]);
    }
  });

  test('error: throws at the denied block; the allowed block before it was already sent', () => {
    const ctx = governance('error');
    const governor = shape.streamGovernor(ctx);
    let sent = '';
    assert.throws(() => pushEach(governor, sse(streamEvents(messageBody(parallel()))), (out) => (sent += out)), (e: unknown) => e instanceof ToolCallDenied && e.verdict.name === 'delete_file');
    assert.deepEqual(ctx.verdicts.map((v) => v.name), ['read_file', 'delete_file']);
    assert.match(sent, /toolu_1/);
    assert.doesNotMatch(sent, /toolu_2/);
  });

  test('names are judged as they are; input that does not parse reaches the judge raw', () => {
    const seen: [string, string][] = [];
    const body = messageBody([toolUse('1', 'Delete_File', { path: '/x' }), toolUse('2', 'READ_FILE', {})]);
    governStream('strip', streamEvents(body, [2], { 0: '{"path": "/x"' }), seen);
    assert.deepEqual(seen, [['Delete_File', '{"path": "/x"'], ['READ_FILE', '{}']]);
  });

  test('the assembled input is judged serialised like a complete block (whitespace does not matter)', () => {
    const seen: [string, string][] = [];
    governStream('strip', streamEvents(messageBody([toolUse('1', 'read_file', { path: '/x' })]), [4], { 0: '{ "path" : "/x" }' }), seen);
    assert.deepEqual(seen, [['read_file', '{"path":"/x"}']]);
  });

  test('stream cut before content_block_stop: flush judges and releases the block', () => {
    const events = streamEvents(messageBody([toolUse('1', 'delete_file', { a: 1 })])).slice(0, 4);
    const ctx = governance('strip');
    const out = relay(shape.streamGovernor(ctx), [sse(events)]);
    assert.deepEqual(ctx.verdicts.map((v) => v.name), ['delete_file']);
    assert.deepEqual(eventsOf(out).map((e) => e.type), ['message_start']);
  });

  test('fed byte by byte with CRLF and multi-line data: the same output as fed whole', () => {
    const upstream = sse(streamEvents(messageBody([text('żółw 🐢'), toolUse('1', 'delete_file', { p: 'ü' }), toolUse('2', 'read_file', {})])), { crlf: true, multiline: true });
    const whole = relay(shape.streamGovernor(governance('strip')), [upstream]);
    const byByte = relay(shape.streamGovernor(governance('strip')), [...Buffer.from(upstream)].map((b) => Uint8Array.of(b)));
    assert.equal(byByte, whole);
    assertContiguousBlocks(eventsOf(whole));
  });
});

describe('anthropic: streamed = non-streamed (property)', () => {
  const names = ['read_file', 'Read_File', 'delete_file', 'DELETE_FILE', 'delete_all', 'list_dir'];
  const input = fc.dictionary(fc.string({ unit: 'grapheme', maxLength: 6 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 });
  const block = fc.oneof(
    fc.record({ kind: fc.constant('tool' as const), name: fc.constantFrom(...names), input }),
    fc.record({ kind: fc.constant('text' as const), text: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 20 }) }),
  );

  test('same verdicts, and the streamed message equals the non-streamed one', async () => {
    await fc.assert(
      fc.asyncProperty(arbitraryStreamCase(block, fc.record({ crlf: fc.boolean(), multiline: fc.boolean() })), async ({ items: blocks, mode, style, deltaCuts, byteCuts }) => {
        // JSON round trip: the wire carries JSON, so the reference is what JSON can say (no -0, no undefined).
        const content = JSON.parse(JSON.stringify(blocks.map((b, i) => (b.kind === 'tool' ? toolUse(String(i), b.name, b.input) : text(b.text))))) as Json[];
        const body = messageBody(content);
        const upstream = sse(streamEvents(body, deltaCuts), style);
        const { denied, out } = governBothWays(shape, mode, body, byteChunks(upstream, byteCuts));
        if (denied) return;
        const final = await sdkFinalMessage(eventsOf(out));
        assert.deepEqual(final.content, body.content);
        assert.equal(final.stop_reason, body.stop_reason);
      }),
      { numRuns: 200 },
    );
  });
});
