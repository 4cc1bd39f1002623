/**
 * The Chat Completions translator's tool-call side: responses rewritten per deny mode, stream fragments held, judged
 * and released whole, legacy function_call, index-less fragments, and streamed = non-streamed whatever the bytes.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { SseParser } from '../src/sse/parser.js';
import { chatCompletionsToolCalls as shape } from '../src/translators/chat-completions.js';
import { denialNotice, ToolCallDenied } from '../src/translators/tool-verdicts.js';
import type { Json } from '../src/translators/types.js';
import {
  arbitraryArguments,
  arbitraryCuts,
  arbitraryMode,
  assertErrorStopsAtDeleteFile,
  assertLeftAlone,
  byteChunks,
  decisions,
  governance,
  governBothWays,
  jsonOf,
  pieces,
  PLAIN,
  relay,
  sseWriter,
  streamGovernance,
} from './support/tool-stream-fixtures.js';

const call = (id: string, name: string, args: string) => ({ id, type: 'function', function: { name, arguments: args } });

function response(calls: unknown[], content: unknown = '') {
  return { id: 'r', choices: [{ index: 0, message: { role: 'assistant', content, tool_calls: calls } as Json, finish_reason: 'tool_calls' }] };
}

function legacyResponse(name: string, args: string, content: unknown = null) {
  return { id: 'r', choices: [{ index: 0, message: { role: 'assistant', content, function_call: { name, arguments: args } } as Json, finish_reason: 'function_call' }] };
}

function chunk(delta: Json, finish: string | null = null, index = 0): Json {
  return { id: 'c', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index, delta, finish_reason: finish }] };
}

/** Chat's keys written escaped (`"tool\u005fcalls"`), as a hostile upstream may. */
const escapeKeys = (json: string) => json.replace(/"tool_calls":/g, '"tool\\u005fcalls":').replace(/"function_call":/g, '"function\\u005fcall":');

/** Stream text for chunks ('[DONE]' as the terminating event): no `event:` lines. */
const sse = sseWriter({ eventLines: false, escapeKeys });

const eventsOf = (text: string): (Json | '[DONE]')[] => new SseParser().push(text).map((e) => (e.data === '[DONE]' ? '[DONE]' : (JSON.parse(e.data) as Json)));

const governStream = streamGovernance(shape, sse, eventsOf);

interface ClientChoice {
  content: string;
  tool_calls: { id?: string; type?: string; function: { name: string; arguments: string } }[];
  function_call?: { name: string; arguments: string };
  finish_reason: unknown;
}

/** What a client (openai-node's accumulator) builds from the chunks: tool calls merged by index. */
function accumulate(events: (Json | '[DONE]')[]): ClientChoice[] {
  const choices: ClientChoice[] = [];
  for (const event of events) {
    if (event === '[DONE]') continue;
    for (const choice of event.choices as Json[]) {
      const state = (choices[choice.index as number] ??= { content: '', tool_calls: [], finish_reason: null });
      const delta = (choice.delta ?? {}) as Json;
      if (typeof delta.content === 'string') state.content += delta.content;
      for (const fragment of (delta.tool_calls ?? []) as Json[]) {
        const fn = fragment.function as Json;
        const tc = (state.tool_calls[fragment.index as number] ??= { function: { name: '', arguments: '' } });
        if (fragment.id) tc.id = fragment.id as string;
        if (fragment.type) tc.type = fragment.type as string;
        if (fn.name) tc.function.name = fn.name as string;
        tc.function.arguments += fn.arguments as string;
      }
      const fc = delta.function_call as Json | undefined;
      if (fc) {
        state.function_call ??= { name: '', arguments: '' };
        if (fc.name) state.function_call.name = fc.name as string;
        if (fc.arguments) state.function_call.arguments += fc.arguments as string;
      }
      if (choice.finish_reason) state.finish_reason = choice.finish_reason;
    }
  }
  return choices;
}

describe('chat: governResponse', () => {
  test('replace: removes the denied call and appends a notice naming tool, policy and rule', () => {
    const body = response([call('a', 'read_file', '{"path":"/x"}'), call('b', 'delete_file', '{"path":"/y"}')], 'Sure.');
    const ctx = governance('replace');
    assert.equal(shape.governResponse(body, ctx), true);
    const choice = body.choices[0]!;
    assert.deepEqual(choice.message.tool_calls, [call('a', 'read_file', '{"path":"/x"}')]);
    assert.equal(choice.message.content, `Sure.\n\n${denialNotice(ctx.verdicts[1]!)}`);
    assert.deepEqual(decisions(ctx), [['read_file', 'allow'], ['delete_file', 'deny']]);
    assert.match(String(choice.message.content), /"delete_file" was denied by policy "p" \(rule no-delete\)/);
    assert.equal(choice.finish_reason, 'tool_calls');
  });

  test('strip: all denied -> tool_calls removed, finish_reason stop, content untouched', () => {
    const body = response([call('b', 'delete_file', '{}')], null);
    assert.equal(shape.governResponse(body, governance('strip')), true);
    const choice = body.choices[0]!;
    assert.equal('tool_calls' in choice.message, false);
    assert.equal(choice.message.content, null);
    assert.equal(choice.finish_reason, 'stop');
  });

  test('error: throws on the first denied call, after recording every decision so far', () => {
    assertErrorStopsAtDeleteFile(shape, response([call('a', 'read_file', '{}'), call('b', 'delete_file', '{}'), call('c', 'delete_all', '{}')]));
  });

  test('all allowed: unchanged', () => {
    assertLeftAlone(shape, response([call('a', 'read_file', '{}')]), governance('replace'));
  });

  test('arguments sent as an object (Mistral) are judged as their JSON; a body of another shape is left alone', () => {
    const seen: [string, string][] = [];
    const body = response([{ id: 'a', type: 'function', function: { name: 'read_file', arguments: { path: '/x' } } }]);
    assert.equal(shape.governResponse(body, governance('replace', seen)), false);
    assert.deepEqual(seen, [['read_file', '{"path":"/x"}']]);
    assert.equal(shape.governResponse({ outputs: [{ type: 'function.call', name: 'delete_file' }] }, governance('strip')), false);
  });

  test('legacy function_call: judged like a tool call, in every mode', () => {
    const replaced = legacyResponse('delete_file', '{"path":"/y"}', 'Ok.');
    const ctx = governance('replace');
    assert.equal(shape.governResponse(replaced, ctx), true);
    assert.deepEqual(replaced.choices[0], { index: 0, message: { role: 'assistant', content: `Ok.\n\n${denialNotice(ctx.verdicts[0]!)}` }, finish_reason: 'stop' });

    const stripped = legacyResponse('delete_file', '{}');
    assert.equal(shape.governResponse(stripped, governance('strip')), true);
    assert.deepEqual(stripped.choices[0], { index: 0, message: { role: 'assistant', content: null }, finish_reason: 'stop' });

    assert.throws(() => shape.governResponse(legacyResponse('delete_file', '{}'), governance('error')), ToolCallDenied);

    const allowed = legacyResponse('read_file', '{}');
    assert.equal(shape.governResponse(allowed, governance('strip')), false);
    assert.deepEqual(allowed.choices[0]!.message.function_call, { name: 'read_file', arguments: '{}' });
  });

  test('custom tool calls are judged by their custom name and input', () => {
    const seen: [string, string][] = [];
    const body = response([{ id: 'a', type: 'custom', custom: { name: 'delete_file', input: 'rm -rf /' } }, call('b', 'read_file', '{}')]);
    assert.equal(shape.governResponse(body, governance('strip', seen)), true);
    assert.deepEqual(seen, [['delete_file', 'rm -rf /'], ['read_file', '{}']]);
    assert.deepEqual(body.choices[0]!.message.tool_calls, [call('b', 'read_file', '{}')]);
  });

  test('a name that is not a string is judged as a JavaScript client would look it up', () => {
    const body = response([{ id: 'a', type: 'function', function: { name: ['delete_file'], arguments: '{}' } }]);
    const ctx = governance('strip');
    assert.equal(shape.governResponse(body, ctx), true);
    assert.deepEqual(decisions(ctx), [['delete_file', 'deny']]);
  });

  test('a notice is appended to content given as parts, as a text part', () => {
    const body = response([call('b', 'delete_file', '{}')], [{ type: 'thinking', thinking: [] }, { type: 'text', text: 'Sure.' }]);
    const ctx = governance('replace');
    shape.governResponse(body, ctx);
    assert.deepEqual(body.choices[0]!.message.content, [{ type: 'thinking', thinking: [] }, { type: 'text', text: 'Sure.' }, { type: 'text', text: denialNotice(ctx.verdicts[0]!) }]);
  });
});

describe('chat: stream governor', () => {
  test('fragmented calls are held until complete, then released whole and renumbered', () => {
    const seen: [string, string][] = [];
    const g = shape.streamGovernor(governance('replace', seen));
    const push = (c: Json) => {
      const event = new SseParser().push(sse([c]))[0]!;
      return g.push(event, jsonOf(event.data));
    };
    const role = chunk({ role: 'assistant', content: '' });
    assert.equal(push(role), sse([role]));
    assert.equal(push(chunk({ tool_calls: [{ index: 0, id: 'a', type: 'function', function: { name: 'delete_file', arguments: '' } }] })), '');
    assert.equal(push(chunk({ tool_calls: [{ index: 0, function: { arguments: '{"path":' } }] })), '');
    assert.equal(push(chunk({ tool_calls: [{ index: 0, function: { arguments: '"/y"}' } }] })), '');
    assert.equal(g.holding, true);
    // A new call index completes the previous call.
    const next = eventsOf(push(chunk({ tool_calls: [{ index: 1, id: 'b', type: 'function', function: { name: 'read_file', arguments: '{}' } }] })))[0] as any;
    assert.deepEqual(seen, [['delete_file', '{"path":"/y"}']]);
    assert.match(String(next.choices[0].delta.content), /"delete_file" was denied/);
    assert.equal(next.choices[0].delta.tool_calls, undefined);
    // The finish completes the rest; the allowed call gets index 0.
    const last = eventsOf(push(chunk({}, 'tool_calls')))[0] as any;
    assert.deepEqual(last.choices[0].delta.tool_calls, [{ index: 0, id: 'b', type: 'function', function: { name: 'read_file', arguments: '{}' } }]);
    assert.equal(last.choices[0].finish_reason, 'tool_calls');
    assert.equal(g.holding, false);
    assert.equal(g.flush(), '');
  });

  test('Mistral style: complete calls with the finish in one chunk are judged at once', () => {
    const { events } = governStream('strip', [
      chunk({ content: '', tool_calls: [{ ...call('a', 'delete_file', '{}'), index: 0 }, { ...call('b', 'read_file', '{}'), index: 1 }] }, 'tool_calls'),
    ]);
    const out = events[0] as any;
    assert.deepEqual(out.choices[0].delta, { content: '', tool_calls: [{ index: 0, id: 'b', type: 'function', function: { name: 'read_file', arguments: '{}' } }] });
    assert.equal(out.choices[0].finish_reason, 'tool_calls');
  });

  test('all denied: finish_reason becomes stop', () => {
    const { events } = governStream('strip', [chunk({ tool_calls: [{ index: 0, id: 'a', function: { name: 'delete_file', arguments: '{}' } }] }), chunk({}, 'tool_calls')]);
    assert.equal(events.length, 1);
    const out = events[0] as any;
    assert.equal(out.choices[0].finish_reason, 'stop');
    assert.deepEqual(out.choices[0].delta, {});
  });

  test('flush completes calls still held at the end of the stream', () => {
    const g = shape.streamGovernor(governance('replace'));
    const [event] = new SseParser().push(sse([chunk({ tool_calls: [{ index: 0, id: 'a', function: { name: 'read_file', arguments: '{}' } }] })]));
    assert.equal(g.push(event!, jsonOf(event!.data)), '');
    const out = eventsOf(g.flush())[0] as any;
    assert.equal(out.id, 'c');
    assert.deepEqual(out.choices, [{ index: 0, delta: { tool_calls: [{ index: 0, id: 'a', type: 'function', function: { name: 'read_file', arguments: '{}' } }] }, finish_reason: null }]);
    assert.equal(g.flush(), '');
  });

  test('error mode throws ToolCallDenied when a denied call completes', () => {
    const ctx = governance('error');
    const g = shape.streamGovernor(ctx);
    assert.throws(() => relay(g, [sse([chunk({ tool_calls: [{ index: 0, id: 'a', function: { name: 'delete_file', arguments: '{}' } }] }), chunk({}, 'tool_calls')])]), ToolCallDenied);
    assert.deepEqual(decisions(ctx), [['delete_file', 'deny']]);
  });

  test('chunks without tool calls, and a usage chunk with empty choices, pass as their exact bytes', () => {
    const g = shape.streamGovernor(governance('replace'));
    const text = 'data: {"id":"c","choices":[],"usage":{"total_tokens":3}}\r\n\r\ndata:{"id":"c","choices":[{"index":0,"delta":{"content":"hi","tool_calls":null}}]}\n\n';
    assert.equal(relay(g, [text]), text);
    // Also while a call is held: the usage chunk is not dropped.
    const { events } = governStream('strip', [chunk({ tool_calls: [{ index: 0, id: 'a', function: { name: 'read_file', arguments: '{}' } }] }), { id: 'c', choices: [], usage: { total_tokens: 3 } }]);
    assert.deepEqual(events[0], { id: 'c', choices: [], usage: { total_tokens: 3 } });
  });

  test('claims: chunks (JSON with a choices array) and [DONE]', () => {
    const g = shape.streamGovernor(governance('replace'));
    const [done, chunkEvent, other] = new SseParser().push('data: [DONE]\n\ndata: {"choices":[]}\n\nevent: x\ndata: {"type":"message_start"}\n\n');
    assert.equal(g.claims(done!, null), true);
    assert.equal(g.claims(chunkEvent!, { choices: [] }), true);
    assert.equal(g.claims(other!, { type: 'message_start' }), false);
    assert.equal(g.claims(other!, { choices: {} }), false);
  });

  test('[DONE]: held calls are released before it', () => {
    const { events, text } = governStream('strip', [chunk({ tool_calls: [{ index: 0, id: 'a', function: { name: 'read_file', arguments: '{}' } }] }), '[DONE]']);
    assert.equal(events.length, 2);
    assert.equal((events[0] as any).choices[0].delta.tool_calls[0].function.name, 'read_file');
    assert.ok(text.endsWith('data: [DONE]\n\n'));
  });

  test('a denied call held across many chunks never shows, and its notice comes when it completes', () => {
    const args = pieces(JSON.stringify({ path: '/etc/passwd', note: 'żółw 🐢'.repeat(20) }), Array.from({ length: 60 }, (_, i) => i * 3));
    const events: Json[] = [chunk({ tool_calls: [{ index: 0, id: 'a', type: 'function', function: { name: 'delete_file', arguments: '' } }] })];
    for (const piece of args) events.push(chunk({ tool_calls: [{ index: 0, function: { arguments: piece } }] }));
    events.push(chunk({ content: 'done' }), chunk({}, 'tool_calls'));
    const seen: [string, string][] = [];
    const out = governStream('replace', events, seen);
    assert.deepEqual(seen, [['delete_file', args.join('')]]);
    assert.equal(out.text.includes('delete_file"'), false, 'no fragment of the call reaches the client');
    assert.deepEqual(out.events[0], chunk({ content: 'done' }));
    const last = out.events[1] as any;
    assert.deepEqual(last.choices[0], { index: 0, delta: { content: denialNotice(out.ctx.verdicts[0]!) }, finish_reason: 'stop' });
  });

  test('legacy function_call fragments ({name} then {arguments} pieces) are held and judged, in every mode', () => {
    const events = [
      chunk({ role: 'assistant', content: null, function_call: { name: 'delete_file', arguments: '' } }),
      chunk({ function_call: { arguments: '{"path":' } }),
      chunk({ function_call: { arguments: '"/y"}' } }),
      chunk({}, 'function_call'),
    ];
    const seen: [string, string][] = [];
    const replaced = governStream('replace', events, seen);
    assert.deepEqual(seen, [['delete_file', '{"path":"/y"}']]);
    assert.deepEqual(replaced.events, [chunk({ role: 'assistant', content: null }), chunk({ content: denialNotice(replaced.ctx.verdicts[0]!) }, 'stop')]);

    const stripped = governStream('strip', events);
    assert.deepEqual(stripped.events, [chunk({ role: 'assistant', content: null }), chunk({}, 'stop')]);

    assert.throws(() => governStream('error', events), ToolCallDenied);

    const allowed = governStream('strip', events.map((e) => JSON.parse(JSON.stringify(e).replace('delete_file', 'read_file'))));
    assert.deepEqual(allowed.events, [
      chunk({ role: 'assistant', content: null }),
      chunk({ function_call: { name: 'read_file', arguments: '{"path":"/y"}' } }, 'function_call'),
    ]);
  });

  test('index-less calls without ids: one delta carrying several calls, continued by position, never merge', () => {
    const seen: [string, string][] = [];
    const { events } = governStream(
      'strip',
      [
        chunk({ tool_calls: [{ function: { name: 'read_file', arguments: '{"p":' } }, { function: { name: 'delete_file', arguments: '{"p":' } }] }),
        chunk({ tool_calls: [{ function: { arguments: '1}' } }, { function: { arguments: '2}' } }] }),
        chunk({}, 'tool_calls'),
      ],
      seen,
    );
    assert.deepEqual(seen, [['read_file', '{"p":1}'], ['delete_file', '{"p":2}']]);
    assert.deepEqual(accumulate(events)[0]!.tool_calls, [{ type: 'function', function: { name: 'read_file', arguments: '{"p":1}' } }]);
  });

  test('index-less calls without ids in successive chunks: each name starts a call (no "read_filedelete_file")', () => {
    const seen: [string, string][] = [];
    const { ctx } = governStream(
      'strip',
      [chunk({ tool_calls: [{ function: { name: 'read_file', arguments: '{}' } }] }), chunk({ tool_calls: [{ function: { name: 'delete_file', arguments: '{}' } }] }), chunk({}, 'tool_calls')],
      seen,
    );
    assert.deepEqual(seen, [['read_file', '{}'], ['delete_file', '{}']]);
    assert.deepEqual(decisions(ctx), [['read_file', 'allow'], ['delete_file', 'deny']]);
  });

  test('index-less calls with ids: keyed by id, also interleaved', () => {
    const seen: [string, string][] = [];
    const { events } = governStream(
      'strip',
      [
        chunk({ tool_calls: [{ id: 'a', type: 'function', function: { name: 'read_file', arguments: '' } }, { id: 'b', type: 'function', function: { name: 'delete_file', arguments: '' } }] }),
        chunk({ tool_calls: [{ id: 'b', function: { arguments: '{"x":2}' } }, { id: 'a', function: { arguments: '{"x":1}' } }] }),
        chunk({}, 'tool_calls'),
      ],
      seen,
    );
    assert.deepEqual(seen, [['read_file', '{"x":1}'], ['delete_file', '{"x":2}']]);
    assert.deepEqual(accumulate(events)[0]!.tool_calls, [{ id: 'a', type: 'function', function: { name: 'read_file', arguments: '{"x":1}' } }]);
  });

  test('a fragment with a new id at a held index starts a new call', () => {
    const seen: [string, string][] = [];
    governStream(
      'replace',
      [
        chunk({ tool_calls: [{ index: 0, id: 'a', function: { name: 'read_file', arguments: '{}' } }] }),
        chunk({ tool_calls: [{ index: 0, id: 'b', function: { name: 'delete_file', arguments: '{}' } }] }),
      ],
      seen,
    );
    assert.deepEqual(seen, [['read_file', '{}'], ['delete_file', '{}']]);
  });

  test('parallel calls: allowed ones released renumbered, whichever of them are denied', () => {
    const fragments = ['read_file', 'delete_file', 'list_dir', 'delete_all', 'read_file'].map((name, index) => ({ index, id: `c${index}`, type: 'function', function: { name, arguments: `{"n":${index}}` } }));
    const { events, ctx } = governStream('strip', [...fragments.map((f) => chunk({ tool_calls: [f] })), chunk({}, 'tool_calls'), '[DONE]']);
    assert.deepEqual(decisions(ctx).map(([, d]) => d), ['allow', 'deny', 'allow', 'deny', 'allow']);
    const [choice] = accumulate(events);
    assert.deepEqual(choice!.tool_calls.map((c) => [c.id, c.function.name, c.function.arguments]), [['c0', 'read_file', '{"n":0}'], ['c2', 'list_dir', '{"n":2}'], ['c4', 'read_file', '{"n":4}']]);
    assert.equal(choice!.finish_reason, 'tool_calls');
    assert.equal(events.at(-1), '[DONE]');
  });

  test('escaped keys in the raw bytes are governed (the relay parses the JSON)', () => {
    const ctx = governance('strip');
    const text = sse([chunk({ tool_calls: [{ index: 0, id: 'a', function: { name: 'delete_file', arguments: '{}' } }] }, 'tool_calls')], { ...PLAIN, escapedKeys: true });
    assert.match(text, /tool\\u005fcalls/);
    const events = eventsOf(relay(shape.streamGovernor(ctx), [text]));
    assert.deepEqual(decisions(ctx), [['delete_file', 'deny']]);
    assert.deepEqual(events, [chunk({}, 'stop')]);
  });

  test('custom tool call fragments are released as custom calls', () => {
    const { events } = governStream('strip', [
      chunk({ tool_calls: [{ index: 0, id: 'a', type: 'custom', custom: { name: 'run', input: 'ls ' } }] }),
      chunk({ tool_calls: [{ index: 0, custom: { input: '-la' } }] }),
      chunk({}, 'tool_calls'),
    ]);
    assert.deepEqual((events[0] as any).choices[0].delta.tool_calls, [{ index: 0, id: 'a', type: 'custom', custom: { name: 'run', input: 'ls -la' } }]);
  });

  test('a finish without a delta still gets the released calls; a complete message inside a chunk is governed', () => {
    const { events } = governStream('strip', [
      chunk({ tool_calls: [{ index: 0, id: 'a', function: { name: 'read_file', arguments: '{}' } }] }),
      { id: 'c', choices: [{ index: 0, finish_reason: 'tool_calls' }] },
    ]);
    assert.deepEqual(events, [{ id: 'c', choices: [{ index: 0, finish_reason: 'tool_calls', delta: { tool_calls: [{ index: 0, id: 'a', type: 'function', function: { name: 'read_file', arguments: '{}' } }] } }] }]);

    const withMessage = governStream('strip', [{ id: 'c', choices: [{ index: 0, message: { role: 'assistant', tool_calls: [call('x', 'delete_file', '{}')] }, finish_reason: 'tool_calls' }] }]);
    assert.deepEqual(withMessage.events, [{ id: 'c', choices: [{ index: 0, message: { role: 'assistant' }, finish_reason: 'stop' }] }]);
  });

  test('a rewritten event keeps its event name; events it does not claim pass as they came while it holds', () => {
    const text = `event: chunk\ndata: ${JSON.stringify(chunk({ tool_calls: [{ index: 0, id: 'a', function: { name: 'read_file', arguments: '{}' } }] }))}\n\n: ping\n\n`;
    const out = relay(shape.streamGovernor(governance('strip')), [text]);
    assert.ok(out.startsWith(': ping\n\nevent: chunk\ndata: '), out);
  });
});

describe('chat: streamed = non-streamed (property)', () => {
  const names = ['read_file', 'list_dir', 'delete_file', 'delete_all'];
  /** How the upstream fragments its calls. */
  const styles = ['indexed', 'ids', 'anonymous', 'complete', 'legacy'] as const;
  type Style = (typeof styles)[number];

  interface Call {
    name: string;
    args: string;
  }

  /** The chunks an upstream in `style` streams for `calls`, arguments cut at `argCuts`. */
  function streamOf(calls: Call[], content: string, style: Style, argCuts: number[], done: boolean): (Json | '[DONE]')[] {
    const events: (Json | '[DONE]')[] = [chunk({ role: 'assistant', content: '' })];
    for (const piece of content ? pieces(content, argCuts) : []) events.push(chunk({ content: piece }));
    const split = calls.map((c) => pieces(c.args, argCuts));
    if (style === 'legacy') {
      const [first] = calls;
      if (first) {
        events.push(chunk({ function_call: { name: first.name, arguments: '' } }));
        for (const piece of split[0]!) events.push(chunk({ function_call: { arguments: piece } }));
      }
    } else if (style === 'complete') {
      if (calls.length > 0) events.push(chunk({ tool_calls: calls.map((c, index) => ({ index, ...call(`id${index}`, c.name, c.args) })) }));
    } else if (style === 'anonymous') {
      // All calls in parallel, one per position, no index and no id.
      if (calls.length > 0) events.push(chunk({ tool_calls: calls.map((c) => ({ type: 'function', function: { name: c.name, arguments: '' } })) }));
      const rounds = Math.max(0, ...split.map((s) => s.length));
      for (let r = 0; r < rounds; r++) events.push(chunk({ tool_calls: split.map((s) => ({ function: { arguments: s[r] ?? '' } })) }));
    } else {
      calls.forEach((c, index) => {
        const key = style === 'indexed' ? { index } : {};
        events.push(chunk({ tool_calls: [{ ...key, id: `id${index}`, type: 'function', function: { name: c.name, arguments: '' } }] }));
        for (const piece of split[index]!) events.push(chunk({ tool_calls: [{ ...key, ...(style === 'ids' ? { id: `id${index}` } : {}), function: { arguments: piece } }] }));
      });
    }
    events.push(chunk({}, style === 'legacy' ? 'function_call' : 'tool_calls'), { id: 'c', choices: [], usage: { total_tokens: 1 } });
    if (done) events.push('[DONE]');
    return events;
  }

  function responseOf(calls: Call[], content: string, style: Style): Json {
    const message: Json = { role: 'assistant', content };
    if (style === 'legacy') {
      if (calls[0]) message.function_call = { name: calls[0].name, arguments: calls[0].args };
    } else if (calls.length > 0) message.tool_calls = calls.map((c, i) => call(`id${i}`, c.name, c.args));
    return { id: 'r', choices: [{ index: 0, message, finish_reason: style === 'legacy' ? 'function_call' : 'tool_calls' }] };
  }

  test('same verdicts, and the streamed calls equal the non-streamed ones', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ name: fc.constantFrom(...names), args: arbitraryArguments }), { maxLength: 5 }),
        fc.string({ unit: 'grapheme', maxLength: 10 }),
        fc.constantFrom(...styles),
        arbitraryMode,
        fc.record({ crlf: fc.boolean(), multiline: fc.boolean(), escapedKeys: fc.boolean() }),
        fc.boolean(),
        arbitraryCuts,
        arbitraryCuts,
        (calls, content, style, mode, sseStyle, done, argCuts, byteCuts) => {
          const body = responseOf(calls, content, style);
          const { denied, out, verdicts } = governBothWays(shape, mode, body, byteChunks(sse(streamOf(calls, content, style, argCuts, done), sseStyle), byteCuts));
          if (denied) return;
          const message = (body.choices as any)[0].message;
          const [choice] = accumulate(eventsOf(out));
          assert.equal(choice!.finish_reason, (body.choices as any)[0].finish_reason);
          assert.deepEqual(choice!.function_call, message.function_call);
          const released = choice!.tool_calls.map((c) => ({ name: c.function.name, args: c.function.arguments }));
          const kept = ((message.tool_calls ?? []) as any[]).map((c) => ({ name: c.function.name, args: c.function.arguments }));
          assert.deepEqual(released, kept);
          if (style !== 'anonymous') assert.deepEqual(choice!.tool_calls.map((c) => c.id), ((message.tool_calls ?? []) as any[]).map((c) => c.id));
          if (mode === 'strip') assert.equal(choice!.content, content);
          else for (const v of verdicts) if (v.decision === 'deny') assert.ok(choice!.content.includes(denialNotice(v)));
        },
      ),
      { numRuns: 300 },
    );
  });
});
