/**
 * The fake Mistral's agents completions and Conversations API, checked with the official SDK (which validates every
 * answer with its zod schemas): text, schema-synthesised and forced tool calls, function results, history and usage,
 * streaming, and errors in Mistral's shapes. The pure turn logic is checked first.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Mistral } from '@mistralai/mistralai';
import type * as components from '@mistralai/mistralai/models/components';
import { HTTPValidationError, MistralError } from '@mistralai/mistralai/models/errors';
import { AGENT_MODEL } from '../src/fake-mistral/agents.js';
import { promptTokens } from '../src/fake-mistral/chat.js';
import { chatMessagesOf, runTurn, type ConversationSettings } from '../src/fake-mistral/conversations.js';
import { sampleObject } from '../src/fake-mistral/schema-sample.js';
import { startFakeMistral, type FakeMistral } from '../src/fake-mistral/server.js';
import { MALFORMED_EVENT } from '../src/fake-mistral/stream.js';
import { estimateTokens } from '../src/fake-mistral/tokens.js';
import { validationDetail } from './support/mistral-errors.js';

const KEY = 'upstream-secret';
const WEATHER_PARAMETERS = {
  type: 'object',
  properties: { city: { type: 'string' }, unit: { type: 'string', enum: ['celsius', 'fahrenheit'] }, days: { type: 'integer', minimum: 1 } },
  required: ['city', 'unit', 'days'],
};
const WEATHER_TOOL = { type: 'function' as const, function: { name: 'get_weather', parameters: WEATHER_PARAMETERS } };
const CLOCK_TOOL = { type: 'function' as const, function: { name: 'get_time', parameters: { type: 'object', properties: {} } } };
const WEATHER_ARGS = sampleObject(WEATHER_PARAMETERS);
const FORCED = [
  { name: 'read_file', arguments: { path: '/etc/hosts' } },
  { name: 'delete_file', arguments: { path: '/tmp/x' } },
];
const forcedHeaders = (calls: unknown = FORCED, style = 'mistral') => ({ headers: { 'x-fake-tool-calls': JSON.stringify(calls), 'x-fake-tool-call-style': style } });

const reply = (model: string, said: string) => `This is a fake reply from ${model}. You said: "${said}"`;

describe('conversations: pure turn logic', () => {
  const settings: ConversationSettings = { model: 'mistral-small-latest', agentId: null, instructions: 'Be brief.', tools: [WEATHER_TOOL], completionArgs: null };
  let n = 0;
  const options = { newToolCallId: () => `call${++n}`, newId: () => String(++n), now: '2025-01-01T00:00:00.000Z' };

  it('reads entries as chat messages: instructions, inputs, outputs, grouped calls and their results', () => {
    const messages = chatMessagesOf(
      [
        { type: 'message.input', role: 'user', content: [{ type: 'text', text: 'Weather?' }] },
        { type: 'function.call', tool_call_id: 'a', name: 'get_weather', arguments: '{"city":"Paris"}' },
        { type: 'function.call', tool_call_id: 'b', name: 'get_time', arguments: { zone: 'CET' } },
        { type: 'function.result', tool_call_id: 'a', result: 'sunny' },
        { type: 'tool.execution', name: 'web_search', arguments: '{}' },
        { type: 'message.output', content: 'It is sunny.' },
        { type: 'message.input', role: 'assistant', content: 'Also', prefix: true },
      ],
      'Be brief.',
    );
    assert.deepEqual(messages, [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: [{ type: 'text', text: 'Weather?' }] },
      {
        role: 'assistant',
        content: '',
        tool_calls: [
          { id: 'a', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
          { id: 'b', type: 'function', function: { name: 'get_time', arguments: { zone: 'CET' } } },
        ],
      },
      { role: 'tool', tool_call_id: 'a', content: 'sunny' },
      { role: 'assistant', content: 'It is sunny.' },
      { role: 'assistant', content: 'Also', prefix: true },
    ]);
  });

  it('a turn answers like chat: the first tool with synthesised arguments, then text after its result', () => {
    const first = runTurn(settings, [], 'Weather in Paris?', null, options);
    assert.ok(first.ok);
    assert.equal(first.inputs.length, 1);
    assert.deepEqual(first.inputs[0], { type: 'message.input', role: 'user', content: 'Weather in Paris?', object: 'entry', id: first.inputs[0]!.id, created_at: options.now });
    const [call] = first.outputs;
    assert.ok(call?.type === 'function.call');
    assert.equal(call.name, 'get_weather');
    assert.deepEqual(JSON.parse(call.arguments as string), WEATHER_ARGS);
    assert.match(call.id, /^fc_/);
    assert.equal(first.usage.prompt_tokens, estimateTokens('Be brief.') + estimateTokens('Weather in Paris?'));

    const history = [...first.inputs, ...first.outputs];
    const second = runTurn(settings, history, [{ type: 'function.result', tool_call_id: call.tool_call_id, result: 'sunny, 21 C' }], null, options);
    assert.ok(second.ok);
    assert.equal(second.outputs.length, 1);
    assert.deepEqual(
      { type: second.outputs[0]!.type, content: (second.outputs[0] as { content: unknown }).content },
      { type: 'message.output', content: 'The tool get_weather returned: "sunny, 21 C"' },
    );
    const messages = chatMessagesOf([...history, ...second.inputs], settings.instructions);
    assert.equal(second.usage.prompt_tokens, promptTokens(messages));
  });

  it('completion arguments apply: tool_choice "none" answers in text, max_tokens truncates, forced calls win', () => {
    const text = runTurn(settings, [], 'Weather?', { tool_choice: 'none', max_tokens: 3 }, options);
    assert.ok(text.ok);
    assert.deepEqual((text.outputs[0] as { content: unknown }).content, reply('mistral-small-latest', 'Weather?').slice(0, 12));
    const forced = runTurn(settings, [], 'Weather?', { tool_choice: 'none' }, { ...options, forcedToolCalls: FORCED });
    assert.ok(forced.ok);
    assert.deepEqual(forced.outputs.map((o) => (o.type === 'function.call' ? [o.name, JSON.parse(o.arguments as string)] : null)), FORCED.map((c) => [c.name, c.arguments]));
  });

  it('a turn ending on the assistant (without prefix) is refused, as chat refuses it', () => {
    assert.deepEqual(runTurn(settings, [], [{ type: 'message.output', content: 'hi' }], null, options), { ok: false, lastRole: 'assistant' });
  });
});

describe('fake-mistral agents and conversations server', () => {
  let fake: FakeMistral;
  let client: Mistral;

  before(async () => {
    fake = await startFakeMistral({ apiKey: KEY, record: true });
    client = new Mistral({ apiKey: KEY, serverURL: fake.url });
  });
  after(() => fake.close());

  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${fake.url}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });

  describe('agents completions', () => {
    it('answers a chat completion as the agent\'s model, with usage from the token estimate', async () => {
      const res = await client.agents.complete({ agentId: 'ag_support', messages: [{ role: 'user', content: 'Where is my order?' }] });
      assert.equal(res.object, 'chat.completion');
      assert.equal(res.model, AGENT_MODEL);
      const content = reply(AGENT_MODEL, 'Where is my order?');
      assert.equal(res.choices[0]!.message!.content, content);
      assert.equal(res.choices[0]!.finishReason, 'stop');
      assert.deepEqual(res.usage, {
        promptTokens: estimateTokens('Where is my order?'),
        completionTokens: estimateTokens(content),
        totalTokens: estimateTokens('Where is my order?') + estimateTokens(content),
      });
      assert.equal(fake.requests.at(-1)!.path, '/v1/agents/completions');
    });

    it('calls the chosen tool with arguments synthesised from its schema', async () => {
      const res = await client.agents.complete({
        agentId: 'ag_support',
        messages: [{ role: 'user', content: 'Weather?' }],
        tools: [CLOCK_TOOL, WEATHER_TOOL],
        toolChoice: { type: 'function', function: { name: 'get_weather' } },
      });
      const choice = res.choices[0]!;
      assert.equal(choice.finishReason, 'tool_calls');
      assert.deepEqual(
        choice.message!.toolCalls!.map((c) => [c.function.name, JSON.parse(c.function.arguments as string)]),
        [['get_weather', WEATHER_ARGS]],
      );
      assert.match(choice.message!.toolCalls![0]!.id!, /^[A-Za-z0-9]{9}$/);
    });

    it('returns exactly the forced calls, and after a tool result answers naming it', async () => {
      const res = await client.agents.complete({ agentId: 'ag_ops', messages: [{ role: 'user', content: 'Tidy up' }] }, forcedHeaders());
      const calls = res.choices[0]!.message!.toolCalls!;
      assert.deepEqual(calls.map((c) => [c.function.name, JSON.parse(c.function.arguments as string)]), FORCED.map((c) => [c.name, c.arguments]));
      const followUp = await client.agents.complete({
        agentId: 'ag_ops',
        messages: [
          { role: 'user', content: 'Tidy up' },
          { role: 'assistant', content: '', toolCalls: calls },
          { role: 'tool', toolCallId: calls[0]!.id!, content: '127.0.0.1 localhost' },
        ],
      });
      assert.equal(followUp.choices[0]!.message!.content, 'The tool read_file returned: "127.0.0.1 localhost"');
    });

    it('streams text word by word and tool calls whole, usage on the last chunk', async () => {
      let text = '';
      let usage: components.UsageInfo | undefined;
      for await (const event of await client.agents.stream({ agentId: 'ag_support', messages: [{ role: 'user', content: 'Tell me more' }] })) {
        text += (event.data.choices[0]?.delta.content as string | undefined) ?? '';
        usage = event.data.usage ?? usage;
      }
      assert.equal(text, reply(AGENT_MODEL, 'Tell me more'));
      assert.equal(usage?.completionTokens, estimateTokens(text));

      const deltas = [];
      for await (const event of await client.agents.stream({ agentId: 'ag_ops', messages: [{ role: 'user', content: 'go' }] }, forcedHeaders())) {
        const calls = event.data.choices[0]?.delta.toolCalls;
        if (calls) deltas.push(calls.map((c) => [c.function.name, JSON.parse(c.function.arguments as string)]));
      }
      assert.deepEqual(deltas, [FORCED.map((c) => [c.name, c.arguments])]);
    });

    it('rejects model and sampling fields (the agent fixes them), a missing agent_id, and an empty one', async () => {
      const withModel = await post('/v1/agents/completions', { agent_id: 'ag_1', model: 'mistral-small-latest', temperature: 0.2, messages: [{ role: 'user', content: 'x' }] });
      assert.equal(withModel.status, 422);
      assert.deepEqual(
        validationDetail(await withModel.text()).map((d) => [d.type, d.loc.join('.')]),
        [['extra_forbidden', 'body.model'], ['extra_forbidden', 'body.temperature']],
      );
      const missing = await post('/v1/agents/completions', { messages: [{ role: 'user', content: 'x' }] });
      assert.equal(missing.status, 422);
      assert.deepEqual(validationDetail(await missing.text()).map((d) => [d.type, d.loc.join('.')]), [['missing', 'body.agent_id']]);
      await assert.rejects(
        client.agents.complete({ agentId: ' ', messages: [{ role: 'user', content: 'x' }] }),
        (e) => e instanceof MistralError && e.statusCode === 404 && /Agent not found/.test(e.body),
      );
    });
  });

  describe('conversations', () => {
    it('starts a conversation with a model: a message.output entry quoting the input, usage', async () => {
      const res = await client.beta.conversations.start({ model: 'mistral-small-latest', inputs: 'Hello there', instructions: 'Be brief.' });
      assert.equal(res.object, 'conversation.response');
      assert.match(res.conversationId, /^conv_[0-9a-f]{32}$/);
      assert.equal(res.outputs.length, 1);
      const output = res.outputs[0] as components.MessageOutputEntry;
      const content = reply('mistral-small-latest', 'Hello there');
      assert.equal(output.type, 'message.output');
      assert.equal(output.object, 'entry');
      assert.equal(output.role, 'assistant');
      assert.equal(output.content, content);
      assert.equal(output.model, 'mistral-small-latest');
      assert.equal(output.agentId, null);
      assert.match(output.id!, /^msg_/);
      assert.ok(output.createdAt instanceof Date);
      const prompt = estimateTokens('Be brief.') + estimateTokens('Hello there');
      assert.deepEqual(res.usage, { promptTokens: prompt, completionTokens: estimateTokens(content), totalTokens: prompt + estimateTokens(content) });
    });

    it('starts a conversation with an agent, from entries with content parts', async () => {
      const res = await client.beta.conversations.start({
        agentId: 'ag_support',
        inputs: [{ role: 'user', content: [{ type: 'text', text: 'My order ' }, { type: 'text', text: 'is late' }] }],
      });
      const output = res.outputs[0] as components.MessageOutputEntry;
      assert.equal(output.content, reply(AGENT_MODEL, 'My order is late'));
      assert.equal(output.agentId, 'ag_support');
      assert.equal(output.model, AGENT_MODEL);
    });

    it('calls the first tool with schema-synthesised arguments; tool_choice "none" answers in text', async () => {
      const res = await client.beta.conversations.start({ model: 'mistral-large-latest', inputs: 'Weather?', tools: [WEATHER_TOOL, CLOCK_TOOL] });
      assert.equal(res.outputs.length, 1);
      const call = res.outputs[0] as components.FunctionCallEntry;
      assert.equal(call.type, 'function.call');
      assert.equal(call.name, 'get_weather');
      assert.deepEqual(JSON.parse(call.arguments as string), WEATHER_ARGS);
      assert.match(call.toolCallId, /^[A-Za-z0-9]{9}$/);
      assert.match(call.id!, /^fc_/);
      assert.equal(res.usage.completionTokens, estimateTokens(call.name + (call.arguments as string)));

      const none = await client.beta.conversations.start({ model: 'mistral-large-latest', inputs: 'Weather?', tools: [WEATHER_TOOL], completionArgs: { toolChoice: 'none' } });
      assert.equal((none.outputs[0] as components.MessageOutputEntry).type, 'message.output');
    });

    it('returns forced parallel calls as function.call entries, in order, each with its own tool_call_id', async () => {
      const res = await client.beta.conversations.start({ model: 'mistral-small-latest', inputs: 'Tidy up' }, forcedHeaders());
      const calls = res.outputs as components.FunctionCallEntry[];
      assert.deepEqual(calls.map((c) => [c.type, c.name, JSON.parse(c.arguments as string)]), FORCED.map((c) => ['function.call', c.name, c.arguments]));
      assert.notEqual(calls[0]!.toolCallId, calls[1]!.toolCallId);
      assert.notEqual(calls[0]!.id, calls[1]!.id);
    });

    it('appends a function.result: the answer names the tool and its result; the history counts in the prompt', async () => {
      const start = await client.beta.conversations.start({ model: 'mistral-small-latest', inputs: 'Weather in Paris?', tools: [WEATHER_TOOL] });
      const call = start.outputs[0] as components.FunctionCallEntry;
      const res = await client.beta.conversations.append({
        conversationId: start.conversationId,
        conversationAppendRequest: { inputs: [{ toolCallId: call.toolCallId, result: 'sunny, 21 C' }] },
      });
      assert.equal(res.conversationId, start.conversationId);
      const output = res.outputs[0] as components.MessageOutputEntry;
      assert.equal(output.content, 'The tool get_weather returned: "sunny, 21 C"');
      const history = estimateTokens('Weather in Paris?') + estimateTokens(call.name + (call.arguments as string)) + estimateTokens('sunny, 21 C');
      assert.equal(res.usage.promptTokens, history);

      // The conversation's tools stay; this turn's completion_args turn them off.
      const next = await client.beta.conversations.append({ conversationId: start.conversationId, conversationAppendRequest: { inputs: 'Thanks', completionArgs: { toolChoice: 'none' } } });
      assert.equal((next.outputs[0] as components.MessageOutputEntry).content, reply('mistral-small-latest', 'Thanks'));
      assert.equal(next.usage.promptTokens, history + estimateTokens(output.content as string) + estimateTokens('Thanks'));
    });

    it('restarts from an entry: a new conversation with the history up to it; the original is unchanged', async () => {
      const start = await client.beta.conversations.start({ model: 'mistral-small-latest', inputs: 'First question' });
      const firstAnswer = start.outputs[0] as components.MessageOutputEntry;
      await client.beta.conversations.append({ conversationId: start.conversationId, conversationAppendRequest: { inputs: 'Second question' } });
      const restarted = await client.beta.conversations.restart({
        conversationId: start.conversationId,
        conversationRestartRequest: { fromEntryId: firstAnswer.id!, inputs: 'Another second question' },
      });
      assert.notEqual(restarted.conversationId, start.conversationId);
      assert.equal((restarted.outputs[0] as components.MessageOutputEntry).content, reply('mistral-small-latest', 'Another second question'));
      const upToFirstAnswer = estimateTokens('First question') + estimateTokens(firstAnswer.content as string);
      assert.equal(restarted.usage.promptTokens, upToFirstAnswer + estimateTokens('Another second question'));
      // Both conversations go on, each with its own history.
      const turn = (said: string) => estimateTokens(said) + estimateTokens(reply('mistral-small-latest', said));
      const restartedNext = await client.beta.conversations.append({ conversationId: restarted.conversationId, conversationAppendRequest: { inputs: 'x' } });
      assert.equal(restartedNext.usage.promptTokens, turn('First question') + turn('Another second question') + estimateTokens('x'));
      const originalNext = await client.beta.conversations.append({ conversationId: start.conversationId, conversationAppendRequest: { inputs: 'x' } });
      assert.equal(originalNext.usage.promptTokens, turn('First question') + turn('Second question') + estimateTokens('x'));
    });

    it('streams: started, message.output.delta word by word, done with the usage of the non-streamed answer', async () => {
      const plain = await client.beta.conversations.start({ model: 'mistral-small-latest', inputs: 'Tell me a story about dragons' });
      const events: components.ConversationEvents[] = [];
      for await (const event of await client.beta.conversations.startStream({ model: 'mistral-small-latest', inputs: 'Tell me a story about dragons' })) events.push(event);
      assert.deepEqual(
        [...new Set(events.map((e) => e.event))],
        ['conversation.response.started', 'message.output.delta', 'conversation.response.done'],
      );
      for (const e of events) assert.equal(e.event, e.data.type);
      const started = events[0]!.data as components.ResponseStartedEvent;
      assert.match(started.conversationId, /^conv_/);
      const deltas = events.filter((e) => e.data.type === 'message.output.delta').map((e) => e.data as components.MessageOutputEvent);
      assert.ok(deltas.length > 3);
      assert.equal(deltas.map((d) => d.content).join(''), (plain.outputs[0] as components.MessageOutputEntry).content);
      assert.ok(deltas.every((d) => d.outputIndex === 0 && d.id === deltas[0]!.id && d.model === 'mistral-small-latest'));
      assert.deepEqual((events.at(-1)!.data as components.ResponseDoneEvent).usage, plain.usage);
    });

    it('streams forced parallel calls one function.call.delta each, or fragmented; appendStream and restartStream too', async () => {
      const start = await client.beta.conversations.startStream({ agentId: 'ag_ops', inputs: 'Tidy up' }, forcedHeaders());
      const calls = await functionCalls(start);
      assert.deepEqual(calls.calls.map((c) => [c.name, JSON.parse(c.arguments), c.outputIndex]), FORCED.map((c, i) => [c.name, c.arguments, i]));
      assert.equal(calls.deltas, 2);

      const append = await client.beta.conversations.appendStream(
        { conversationId: calls.conversationId, conversationAppendStreamRequest: { inputs: [{ toolCallId: calls.calls[0]!.toolCallId, result: 'done' }] } },
      );
      let text = '';
      for await (const event of append) if (event.data.type === 'message.output.delta') text += event.data.content as string;
      assert.equal(text, 'The tool read_file returned: "done"');

      const stored = await client.beta.conversations.start({ model: 'mistral-small-latest', inputs: 'hi' });
      const restart = await client.beta.conversations.restartStream(
        {
          conversationId: stored.conversationId,
          conversationRestartStreamRequest: { fromEntryId: stored.outputs[0]!.id!, inputs: 'Tidy up' },
        },
        forcedHeaders(FORCED, 'fragmented'),
      );
      const fragmented = await functionCalls(restart);
      assert.notEqual(fragmented.conversationId, stored.conversationId);
      assert.deepEqual(fragmented.calls.map((c) => [c.name, JSON.parse(c.arguments)]), FORCED.map((c) => [c.name, c.arguments]));
      assert.ok(fragmented.deltas > 2, 'arguments in several deltas');
    });

    it('streams named events without a [DONE] marker', async () => {
      const res = await post('/v1/conversations', { model: 'mistral-small-latest', inputs: 'hi', stream: true });
      assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
      const blocks = (await res.text()).split('\n\n').filter(Boolean);
      for (const block of blocks) {
        const [eventLine, dataLine] = block.split('\n');
        assert.equal(eventLine, `event: ${JSON.parse(dataLine!.slice('data: '.length)).type}`);
      }
      assert.doesNotMatch(blocks.join(), /\[DONE\]/);
    });

    it('applies the stream faults to conversation streams: malformed-sse inserts a non-JSON event, reset-mid-stream cuts it', async () => {
      const body = { model: 'mistral-small-latest', inputs: 'one two three four five six', stream: true };
      const malformed = (await (await post('/v1/conversations', body, { 'x-fake-fault': 'malformed-sse' })).text()).split('\n\n');
      assert.match(malformed[0]!, /^event: conversation\.response\.started\n/);
      assert.equal(`${malformed[1]}\n\n`, MALFORMED_EVENT);
      assert.match(malformed.at(-2)!, /^event: conversation\.response\.done\n/);
      const cut = await post('/v1/conversations', body, { 'x-fake-fault': 'reset-mid-stream' });
      await assert.rejects(cut.text());
    });

    it('keeps nothing with store: false (append is then a 404)', async () => {
      const res = await client.beta.conversations.start({ model: 'mistral-small-latest', inputs: 'forget me', store: false });
      await assert.rejects(
        client.beta.conversations.append({ conversationId: res.conversationId, conversationAppendRequest: { inputs: 'x' } }),
        (e) => e instanceof MistralError && e.statusCode === 404,
      );
    });
  });

  describe('conversation errors, in Mistral\'s shapes', () => {
    const errorOf = async (res: Response) => ({ status: res.status, body: (await res.json()) as Record<string, unknown> });

    it('a bad key is a 401', async () => {
      const bad = new Mistral({ apiKey: 'wrong', serverURL: fake.url });
      await assert.rejects(bad.beta.conversations.start({ model: 'mistral-small-latest', inputs: 'x' }), (e) => e instanceof MistralError && e.statusCode === 401 && e.body === '{"detail":"Unauthorized"}');
      await assert.rejects(bad.agents.complete({ agentId: 'ag', messages: [{ role: 'user', content: 'x' }] }), (e) => e instanceof MistralError && e.statusCode === 401);
    });

    it('missing inputs and unknown fields are 422 details', async () => {
      const missing = await errorOf(await post('/v1/conversations', { model: 'mistral-small-latest' }));
      assert.equal(missing.status, 422);
      assert.deepEqual(validationDetail(JSON.stringify(missing.body)).map((d) => [d.type, d.loc.join('.')]), [['missing', 'body.inputs']]);
      const extra = await errorOf(await post('/v1/conversations', { model: 'mistral-small-latest', inputs: 'x', max_tokens: 5 }));
      assert.deepEqual(validationDetail(JSON.stringify(extra.body)).map((d) => [d.type, d.loc.join('.')]), [['extra_forbidden', 'body.max_tokens']]);
      const badArgs = await errorOf(await post('/v1/conversations', { model: 'mistral-small-latest', inputs: 'x', completion_args: { max_tokens: -1 } }));
      assert.equal(badArgs.status, 422);
    });

    it('without model or agent_id, or with both, is a 400; an unknown model is invalid_model', async () => {
      await assert.rejects(client.beta.conversations.start({ inputs: 'x' }), (e) => e instanceof MistralError && e.statusCode === 400 && /Either model or agent_id/.test(e.body));
      const both = await errorOf(await post('/v1/conversations', { model: 'mistral-small-latest', agent_id: 'ag', inputs: 'x' }));
      assert.equal(both.status, 400);
      assert.equal(both.body.object, 'error');
      await assert.rejects(client.beta.conversations.start({ model: 'no-such-model', inputs: 'x' }), (e) => e instanceof MistralError && e.statusCode === 400 && JSON.parse(e.body).type === 'invalid_model');
    });

    it('append or restart on an unknown conversation is a 404; an unknown entry or no inputs a 400', async () => {
      await assert.rejects(
        client.beta.conversations.append({ conversationId: 'conv_unknown', conversationAppendRequest: { inputs: 'x' } }),
        (e) => e instanceof MistralError && e.statusCode === 404 && JSON.parse(e.body).message === 'Conversation not found: conv_unknown',
      );
      await assert.rejects(
        client.beta.conversations.restartStream({ conversationId: 'conv_unknown', conversationRestartStreamRequest: { fromEntryId: 'msg_1', inputs: 'x' } }),
        (e) => e instanceof MistralError && e.statusCode === 404,
      );
      const start = await client.beta.conversations.start({ model: 'mistral-small-latest', inputs: 'x' });
      await assert.rejects(
        client.beta.conversations.restart({ conversationId: start.conversationId, conversationRestartRequest: { fromEntryId: 'msg_nope', inputs: 'x' } }),
        (e) => e instanceof MistralError && e.statusCode === 400 && JSON.parse(e.body).param === 'from_entry_id',
      );
      await assert.rejects(
        client.beta.conversations.append({ conversationId: start.conversationId, conversationAppendRequest: {} }),
        (e) => e instanceof MistralError && e.statusCode === 400 && JSON.parse(e.body).param === 'inputs',
      );
    });

    it('inputs ending on an assistant message are a message-order 400; a bad x-fake-tool-calls a 400 naming the fault', async () => {
      const order = await errorOf(await post('/v1/conversations', { model: 'mistral-small-latest', inputs: [{ role: 'assistant', content: 'hi' }] }));
      assert.deepEqual([order.status, order.body.type, order.body.code], [400, 'invalid_request_message_order', '3230']);
      const forced = await errorOf(await post('/v1/conversations', { model: 'mistral-small-latest', inputs: 'x' }, { 'x-fake-tool-calls': '[{"name":1}]' }));
      assert.equal(forced.status, 400);
      assert.match(String(forced.body.message), /^fake-mistral: x-fake-tool-calls\[0\]/);
    });

    it('a wrong method is a 405; an unknown conversation sub-route a 404', async () => {
      const get = await fetch(`${fake.url}/v1/conversations/conv_1/restart`, { headers: { authorization: `Bearer ${KEY}` } });
      assert.equal(get.status, 405);
      const unknown = await post('/v1/conversations/conv_1/fork', { inputs: 'x' });
      assert.equal(unknown.status, 404);
    });

    it('the SDK reads 422s as HTTPValidationError', async () => {
      await assert.rejects(
        client.beta.conversations.start({ model: 'mistral-small-latest', inputs: [] }),
        (e) => e instanceof HTTPValidationError && validationDetail(e.body)[0]?.loc.join('.').startsWith('body.inputs') === true,
      );
    });
  });
});

/** The function calls a conversation stream adds up to (deltas merged by output_index), and how many deltas it took. */
async function functionCalls(stream: AsyncIterable<components.ConversationEvents>) {
  const calls: { name: string; toolCallId: string; arguments: string; outputIndex: number }[] = [];
  let conversationId = '';
  let deltas = 0;
  for await (const event of stream) {
    const data = event.data;
    if (data.type === 'conversation.response.started') conversationId = data.conversationId;
    if (data.type !== 'function.call.delta') continue;
    deltas++;
    const call = (calls[data.outputIndex!] ??= { name: data.name, toolCallId: data.toolCallId, arguments: '', outputIndex: data.outputIndex! });
    call.arguments += data.arguments;
  }
  return { calls, conversationId, deltas };
}
