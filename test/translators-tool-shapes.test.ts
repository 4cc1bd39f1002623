/**
 * The composite over every wire API: the byte scan that keeps plain responses from being parsed, and governance of
 * a response in whatever shape it carries tool calls, whichever route it came from.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { governResponse, mayCarryToolCalls, StreamGovernor } from '../src/translators/tool-shapes.js';
import { denialNotice, type ToolCallJudge } from '../src/translators/tool-verdicts.js';
import type { Json, ToolGovernance } from '../src/translators/types.js';
import { SseParser } from '../src/sse/parser.js';

const judge: ToolCallJudge = (name) => {
  const deny = name === 'delete_file';
  return { name, decision: deny ? 'deny' : 'allow', policy: 'p', rule: deny ? 'no-delete' : null, reason: deny ? 'denied' : 'allowed', reason_code: 'RULE_MATCH' };
};
const strip = (): ToolGovernance => ({ judge, mode: 'strip', verdicts: [], notice: (v) => denialNotice(v) });

test('the byte scan: plain answers and null tool fields need no parse', () => {
  assert.equal(mayCarryToolCalls('{"choices":[{"message":{"role":"assistant","content":"hi"}}]}'), false);
  assert.equal(mayCarryToolCalls('{"message":{"content":"hi","tool_calls": null,"function_call" :null}}'), false);
  // ensure_ascii JSON escapes every non-ASCII character: no ASCII key can hide behind those
  assert.equal(mayCarryToolCalls('{"content":"caf\\u00e9 \\u4f60\\u597d \\u00ff"}'), false);
});

test('the byte scan: every known shape, and any escaped ASCII character, needs a parse', () => {
  for (const marker of ['tool_calls', 'function_call', 'custom_tool_call', 'tool_use', 'function.call']) {
    assert.equal(mayCarryToolCalls(`{"type":"${marker}"}`), true, marker);
  }
  assert.equal(mayCarryToolCalls('{"tool\\u005fcalls":[]}'), true);
  assert.equal(mayCarryToolCalls('{"tool\\u005Fcalls":[]}'), true);
  assert.equal(mayCarryToolCalls('{"\\u0074ool_calls":[]}'), true);
  assert.equal(mayCarryToolCalls(Buffer.from('{"tool_calls":[{"id":"x"}]}')), true);
});

test('a Responses body on a chat route is governed as a Responses body', () => {
  const body: Json = {
    object: 'response',
    output: [
      { type: 'function_call', id: 'fc_1', call_id: 'c1', name: 'read_file', arguments: '{}' },
      { type: 'function_call', id: 'fc_2', call_id: 'c2', name: 'delete_file', arguments: '{}' },
    ],
  };
  const ctx = strip();
  assert.equal(governResponse(body, ctx), true);
  assert.deepEqual((body.output as Json[]).map((i) => i.name), ['read_file']);
  assert.deepEqual(ctx.verdicts.map((v) => `${v.name}:${v.decision}`), ['read_file:allow', 'delete_file:deny']);
});

test('an Anthropic stream through the composite: the denied tool_use block never leaves', () => {
  const events = [
    { type: 'message_start', message: { id: 'm', type: 'message', role: 'assistant', content: [], model: 'c', stop_reason: null, usage: { input_tokens: 1, output_tokens: 0 } } },
    { type: 'content_block_start', index: 0, content_block: { type: 'tool_use', id: 't1', name: 'delete_file', input: {} } },
    { type: 'content_block_delta', index: 0, delta: { type: 'input_json_delta', partial_json: '{"path":"/"}' } },
    { type: 'content_block_stop', index: 0 },
    { type: 'message_delta', delta: { stop_reason: 'tool_use' }, usage: { output_tokens: 5 } },
    { type: 'message_stop' },
  ];
  const text = events.map((e) => `event: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`).join('');
  const ctx = strip();
  const governor = new StreamGovernor(() => ctx);
  let out = '';
  for (const event of new SseParser().push(text)) out += governor.push(event, JSON.parse(event.data) as Json);
  out += governor.flush();
  assert.doesNotMatch(out, /delete_file/);
  assert.match(out, /"stop_reason":"end_turn"/);
  assert.deepEqual(ctx.verdicts.map((v) => `${v.name}:${v.decision}`), ['delete_file:deny']);
});

test('the byte scan finds each marker anywhere: at the edges, after a near miss, next to null keys', () => {
  for (const marker of ['tool_calls', 'function_call', 'custom_tool_call', 'tool_use', 'function.call']) {
    assert.equal(mayCarryToolCalls(marker), true, `${marker} alone`);
    assert.equal(mayCarryToolCalls(`{"tool_x":1,"functionality":2,"${marker}":[]}`), true, `${marker} after near misses`);
    assert.equal(mayCarryToolCalls(`{"${marker}": null, "other": "${marker}"}`), true, `${marker} as a value after a null key`);
    assert.equal(mayCarryToolCalls(`{"${marker}" : null}`), false, `${marker}: null`);
  }
  assert.equal(mayCarryToolCalls('{"tool_":"function","text":"call the function_ tool_ now"}'), false);
});

/** Runs SSE events through the composite in strip mode; the output and the verdicts. */
function stripStream(events: Json[]): { out: string; verdicts: string[] } {
  const ctx = strip();
  const governor = new StreamGovernor(() => ctx);
  let out = '';
  const text = events.map((e) => `event: ${String(e.type ?? 'message')}\ndata: ${JSON.stringify(e)}\n\n`).join('');
  for (const event of new SseParser().push(text)) out += governor.push(event, JSON.parse(event.data) as Json);
  out += governor.flush();
  return { out, verdicts: ctx.verdicts.map((v) => `${v.name}:${v.decision}`) };
}

const deleteCall = { type: 'function.call', tool_call_id: 't1', name: 'delete_file', arguments: '{}' };

test('complete responses inside stream events are governed too, in events no API publishes that way', () => {
  const cases: [string, Json[]][] = [
    [
      'an Anthropic message_start whose content holds a tool_use block',
      [
        { type: 'message_start', message: { id: 'm', type: 'message', role: 'assistant', content: [{ type: 'tool_use', id: 't', name: 'delete_file', input: {} }], stop_reason: 'tool_use' } },
        { type: 'message_stop' },
      ],
    ],
    ['a Conversations done event carrying outputs', [{ type: 'conversation.response.done', outputs: [deleteCall], usage: {} }]],
    ['an event of a type no API has, carrying outputs', [{ type: 'vendor.custom', outputs: [deleteCall] }]],
    ['a whole chat completion sent as one event', [{ object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', tool_calls: [{ id: 'x', type: 'function', function: { name: 'delete_file', arguments: '{}' } }] }, finish_reason: 'tool_calls' }] }]],
  ];
  for (const [what, events] of cases) {
    const { out, verdicts } = stripStream(events);
    assert.doesNotMatch(out, /delete_file/, what);
    assert.deepEqual(verdicts, ['delete_file:deny'], what);
  }
});
