/**
 * The fake OpenAI Responses and Anthropic Messages APIs driven by the official SDKs, unchanged: every answer, streamed
 * or not, must be accepted (and accumulated) by them, tool calls included.
 */
import Anthropic from '@anthropic-ai/sdk';
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import { estimateTokens } from '../src/fake-mistral/tokens.js';
import { startFakeVendor, type FakeVendorServer } from '../src/fake-vendors/server.js';
import { TOOL_CALLS_HEADER } from '../src/fake-vendors/tool-calls.js';

const KEY = 'vendor-sdk-secret-0123456789';

const WEATHER_SCHEMA = {
  type: 'object',
  properties: { city: { type: 'string' }, unit: { type: 'string', enum: ['celsius', 'fahrenheit'] }, days: { type: 'integer', minimum: 1 } },
  required: ['city', 'unit'],
  additionalProperties: false,
};
/** What the fake synthesises from WEATHER_SCHEMA: required properties only. */
const WEATHER_ARGS = { city: 'city_value', unit: 'celsius' };
const TIME_SCHEMA = { type: 'object', properties: { zone: { type: 'string' } }, required: ['zone'] };

const FORCED = [
  { name: 'get_weather', arguments: { city: 'Paris', unit: 'celsius' } },
  { name: 'get_time', arguments: { zone: 'Europe/Paris' } },
];
const forcedHeaders = { headers: { [TOOL_CALLS_HEADER]: JSON.stringify(FORCED) } };

let openaiFake: FakeVendorServer;
let anthropicFake: FakeVendorServer;
let openai: OpenAI;
let anthropic: Anthropic;

before(async () => {
  [openaiFake, anthropicFake] = await Promise.all([
    startFakeVendor('openai', { apiKey: KEY, record: true }),
    startFakeVendor('anthropic', { apiKey: KEY, record: true }),
  ]);
  openai = new OpenAI({ baseURL: `${openaiFake.url}/v1`, apiKey: KEY, maxRetries: 0 });
  anthropic = new Anthropic({ baseURL: anthropicFake.url, apiKey: KEY, maxRetries: 0 });
});
after(() => Promise.all([openaiFake.close(), anthropicFake.close()]));

describe('OpenAI Responses fake with the openai SDK', () => {
  const tools: OpenAI.Responses.FunctionTool[] = [
    { type: 'function', name: 'get_weather', description: 'Weather of a city', parameters: WEATHER_SCHEMA, strict: true },
    { type: 'function', name: 'get_time', parameters: TIME_SCHEMA, strict: false },
  ];
  const question = 'What is the weather in Paris?';

  test('text answer, as the templated endpoints get it', async () => {
    const response = await openai.responses.create({ model: 'gpt-4.1-mini', instructions: 'Be brief. ', input: 'Hello there' });
    assert.equal(response.object, 'response');
    assert.equal(response.status, 'completed');
    assert.equal(response.output_text, 'Answer 1 to: Be brief. Hello there');
    const prompt = estimateTokens('Be brief. Hello there');
    assert.deepEqual(response.usage, {
      input_tokens: prompt,
      input_tokens_details: { cached_tokens: 0 },
      output_tokens: estimateTokens(response.output_text),
      output_tokens_details: { reasoning_tokens: 0 },
      total_tokens: prompt + estimateTokens(response.output_text),
    });
  });

  test('function tools: a function_call with arguments synthesised from the schema', async () => {
    const response = await openai.responses.create({
      model: 'gpt-4.1',
      input: [{ role: 'user', content: [{ type: 'input_text', text: question }] }],
      tools,
      tool_choice: 'auto',
      parallel_tool_calls: true,
    });
    assert.equal(response.output.length, 1);
    const call = response.output[0]!;
    assert.equal(call.type, 'function_call');
    assert.equal(call.name, 'get_weather');
    assert.equal(call.status, 'completed');
    assert.match(call.id ?? '', /^fc_/);
    assert.match(call.call_id, /^call_[A-Za-z0-9]{24}$/);
    assert.deepEqual(JSON.parse(call.arguments), WEATHER_ARGS);
    assert.equal(response.output_text, '');
    assert.equal(response.usage?.output_tokens, estimateTokens(call.name + call.arguments));
    assert.deepEqual(response.tools[0], { ...tools[0], description: 'Weather of a city' });
  });

  test('tool_choice names the function, or "none" answers text', async () => {
    const named = await openai.responses.create({ model: 'gpt-4.1', input: question, tools, tool_choice: { type: 'function', name: 'get_time' } });
    assert.equal(named.output[0]?.type === 'function_call' && named.output[0].name, 'get_time');
    const none = await openai.responses.create({ model: 'gpt-4.1', input: question, tools, tool_choice: 'none' });
    assert.equal(none.output[0]?.type, 'message');
    assert.equal(none.output_text, `Answer 1 to: ${question}`);
  });

  test('x-fake-tool-calls forces parallel calls; after their outputs the answer names the results', async () => {
    const input: OpenAI.Responses.ResponseInputItem[] = [{ role: 'user', content: question }];
    const first = await openai.responses.create({ model: 'gpt-4.1', input, tools }, forcedHeaders);
    assert.equal(openaiFake.requests.at(-1)!.headers[TOOL_CALLS_HEADER], JSON.stringify(FORCED));
    const calls = first.output.filter((item) => item.type === 'function_call');
    assert.deepEqual(
      calls.map((c) => ({ name: c.name, arguments: JSON.parse(c.arguments) })),
      FORCED,
    );
    assert.notEqual(calls[0]!.call_id, calls[1]!.call_id);

    const second = await openai.responses.create({
      model: 'gpt-4.1',
      tools,
      input: [
        ...input,
        ...calls,
        { type: 'function_call_output', call_id: calls[0]!.call_id, output: '{"temperature": 22}' },
        { type: 'function_call_output', call_id: calls[1]!.call_id, output: '14:05' },
      ],
    });
    assert.equal(second.output[0]?.type, 'message');
    assert.equal(second.output_text, 'The tool get_weather returned: "{"temperature": 22}" The tool get_time returned: "14:05"');
  });

  test('stream: true yields the published events in order, with sequence numbers', async () => {
    const stream = await openai.responses.create({ model: 'gpt-4.1', input: question, tools, stream: true });
    const events: OpenAI.Responses.ResponseStreamEvent[] = [];
    for await (const event of stream) events.push(event);
    assert.deepEqual(
      events.map((e) => e.sequence_number),
      events.map((_, i) => i),
    );
    const types = [...new Set(events.map((e) => e.type))];
    assert.deepEqual(types, [
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.function_call_arguments.delta',
      'response.function_call_arguments.done',
      'response.output_item.done',
      'response.completed',
    ]);
    const deltas = events.filter((e) => e.type === 'response.function_call_arguments.delta');
    assert.ok(deltas.length > 1, 'arguments in several deltas');
    const done = events.find((e) => e.type === 'response.function_call_arguments.done')!;
    assert.equal(deltas.map((d) => d.delta).join(''), done.arguments);
    assert.deepEqual(JSON.parse(done.arguments), WEATHER_ARGS);
    const completed = events.at(-1)!;
    assert.equal(completed.type, 'response.completed');
    assert.equal(completed.response.output[0]?.type, 'function_call');
    assert.ok((completed.response.usage?.total_tokens ?? 0) > 0);
  });

  test('stream: true text events', async () => {
    const stream = await openai.responses.create({ model: 'gpt-4.1', input: 'Tell me a story about gateways', stream: true });
    const types: string[] = [];
    let text = '';
    for await (const event of stream) {
      types.push(event.type);
      if (event.type === 'response.output_text.delta') text += event.delta;
    }
    assert.deepEqual(
      types.filter((t, i) => t !== types[i - 1]),
      [
        'response.created',
        'response.in_progress',
        'response.output_item.added',
        'response.content_part.added',
        'response.output_text.delta',
        'response.output_text.done',
        'response.content_part.done',
        'response.output_item.done',
        'response.completed',
      ],
    );
    assert.ok(types.filter((t) => t === 'response.output_text.delta').length > 1, 'several text deltas');
    assert.equal(text, 'Answer 1 to: Tell me a story about gateways');
  });

  test('responses.stream(...).finalResponse() accumulates text and forced parallel calls', async () => {
    const textStream = openai.responses.stream({ model: 'gpt-4.1-mini', input: 'Stream me something' });
    let snapshot = '';
    textStream.on('response.output_text.delta', (event) => (snapshot = event.snapshot));
    const text = await textStream.finalResponse();
    assert.equal(text.output_text, 'Answer 1 to: Stream me something');
    assert.equal(snapshot, text.output_text);

    const callStream = openai.responses.stream({ model: 'gpt-4.1', input: question, tools }, forcedHeaders);
    const final = await callStream.finalResponse();
    const calls = final.output.filter((item) => item.type === 'function_call');
    assert.deepEqual(
      calls.map((c) => [c.name, JSON.parse(c.arguments)]),
      FORCED.map((c) => [c.name, c.arguments]),
    );
    // the SDK parses the arguments of strict tools only
    assert.deepEqual(calls[0]!.parsed_arguments, FORCED[0]!.arguments);
    assert.equal(calls[1]!.parsed_arguments, null);
    assert.equal(final.status, 'completed');
  });

  test('models.list and models.retrieve', async () => {
    const ids: string[] = [];
    for await (const model of openai.models.list()) ids.push(model.id);
    assert.ok(ids.includes('gpt-4.1-mini'));
    const model = await openai.models.retrieve('gpt-4.1-mini');
    assert.equal(model.object, 'model');
    await assert.rejects(openai.models.retrieve('gpt-0'), OpenAI.NotFoundError);
  });

  test('errors: bad key, unknown field, bad forcing header', async () => {
    const badKey = new OpenAI({ baseURL: `${openaiFake.url}/v1`, apiKey: 'wrong', maxRetries: 0 });
    await assert.rejects(badKey.responses.create({ model: 'gpt-4.1', input: 'hi' }), (err) => {
      assert.ok(err instanceof OpenAI.AuthenticationError);
      assert.equal(err.code, 'invalid_api_key');
      return true;
    });
    const unknownField = { model: 'gpt-4.1', input: 'hi', frobnicate: true } as OpenAI.Responses.ResponseCreateParamsNonStreaming;
    await assert.rejects(openai.responses.create(unknownField), (err) => {
      assert.ok(err instanceof OpenAI.BadRequestError);
      assert.equal(err.code, 'unknown_parameter');
      assert.equal(err.param, 'frobnicate');
      return true;
    });
    await assert.rejects(openai.responses.create({ model: 'gpt-4.1', input: 'hi' }, { headers: { [TOOL_CALLS_HEADER]: '[{}]' } }), (err) => {
      assert.ok(err instanceof OpenAI.BadRequestError);
      assert.match(err.message, /x-fake-tool-calls\[0\]/);
      return true;
    });
    await assert.rejects(openai.responses.create({ model: 'gpt-4.1', input: 'hi', tools, tool_choice: { type: 'function', name: 'nope' } }), OpenAI.BadRequestError);
  });
});

describe('Anthropic Messages fake with the @anthropic-ai/sdk SDK', () => {
  const tools: Anthropic.Tool[] = [
    { name: 'get_weather', description: 'Weather of a city', input_schema: WEATHER_SCHEMA as Anthropic.Tool.InputSchema },
    { name: 'get_time', input_schema: TIME_SCHEMA as Anthropic.Tool.InputSchema },
  ];
  const question: Anthropic.MessageParam = { role: 'user', content: 'What is the weather in Paris?' };

  test('text answer with usage', async () => {
    const message = await anthropic.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 256, system: 'Be brief. ', messages: [question] });
    assert.equal(message.type, 'message');
    assert.equal(message.stop_reason, 'end_turn');
    assert.deepEqual(message.content, [{ type: 'text', text: 'Answer 1 to: Be brief. What is the weather in Paris?', citations: null }]);
    assert.equal(message.usage.input_tokens, estimateTokens('Be brief. What is the weather in Paris?'));
  });

  test('tools: a tool_use block, then text naming the tool_result', async () => {
    const message = await anthropic.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 256, messages: [question], tools, tool_choice: { type: 'auto' } });
    assert.equal(message.stop_reason, 'tool_use');
    const use = message.content[0]!;
    assert.equal(use.type, 'tool_use');
    assert.match(use.id, /^toolu_01/);
    assert.equal(use.name, 'get_weather');
    assert.deepEqual(use.input, WEATHER_ARGS);
    assert.equal(message.usage.output_tokens, estimateTokens(use.name + JSON.stringify(use.input)));

    const answer = await anthropic.messages.create({
      model: 'claude-sonnet-4-5',
      max_tokens: 256,
      tools,
      messages: [question, { role: 'assistant', content: message.content }, { role: 'user', content: [{ type: 'tool_result', tool_use_id: use.id, content: '22 degrees' }] }],
    });
    assert.equal(answer.stop_reason, 'end_turn');
    assert.deepEqual(answer.content.map((b) => b.type === 'text' && b.text), ['The tool get_weather returned: "22 degrees"']);
  });

  test('tool_choice names the tool, or none answers text', async () => {
    const named = await anthropic.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 64, messages: [question], tools, tool_choice: { type: 'tool', name: 'get_time' } });
    assert.equal(named.content[0]?.type === 'tool_use' && named.content[0].name, 'get_time');
    const none = await anthropic.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 64, messages: [question], tools, tool_choice: { type: 'none' } });
    assert.equal(none.content[0]?.type, 'text');
  });

  test('x-fake-tool-calls forces several tool_use blocks', async () => {
    const message = await anthropic.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 256, messages: [question], tools }, forcedHeaders);
    assert.deepEqual(
      message.content.map((b) => b.type === 'tool_use' && { name: b.name, arguments: b.input }),
      FORCED,
    );
    assert.equal(message.stop_reason, 'tool_use');
  });

  test('messages.stream(...).finalMessage() reconstructs tool_use inputs from input_json_delta pieces', async () => {
    const stream = anthropic.messages.stream({ model: 'claude-sonnet-4-5', max_tokens: 256, messages: [question], tools }, forcedHeaders);
    const jsonPieces: string[] = [];
    stream.on('inputJson', (partial) => jsonPieces.push(partial));
    const message = await stream.finalMessage();
    assert.deepEqual(
      message.content.map((b) => b.type === 'tool_use' && { name: b.name, arguments: b.input }),
      FORCED,
    );
    assert.ok(jsonPieces.length > FORCED.length, 'inputs in several pieces');
    assert.equal(message.stop_reason, 'tool_use');
    assert.ok(message.usage.output_tokens > 1);
  });

  test('messages.stream(...) text, and the raw events of stream: true', async () => {
    const textStream = anthropic.messages.stream({ model: 'claude-sonnet-4-5', max_tokens: 256, messages: [{ role: 'user', content: 'Tell me a story' }] });
    const pieces: string[] = [];
    textStream.on('text', (text) => pieces.push(text));
    const message = await textStream.finalMessage();
    assert.ok(pieces.length > 1, 'several text deltas');
    assert.deepEqual(message.content.map((b) => b.type === 'text' && b.text), ['Answer 1 to: Tell me a story']);
    assert.equal(message.usage.output_tokens, estimateTokens('Answer 1 to: Tell me a story'));

    const raw = await anthropic.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 256, messages: [question], tools, stream: true });
    const types: string[] = [];
    for await (const event of raw) types.push(event.type);
    assert.deepEqual(
      types.filter((t, i) => t !== types[i - 1]),
      ['message_start', 'content_block_start', 'content_block_delta', 'content_block_stop', 'message_delta', 'message_stop'],
    );
    const response = await fetch(`${anthropicFake.url}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': KEY, 'anthropic-version': '2023-06-01', 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 64, messages: [question], stream: true }),
    });
    assert.match(response.headers.get('content-type') ?? '', /^text\/event-stream/);
    const wire = await response.text();
    assert.match(wire, /^event: message_start\ndata: \{"type":"message_start"/);
    assert.match(wire, /event: ping\ndata: \{"type":"ping"\}\n\n/);
  });

  test('server-wide forced tool calls apply when a request does not force its own', async () => {
    anthropicFake.setForcedToolCalls([FORCED[1]!]);
    try {
      const message = await anthropic.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 64, messages: [question] });
      assert.deepEqual(message.content.map((b) => b.type === 'tool_use' && b.name), ['get_time']);
      const own = await anthropic.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 64, messages: [question] }, forcedHeaders);
      assert.equal(own.content.length, 2);
    } finally {
      anthropicFake.setForcedToolCalls(undefined);
    }
  });

  test('countTokens reports the input tokens messages.create would', async () => {
    const params = { model: 'claude-sonnet-4-5', system: 'Be brief.', messages: [question], tools };
    const counted = await anthropic.messages.countTokens(params);
    const message = await anthropic.messages.create({ ...params, max_tokens: 64 });
    assert.deepEqual(counted, { input_tokens: message.usage.input_tokens });
  });

  test('models.list and models.retrieve', async () => {
    const page = await anthropic.models.list();
    assert.equal(page.has_more, false);
    assert.equal(page.first_id, page.data[0]!.id);
    assert.equal(page.last_id, page.data.at(-1)!.id);
    const ids: string[] = [];
    for await (const model of anthropic.models.list()) ids.push(model.id);
    assert.ok(ids.includes('claude-sonnet-4-5-20250929'));
    const model = await anthropic.models.retrieve('claude-sonnet-4-5-20250929');
    assert.equal(model.type, 'model');
    assert.equal(model.display_name, 'Claude Sonnet 4.5');
    await assert.rejects(anthropic.models.retrieve('claude-0'), Anthropic.NotFoundError);
  });

  test('errors: bad key, unknown field, missing anthropic-version', async () => {
    const badKey = new Anthropic({ baseURL: anthropicFake.url, apiKey: 'wrong', maxRetries: 0 });
    await assert.rejects(badKey.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 64, messages: [question] }), (err) => {
      assert.ok(err instanceof Anthropic.AuthenticationError);
      assert.deepEqual(err.error, { type: 'error', error: { type: 'authentication_error', message: 'invalid x-api-key' } });
      return true;
    });
    const unknownField = { model: 'claude-sonnet-4-5', max_tokens: 64, messages: [question], frobnicate: 1 } as Anthropic.MessageCreateParamsNonStreaming;
    await assert.rejects(anthropic.messages.create(unknownField), (err) => {
      assert.ok(err instanceof Anthropic.BadRequestError);
      assert.deepEqual(err.error, { type: 'error', error: { type: 'invalid_request_error', message: 'frobnicate: Extra inputs are not permitted' } });
      return true;
    });
    const noVersion = await fetch(`${anthropicFake.url}/v1/models`, { headers: { 'x-api-key': KEY } });
    assert.equal(noVersion.status, 400);
    assert.deepEqual(await noVersion.json(), { type: 'error', error: { type: 'invalid_request_error', message: 'anthropic-version: header is required' } });
  });
});
