import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Mistral } from '@mistralai/mistralai';
import OpenAI from 'openai';
import { HTTPValidationError, MistralError } from '@mistralai/mistralai/models/errors';
import { generateChat, invalidLastRole, promptTokens } from '../src/fake-mistral/chat.js';
import { textChoice } from '../src/fake-mistral/completion.js';
import { embeddingVector } from '../src/fake-mistral/embeddings.js';
import { validationDetail } from './support/mistral-errors.js';
import { FaultSpecError, NO_FAULTS, parseFaults } from '../src/fake-mistral/faults.js';
import { createModelCatalogue } from '../src/fake-mistral/models.js';
import {
  ChatRequestSchema,
  parseForcedToolCalls,
  validateBody,
  type ChatRequest,
} from '../src/fake-mistral/requests.js';
import { completionChunks, splitEvenly, wordPieces } from '../src/fake-mistral/responses.js';
import { sampleObject } from '../src/fake-mistral/schema-sample.js';
import { newToolCallId, startFakeMistral, type FakeMistral } from '../src/fake-mistral/server.js';
import { estimateTokens } from '../src/fake-mistral/tokens.js';

const KEY = 'upstream-secret';
const WEATHER_TOOL = {
  type: 'function' as const,
  function: {
    name: 'get_weather',
    parameters: {
      type: 'object',
      properties: {
        city: { type: 'string' },
        unit: { type: 'string', enum: ['celsius', 'fahrenheit'] },
        days: { type: 'integer' },
        verbose: { type: 'boolean' },
      },
      required: ['city', 'unit', 'days'],
    },
  },
};

const chatRequest = (overrides: Partial<ChatRequest> = {}): ChatRequest => ({
  model: 'mistral-small-latest',
  messages: [{ role: 'user', content: 'What is the capital of France?' }],
  ...overrides,
});

let ids = 0;
const sequentialIds = () => `call${String(++ids).padStart(5, '0')}`;

describe('fake-mistral pure parts', () => {
  it('parses fault specs on top of defaults, later entries winning', () => {
    const base = parseFaults('latency=50,trickle=10');
    const faults = parseFaults(' status=429 , retry-after=0,reset-mid-stream,latency=5', base);
    assert.deepEqual(faults, {
      ...NO_FAULTS,
      latencyMs: 5,
      trickleMs: 10,
      status: 429,
      retryAfterSeconds: 0,
      resetMidStream: true,
    });
    assert.equal(parseFaults(undefined, base), base);
    assert.equal(parseFaults('', base), base);
    assert.deepEqual(parseFaults('hang,reset,malformed-sse'), { ...NO_FAULTS, hang: true, reset: true, malformedSse: true });
  });

  it('rejects unknown faults and bad values, naming the token', () => {
    assert.throws(() => parseFaults('explode'), (e: Error) => e instanceof FaultSpecError && /unknown fault 'explode'/.test(e.message));
    assert.throws(() => parseFaults('status=200'), /fault 'status=200': expected an integer between 400 and 599/);
    assert.throws(() => parseFaults('latency=-1'), /fault 'latency=-1'/);
    assert.throws(() => parseFaults('latency'), /fault 'latency'/);
    assert.throws(() => parseFaults('hang=1'), /'hang' takes no value/);
  });

  it('estimates one token per started group of 4 characters', () => {
    assert.equal(estimateTokens(''), 0);
    assert.equal(estimateTokens('abcd'), 1);
    assert.equal(estimateTokens('abcde'), 2);
  });

  it('cuts text at stop sequences, then at max_tokens with finish reason "length"', () => {
    assert.deepEqual(textChoice(0, 'one two three', null, ['three', ' two']), { index: 0, content: 'one', toolCalls: [], finishReason: 'stop' });
    assert.deepEqual(textChoice(1, 'abcdefghij', 2, undefined), { index: 1, content: 'abcdefgh', toolCalls: [], finishReason: 'length' });
    assert.equal(textChoice(0, 'abcdefgh', 2, 'zz').finishReason, 'stop');
  });

  it('answers with a sentence quoting the last user message, once per choice', () => {
    const result = generateChat(chatRequest({ n: 2 }), { newToolCallId: sequentialIds });
    assert.deepEqual(
      result.choices.map((c) => [c.content, c.finishReason]),
      [
        ['This is a fake reply from mistral-small-latest. You said: "What is the capital of France?" (choice 1 of 2)', 'stop'],
        ['This is a fake reply from mistral-small-latest. You said: "What is the capital of France?" (choice 2 of 2)', 'stop'],
      ],
    );
    const completion = result.choices.reduce((sum, c) => sum + estimateTokens(c.content), 0);
    assert.deepEqual(result.usage, {
      prompt_tokens: estimateTokens('What is the capital of France?'),
      completion_tokens: completion,
      total_tokens: estimateTokens('What is the capital of France?') + completion,
    });
  });

  it('counts prompt tokens per message, including text chunks and tool call arguments', () => {
    const tokens = promptTokens([
      { role: 'system', content: 'be brief' },
      { role: 'user', content: [{ type: 'text', text: 'hello' }, { type: 'image_url', image_url: 'x' }] },
      { role: 'assistant', content: null, tool_calls: [{ id: 'a', function: { name: 'f', arguments: '{"q":1}' } }] },
    ]);
    assert.equal(tokens, estimateTokens('be brief') + estimateTokens('hello') + estimateTokens('f{"q":1}'));
  });

  it('calls the first tool with placeholder arguments for its required properties', () => {
    const result = generateChat(chatRequest({ tools: [WEATHER_TOOL] }), { newToolCallId: sequentialIds });
    const [choice] = result.choices;
    assert.equal(choice?.finishReason, 'tool_calls');
    assert.equal(choice?.content, '');
    assert.equal(choice?.toolCalls.length, 1);
    assert.equal(choice?.toolCalls[0]?.name, 'get_weather');
    assert.deepEqual(JSON.parse(choice!.toolCalls[0]!.arguments), { city: 'city_value', unit: 'celsius', days: 1 });
  });

  it('honours tool_choice: "none" answers in text, a named function is the one called', () => {
    const other = { type: 'function' as const, function: { name: 'lookup', parameters: { type: 'object', properties: {} } } };
    const none = generateChat(chatRequest({ tools: [WEATHER_TOOL], tool_choice: 'none' }), { newToolCallId: sequentialIds });
    assert.equal(none.choices[0]?.finishReason, 'stop');
    const named = generateChat(
      chatRequest({ tools: [WEATHER_TOOL, other], tool_choice: { type: 'function', function: { name: 'lookup' } } }),
      { newToolCallId: sequentialIds },
    );
    assert.equal(named.choices[0]?.toolCalls[0]?.name, 'lookup');
    assert.equal(named.choices[0]?.toolCalls[0]?.arguments, '{}');
  });

  it('after a tool result, answers with text quoting it and naming the tool', () => {
    const result = generateChat(
      chatRequest({
        tools: [WEATHER_TOOL],
        messages: [
          { role: 'user', content: 'Weather in Paris?' },
          { role: 'assistant', content: '', tool_calls: [{ id: 'abcDEF123', type: 'function', function: { name: 'get_weather', arguments: '{}' } }] },
          { role: 'tool', tool_call_id: 'abcDEF123', content: '21 degrees and sunny' },
        ],
      }),
      { newToolCallId: sequentialIds },
    );
    assert.equal(result.choices[0]?.content, 'The tool get_weather returned: "21 degrees and sunny"');
    assert.equal(result.choices[0]?.finishReason, 'stop');
  });

  it('returns exactly the forced tool calls, each with a fresh id', () => {
    const forced = parseForcedToolCalls('[{"name":"rm","arguments":{"path":"/"}},{"name":"ls","arguments":{}}]');
    const result = generateChat(chatRequest(), { forcedToolCalls: forced, newToolCallId: sequentialIds });
    const calls = result.choices[0]!.toolCalls;
    assert.deepEqual(calls.map((c) => [c.name, JSON.parse(c.arguments)]), [['rm', { path: '/' }], ['ls', {}]]);
    assert.notEqual(calls[0]?.id, calls[1]?.id);
  });

  it('rejects malformed x-fake-tool-calls values with the element at fault', () => {
    assert.throws(() => parseForcedToolCalls('not json'), /x-fake-tool-calls is not valid JSON/);
    assert.throws(() => parseForcedToolCalls('[{"name":"a","arguments":[]}]'), /x-fake-tool-calls\[0\]\[arguments\]/);
    assert.throws(() => parseForcedToolCalls('[]'), /non-empty JSON array/);
  });

  it('produces JSON content for json_object and json_schema response formats', () => {
    const asObject = generateChat(chatRequest({ response_format: { type: 'json_object' } }), { newToolCallId: sequentialIds });
    assert.match(JSON.parse(asObject.choices[0]!.content).reply, /You said: "What is the capital/);
    const schema = { type: 'object', properties: { answer: { type: 'string' }, score: { type: 'number', minimum: 3 } }, required: ['answer', 'score'] };
    const asSchema = generateChat(
      chatRequest({ response_format: { type: 'json_schema', json_schema: { name: 'r', schema } } }),
      { newToolCallId: sequentialIds },
    );
    assert.deepEqual(JSON.parse(asSchema.choices[0]!.content), { answer: 'answer_value', score: 3 });
  });

  it('synthesises nested required objects and arrays with minItems', () => {
    const schema = {
      type: 'object',
      properties: {
        filter: { type: 'object', properties: { field: { type: 'string' }, opt: { type: 'string' } }, required: ['field'] },
        tags: { type: 'array', items: { type: 'string' }, minItems: 1 },
        mode: { const: 'fast' },
        maybe: { type: ['null', 'boolean'] },
      },
      required: ['filter', 'tags', 'mode', 'maybe'],
    };
    assert.deepEqual(sampleObject(schema), { filter: { field: 'field_value' }, tags: ['tags_value'], mode: 'fast', maybe: true });
  });

  it('knows which last roles Mistral refuses to serve', () => {
    assert.equal(invalidLastRole([{ role: 'user', content: 'x' }]), undefined);
    assert.equal(invalidLastRole([{ role: 'user', content: 'x' }, { role: 'assistant', content: 'y' }]), 'assistant');
    assert.equal(invalidLastRole([{ role: 'user', content: 'x' }, { role: 'assistant', content: 'y', prefix: true }]), undefined);
    assert.equal(invalidLastRole([{ role: 'system', content: 'x' }]), 'system');
  });

  it('reports validation failures as pydantic details with the JSON path at fault', () => {
    const result = validateBody(ChatRequestSchema, {
      messages: [{ role: 'user', content: 'x', name: 'bob' }, { content: 'no role' }],
      max_completion_tokens: 5,
      n: 0,
    });
    assert.equal(result.ok, false);
    const byType = Object.fromEntries((result.ok ? [] : result.detail).map((d) => [d.type, d]));
    assert.deepEqual(byType.missing?.loc, ['body', 'model']);
    assert.deepEqual(byType.union_tag_not_found?.loc, ['body', 'messages', 1]);
    assert.deepEqual(byType.greater_than_equal?.loc, ['body', 'n']);
    const extras = (result.ok ? [] : result.detail).filter((d) => d.type === 'extra_forbidden').map((d) => [d.loc, d.input]);
    assert.deepEqual(extras, [
      [['body', 'messages', 0, 'user', 'name'], 'bob'],
      [['body', 'max_completion_tokens'], 5],
    ]);
  });

  it('streams text word by word and a Mistral tool call complete in one delta, usage on the last chunk only', () => {
    const meta = { id: 'cmpl-1', created: 1, model: 'm' };
    const text = generateChat(chatRequest(), { newToolCallId: sequentialIds });
    const chunks = completionChunks(meta, text, 'mistral') as Array<{ choices: Array<{ delta: { content?: string }; finish_reason: string | null }>; usage?: unknown }>;
    assert.equal(chunks.map((c) => c.choices[0]!.delta.content ?? '').join(''), text.choices[0]!.content);
    assert.ok(chunks.length > 5);
    assert.deepEqual(chunks.map((c) => c.usage !== undefined), chunks.map((_, i) => i === chunks.length - 1));
    assert.equal(chunks.at(-1)!.choices[0]!.finish_reason, 'stop');

    const tools = generateChat(chatRequest(), { forcedToolCalls: [{ name: 'a', arguments: {} }, { name: 'b', arguments: { x: 1 } }], newToolCallId: sequentialIds });
    const toolChunks = completionChunks(meta, tools, 'mistral') as Array<{ choices: Array<{ delta: Record<string, unknown>; finish_reason: string | null }> }>;
    assert.equal(toolChunks.length, 2);
    assert.deepEqual(toolChunks[1]!.choices[0], {
      index: 0,
      delta: {
        tool_calls: tools.choices[0]!.toolCalls.map((c, index) => ({ id: c.id, type: 'function', function: { name: c.name, arguments: c.arguments }, index })),
      },
      finish_reason: 'tool_calls',
    });
  });

  it('fragments tool call arguments OpenAI-style when asked, reassembling to the same calls', () => {
    const tools = generateChat(chatRequest(), { forcedToolCalls: [{ name: 'a', arguments: { path: '/etc/passwd' } }, { name: 'b', arguments: {} }], newToolCallId: sequentialIds });
    type ToolDelta = { index: number; id?: string; function: { name?: string; arguments: string } };
    const chunks = completionChunks({ id: 'x', created: 1, model: 'm' }, tools, 'fragmented') as Array<{ choices: Array<{ delta: { tool_calls?: ToolDelta[] }; finish_reason: string | null }> }>;
    const rebuilt: Array<{ id?: string; name?: string; arguments: string }> = [];
    for (const chunk of chunks) {
      for (const part of chunk.choices[0]!.delta.tool_calls ?? []) {
        if (part.id) {
          assert.equal(part.function.arguments, '', 'the opening delta carries id and name with empty arguments');
          rebuilt[part.index] = { id: part.id, name: part.function.name, arguments: '' };
        } else {
          assert.equal(part.function.name, undefined);
          rebuilt[part.index]!.arguments += part.function.arguments;
        }
      }
    }
    assert.deepEqual(rebuilt, tools.choices[0]!.toolCalls.map((c) => ({ id: c.id, name: c.name, arguments: c.arguments })));
    assert.ok(chunks.filter((c) => c.choices[0]!.delta.tool_calls?.[0]?.index === 0).length > 2, 'arguments of call 0 arrive in several pieces');
    assert.equal(chunks.at(-1)!.choices[0]!.finish_reason, 'tool_calls');
  });

  it('splits text into word pieces and even pieces that concatenate back', () => {
    assert.deepEqual(wordPieces('  one two  three'), ['  one ', 'two  ', 'three']);
    assert.deepEqual(wordPieces(''), ['']);
    assert.deepEqual(splitEvenly('abcdefg', 3), ['abc', 'def', 'g']);
    assert.deepEqual(splitEvenly('{}', 3), ['{', '}']);
  });

  it('makes deterministic unit-length embeddings', () => {
    const a = embeddingVector('hello', 1024);
    assert.deepEqual(a, embeddingVector('hello', 1024));
    assert.notDeepEqual(a, embeddingVector('hellp', 1024));
    assert.ok(Math.abs(Math.hypot(...a) - 1) < 1e-4);
  });

  it('lists each family under its dated id and -latest alias, naming each other', () => {
    const catalogue = createModelCatalogue(123);
    assert.deepEqual(catalogue.find('mistral-large-latest')?.card.aliases, ['mistral-large-2411']);
    assert.deepEqual(catalogue.find('mistral-large-2411')?.card.aliases, ['mistral-large-latest']);
    assert.equal(catalogue.find('codestral-latest')?.card.capabilities.completion_fim, true);
    assert.equal(catalogue.find('mistral-embed')?.embeddingDimension, 1024);
    assert.equal(catalogue.find('gpt-4o'), undefined);
  });

  it('mints 9-character alphanumeric tool call ids', () => {
    for (let i = 0; i < 20; i++) assert.match(newToolCallId(), /^[A-Za-z0-9]{9}$/);
  });
});

/** `data:` payloads of an SSE body, in order. */
function sseData(body: string): string[] {
  return body
    .split('\n\n')
    .filter((event) => event.startsWith('data: '))
    .map((event) => event.slice('data: '.length));
}

describe('fake-mistral server', () => {
  let fake: FakeMistral;
  let client: Mistral;

  before(async () => {
    fake = await startFakeMistral({ apiKey: KEY, record: true });
    client = new Mistral({ apiKey: KEY, serverURL: fake.url });
  });
  after(() => fake.close());

  const post = (path: string, body: unknown, headers: Record<string, string> = {}, signal?: AbortSignal) =>
    fetch(`${fake.url}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
      signal,
    });
  const streamBody = { model: 'mistral-small-latest', stream: true, messages: [{ role: 'user', content: 'Tell me a story about dragons' }] };

  describe('through the official SDK', () => {
    it('completes a chat, quoting the prompt, with usage from the token estimate', async () => {
      const res = await client.chat.complete({ model: 'mistral-large-latest', messages: [{ role: 'user', content: 'Hello, fake Mistral!' }] });
      const content = res.choices[0]?.message?.content;
      assert.equal(content, 'This is a fake reply from mistral-large-latest. You said: "Hello, fake Mistral!"');
      assert.equal(res.object, 'chat.completion');
      assert.equal(res.choices[0]?.finishReason, 'stop');
      assert.deepEqual(res.usage, {
        promptTokens: estimateTokens('Hello, fake Mistral!'),
        completionTokens: estimateTokens(content as string),
        totalTokens: estimateTokens('Hello, fake Mistral!') + estimateTokens(content as string),
      });
    });

    it('truncates to max_tokens with finish reason "length"', async () => {
      const res = await client.chat.complete({ model: 'mistral-small-latest', maxTokens: 3, messages: [{ role: 'user', content: 'hi' }] });
      assert.equal(res.choices[0]?.message?.content, 'This is a fa');
      assert.equal(res.choices[0]?.finishReason, 'length');
      assert.equal(res.usage.completionTokens, 3);
    });

    it('streams a chat: role first, several content chunks, finish reason and usage at the end', async () => {
      const events = [];
      for await (const event of await client.chat.stream({ model: 'mistral-small-latest', messages: [{ role: 'user', content: 'Stream please' }] })) {
        events.push(event.data);
      }
      assert.equal(events[0]?.choices[0]?.delta.role, 'assistant');
      assert.ok(events.length > 5);
      const text = events.map((e) => e.choices[0]?.delta.content ?? '').join('');
      assert.equal(text, 'This is a fake reply from mistral-small-latest. You said: "Stream please"');
      const last = events.at(-1)!;
      assert.equal(last.choices[0]?.finishReason, 'stop');
      assert.equal(last.usage?.completionTokens, estimateTokens(text));
      assert.ok(events.slice(0, -1).every((e) => e.usage === undefined && e.choices[0]?.finishReason === null));
    });

    it('returns a tool call with a 9-character id and schema-derived arguments', async () => {
      const res = await client.chat.complete({ model: 'mistral-large-latest', tools: [WEATHER_TOOL], messages: [{ role: 'user', content: 'Weather in Paris?' }] });
      const choice = res.choices[0]!;
      assert.equal(choice.finishReason, 'tool_calls');
      const call = choice.message?.toolCalls?.[0];
      assert.match(call?.id ?? '', /^[A-Za-z0-9]{9}$/);
      assert.equal(call?.function.name, 'get_weather');
      assert.deepEqual(JSON.parse(call?.function.arguments as string), { city: 'city_value', unit: 'celsius', days: 1 });
    });

    it('streams forced tool calls complete in a single delta', async () => {
      const forced = [{ name: 'read_file', arguments: { path: '/etc/hosts' } }, { name: 'list_dir', arguments: { path: '/' } }];
      const events = [];
      const stream = await client.chat.stream(
        { model: 'mistral-large-latest', tools: [WEATHER_TOOL], messages: [{ role: 'user', content: 'go' }] },
        { headers: { 'x-fake-tool-calls': JSON.stringify(forced) } },
      );
      for await (const event of stream) events.push(event.data);
      const withCalls = events.filter((e) => e.choices[0]?.delta.toolCalls);
      assert.equal(withCalls.length, 1);
      const calls = withCalls[0]!.choices[0]!.delta.toolCalls!;
      assert.deepEqual(calls.map((c) => [c.index, c.function.name, JSON.parse(c.function.arguments as string)]), [
        [0, 'read_file', { path: '/etc/hosts' }],
        [1, 'list_dir', { path: '/' }],
      ]);
      assert.equal(withCalls[0]!.choices[0]!.finishReason, 'tool_calls');
      assert.ok(withCalls[0]!.usage);
    });

    it('completes and streams FIM', async () => {
      const res = await client.fim.complete({ model: 'codestral-latest', prompt: 'def add(a, b):', suffix: 'print(add(1, 2))' });
      const content = res.choices[0]?.message?.content;
      assert.equal(content, '/* fake codestral-latest completion after "def add(a, b):" before "print(add(1, 2))" */');
      assert.equal(res.usage.promptTokens, estimateTokens('def add(a, b):') + estimateTokens('print(add(1, 2))'));
      let streamed = '';
      for await (const event of await client.fim.stream({ model: 'codestral-latest', prompt: 'def add(a, b):', suffix: 'print(add(1, 2))' })) {
        streamed += event.data.choices[0]?.delta.content ?? '';
      }
      assert.equal(streamed, content);
    });

    it('lists and retrieves models', async () => {
      const list = await client.models.list();
      const ids = (list.data ?? []).map((m) => (m.type === 'base' ? m.id : `unexpected card type ${m.type}`));
      for (const id of ['mistral-large-latest', 'mistral-medium-latest', 'mistral-small-latest', 'codestral-latest', 'mistral-embed']) {
        assert.ok(ids.includes(id), id);
      }
      const card = await client.models.retrieve({ modelId: 'codestral-latest' });
      assert.ok(card.type === 'base', 'the SDK recognises the card as a base model');
      assert.equal(card.id, 'codestral-latest');
      assert.equal(card.capabilities.completionFim, true);
      await assert.rejects(client.models.retrieve({ modelId: 'no-such-model' }), (e) => e instanceof MistralError && e.statusCode === 404);
    });

    it('creates deterministic 1024-dimension embeddings', async () => {
      const res = await client.embeddings.create({ model: 'mistral-embed', inputs: ['alpha', 'beta'] });
      assert.deepEqual(res.data.map((d) => [d.index, d.embedding?.length]), [[0, 1024], [1, 1024]]);
      assert.deepEqual(res.data[0]?.embedding, embeddingVector('alpha', 1024));
      assert.equal(res.usage.promptTokens, estimateTokens('alpha') + estimateTokens('beta'));
    });

    it('encodes embeddings as base64 float32 when asked (both encodings Mistral publishes), as the openai SDK sends by default', async () => {
      const asFloat32 = (v: number[]) => Array.from(new Float32Array(v));
      // Over raw HTTP: the Mistral SDK sends encodingFormat but its response schema knows number arrays only.
      const b64 = (await (await post('/v1/embeddings', { model: 'mistral-embed', input: ['alpha'], encoding_format: 'base64' })).json()) as { data: { embedding: string }[] };
      const bytes = Buffer.from(b64.data[0]!.embedding, 'base64');
      const decoded = new Float32Array(new Uint8Array(bytes).buffer);
      assert.deepEqual(Array.from(decoded), asFloat32(embeddingVector('alpha', 1024)));
      // The openai SDK asks for base64 unless told otherwise, and decodes it to numbers itself.
      const openai = new OpenAI({ apiKey: KEY, baseURL: `${fake.url}/v1`, maxRetries: 0 });
      const res = await openai.embeddings.create({ model: 'mistral-embed', input: ['alpha', 'beta'] });
      assert.deepEqual(res.data.map((d) => d.embedding), [asFloat32(embeddingVector('alpha', 1024)), asFloat32(embeddingVector('beta', 1024))]);
      const floats = await openai.embeddings.create({ model: 'mistral-embed', input: 'alpha', encoding_format: 'float' });
      assert.deepEqual(floats.data[0]!.embedding, embeddingVector('alpha', 1024));
      const refused = await post('/v1/embeddings', { model: 'mistral-embed', input: 'x', encoding_format: 'int8' });
      assert.equal(refused.status, 422);
    });

    it('rejects a bad key with 401 and invalid bodies with a 422 HTTPValidationError', async () => {
      const bad = new Mistral({ apiKey: 'wrong', serverURL: fake.url });
      await assert.rejects(bad.models.list(), (e) => e instanceof MistralError && e.statusCode === 401 && e.body === '{"detail":"Unauthorized"}');
      await assert.rejects(
        client.chat.complete({ model: 'mistral-small-latest', messages: [] }),
        // As api.mistral.ai answers: the pydantic list under message.detail (the SDK's `detail` stays unset).
        (e) => e instanceof HTTPValidationError && validationDetail(e.body)[0]?.type === 'too_short' && validationDetail(e.body)[0]?.loc.join('.') === 'body.messages',
      );
    });

    it('rejects an unknown model as api.mistral.ai does', async () => {
      await assert.rejects(client.chat.complete({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] }), (e) => {
        assert.ok(e instanceof MistralError);
        assert.equal(e.statusCode, 400);
        assert.deepEqual(JSON.parse(e.body), { object: 'error', message: 'Invalid model: gpt-4o', type: 'invalid_model', param: null, code: '1500', raw_status_code: 400 });
        return true;
      });
    });
  });

  describe('over raw HTTP', () => {
    it('records what reached it: method, path, headers and parsed body', async () => {
      fake.requests.length = 0;
      await post('/v1/chat/completions', { model: 'mistral-small-latest', messages: [{ role: 'user', content: 'rec' }] }, { 'x-trace': 't1' });
      assert.equal(fake.requests.length, 1);
      const [recorded] = fake.requests;
      assert.equal(recorded?.method, 'POST');
      assert.equal(recorded?.path, '/v1/chat/completions');
      assert.equal(recorded?.headers.authorization, `Bearer ${KEY}`);
      assert.equal(recorded?.headers['x-trace'], 't1');
      assert.deepEqual(recorded?.body, { model: 'mistral-small-latest', messages: [{ role: 'user', content: 'rec' }] });
    });

    it('answers malformed JSON with 400, unknown routes with 404 and fake-control misuse with 400', async () => {
      const malformed = await post('/v1/chat/completions', '{"model":');
      assert.equal(malformed.status, 400);
      assert.equal(((await malformed.json()) as { type: string }).type, 'invalid_request_error');
      const missing = await post('/v1/nope', {});
      assert.equal(missing.status, 404);
      assert.equal(((await missing.json()) as { message: string }).message, 'no Route matched with those values');
      const badFault = await post('/v1/chat/completions', streamBody, { 'x-fake-fault': 'explode' });
      assert.equal(badFault.status, 400);
      assert.match(((await badFault.json()) as { message: string }).message, /x-fake-fault: unknown fault 'explode'/);
      const badStyle = await post('/v1/chat/completions', streamBody, { 'x-fake-tool-call-style': 'weird' });
      assert.equal(badStyle.status, 400);
    });

    it('streams fragmented tool calls when asked', async () => {
      const res = await post(
        '/v1/chat/completions',
        { ...streamBody, tools: [WEATHER_TOOL] },
        { 'x-fake-tool-call-style': 'fragmented' },
      );
      assert.equal(res.headers.get('content-type'), 'text/event-stream; charset=utf-8');
      const data = sseData(await res.text());
      assert.equal(data.at(-1), '[DONE]');
      const deltas = data.slice(0, -1).map((d) => JSON.parse(d).choices[0].delta.tool_calls?.[0]).filter(Boolean);
      assert.equal(deltas[0].function.name, 'get_weather');
      assert.equal(deltas[0].function.arguments, '');
      assert.ok(deltas.length > 2);
      assert.deepEqual(JSON.parse(deltas.slice(1).map((d: { function: { arguments: string } }) => d.function.arguments).join('')), { city: 'city_value', unit: 'celsius', days: 1 });
    });

    it('fault latency delays the answer', async () => {
      const started = performance.now();
      const res = await post('/v1/chat/completions', streamBody, { 'x-fake-fault': 'latency=120' });
      await res.text();
      assert.ok(performance.now() - started >= 110);
    });

    it('fault status answers with Mistral error bodies, 429 with retry-after and rate-limit headers', async () => {
      const unavailable = await post('/v1/chat/completions', streamBody, { 'x-fake-fault': 'status=503' });
      assert.equal(unavailable.status, 503);
      assert.deepEqual(await unavailable.json(), { object: 'error', message: 'Service unavailable', type: 'server_error', param: null, code: null, raw_status_code: 503 });
      const limited = await post('/v1/chat/completions', streamBody, { 'x-fake-fault': 'status=429,retry-after=7' });
      assert.equal(limited.status, 429);
      assert.equal(limited.headers.get('retry-after'), '7');
      assert.equal(limited.headers.get('x-ratelimit-remaining-req-minute'), '0');
      assert.equal(((await limited.json()) as { type: string }).type, 'rate_limited');
    });

    it('fault reset destroys the socket before answering', async () => {
      await assert.rejects(post('/v1/chat/completions', streamBody, { 'x-fake-fault': 'reset' }));
    });

    it('fault reset-mid-stream sends some events then cuts the connection, not counted as a client abort', async () => {
      const abortedBefore = fake.aborted;
      const res = await post('/v1/chat/completions', streamBody, { 'x-fake-fault': 'reset-mid-stream' });
      assert.equal(res.status, 200);
      const reader = res.body!.getReader();
      let received = '';
      await assert.rejects(async () => {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) return;
          received += new TextDecoder().decode(value);
        }
      });
      assert.ok(sseData(received).length >= 2, 'some events arrived before the cut');
      assert.ok(!received.includes('[DONE]'));
      assert.equal(fake.aborted, abortedBefore);
    });

    it('fault malformed-sse inserts one event that is not JSON, the rest staying intact', async () => {
      const res = await post('/v1/chat/completions', streamBody, { 'x-fake-fault': 'malformed-sse' });
      const data = sseData(await res.text());
      const invalid = data.filter((d) => {
        if (d === '[DONE]') return false;
        try {
          JSON.parse(d);
          return false;
        } catch {
          return true;
        }
      });
      assert.deepEqual(invalid.length, 1);
      assert.equal(data.indexOf(invalid[0]!), 1);
      assert.equal(data.at(-1), '[DONE]');
    });

    it('fault trickle spaces events out, and stops when the client goes away', async () => {
      const abortedBefore = fake.aborted;
      const controller = new AbortController();
      const started = performance.now();
      const res = await post('/v1/chat/completions', streamBody, { 'x-fake-fault': 'trickle=40' }, controller.signal);
      const reader = res.body!.getReader();
      let events = 0;
      while (events < 3) {
        const { value } = await reader.read();
        events += sseData(new TextDecoder().decode(value)).length;
      }
      assert.ok(performance.now() - started >= 70, 'three events take at least two trickle delays');
      controller.abort();
      await fake.waitForAborted(abortedBefore + 1);
      assert.equal(fake.aborted, abortedBefore + 1);
    });

    it('fault hang never answers; the client timing out counts as an abort', async () => {
      const abortedBefore = fake.aborted;
      await assert.rejects(post('/v1/chat/completions', streamBody, { 'x-fake-fault': 'hang' }, AbortSignal.timeout(100)), { name: 'TimeoutError' });
      await fake.waitForAborted(abortedBefore + 1);
    });

    it('applies server-wide faults until cleared', async () => {
      fake.setFaults('status=502');
      try {
        assert.equal((await post('/v1/chat/completions', streamBody)).status, 502);
      } finally {
        fake.setFaults(undefined);
      }
      assert.equal((await post('/v1/chat/completions', streamBody)).status, 200);
    });
  });
});
