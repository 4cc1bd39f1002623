/** The official OpenAI and Mistral SDKs, unchanged, talking to the gateway in front of the fake Mistral upstream. */
import { Mistral } from '@mistralai/mistralai';
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import { startHarness, UPSTREAM_KEY, type Harness } from './support/harness.js';

let h: Harness;
let key: string;
let openai: OpenAI;
let mistral: Mistral;

before(async () => {
  h = await startHarness();
  key = (await h.createKey('sdk-tests')).key;
  openai = new OpenAI({ baseURL: `${h.url}/mistral/v1`, apiKey: key, maxRetries: 0 });
  mistral = new Mistral({ apiKey: key, serverURL: `${h.url}/mistral` });
});
after(() => h.close());

describe('openai SDK', () => {
  test('chat completion, as in the seed', async () => {
    const response = await openai.chat.completions.create({
      model: 'mistral-large-latest',
      messages: [{ role: 'user', content: 'Explain the difference between L1 and L2 regularization.' }],
    });
    assert.equal(response.object, 'chat.completion');
    assert.equal(response.model, 'mistral-large-latest');
    assert.ok(response.choices[0]?.message.content?.includes('L1 and L2'));
    assert.ok((response.usage?.total_tokens ?? 0) > 0);
  });

  test('streaming chat completion', async () => {
    const stream = await openai.chat.completions.create({
      model: 'mistral-large-latest',
      messages: [{ role: 'user', content: 'Stream me a story about gateways' }],
      stream: true,
    });
    let text = '';
    let chunks = 0;
    let usage: OpenAI.CompletionUsage | undefined | null;
    for await (const chunk of stream) {
      chunks++;
      text += chunk.choices[0]?.delta.content ?? '';
      usage = chunk.usage ?? usage;
    }
    assert.ok(chunks > 2, `expected several chunks, got ${chunks}`);
    assert.ok(text.includes('story about gateways'));
    assert.ok((usage?.total_tokens ?? 0) > 0);
    const [record] = await h.audit('model=mistral-large-latest');
    assert.equal(record.streamed, true);
    assert.equal(record.total_tokens, usage?.total_tokens);
  });

  test('text completion is served by Mistral FIM', async () => {
    const completion = await openai.completions.create({ model: 'codestral-latest', prompt: 'def fibonacci(n):', suffix: 'return result' });
    assert.equal(completion.object, 'text_completion');
    assert.ok((completion.choices[0]?.text ?? '').length > 0);
    const fim = h.fake.requests.filter((r: { path: string }) => r.path === '/v1/fim/completions');
    assert.equal(fim.length, 1);
  });

  test('models list', async () => {
    const models = await openai.models.list();
    const ids = models.data.map((m) => m.id);
    assert.ok(ids.includes('mistral-large-latest'));
    const one = await openai.models.retrieve('mistral-small-latest');
    assert.equal(one.id, 'mistral-small-latest');
  });

  test('tool-call round trip', async () => {
    const tools: OpenAI.ChatCompletionTool[] = [
      {
        type: 'function',
        function: {
          name: 'get_weather',
          description: 'Weather for a city',
          parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
        },
      },
    ];
    const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: 'user', content: 'What is the weather in Paris?' }];
    const first = await openai.chat.completions.create({ model: 'mistral-large-latest', messages, tools });
    const call = first.choices[0]?.message.tool_calls?.[0];
    assert.equal(first.choices[0]?.finish_reason, 'tool_calls');
    assert.ok(call && call.type === 'function');
    assert.equal(call.function.name, 'get_weather');
    assert.equal(typeof JSON.parse(call.function.arguments).city, 'string');
    messages.push(first.choices[0]!.message, { role: 'tool', tool_call_id: call.id, content: '{"temperature_c": 21}' });
    const second = await openai.chat.completions.create({ model: 'mistral-large-latest', messages, tools });
    assert.ok(second.choices[0]?.message.content?.includes('temperature_c'));
  });

  test('errors surface as the SDK error classes', async () => {
    const bad = new OpenAI({ baseURL: `${h.url}/mistral/v1`, apiKey: 'cz_live_not-a-real-key', maxRetries: 0 });
    await assert.rejects(bad.chat.completions.create({ model: 'mistral-large-latest', messages: [{ role: 'user', content: 'hi' }] }), (err) => {
      assert.ok(err instanceof OpenAI.AuthenticationError);
      assert.equal(err.status, 401);
      assert.equal(err.code, 'invalid_api_key');
      return true;
    });
    await assert.rejects(
      openai.chat.completions.create({ model: 'mistral-large-latest', messages: [] }),
      (err) => err instanceof OpenAI.BadRequestError && err.param === 'messages',
    );
  });
});

describe('@mistralai/mistralai SDK', () => {
  test('chat', async () => {
    const res = await mistral.chat.complete({ model: 'mistral-small-latest', messages: [{ role: 'user', content: 'Hello from the Mistral SDK' }] });
    assert.ok(String(res.choices[0]?.message?.content).includes('Hello from the Mistral SDK'));
    assert.ok(res.usage.totalTokens! > 0);
  });

  test('chat stream', async () => {
    const stream = await mistral.chat.stream({ model: 'mistral-small-latest', messages: [{ role: 'user', content: 'Stream please' }] });
    let text = '';
    for await (const event of stream) text += String(event.data.choices[0]?.delta.content ?? '');
    assert.ok(text.includes('Stream please'));
  });

  test('FIM, embeddings and models', async () => {
    const fim = await mistral.fim.complete({ model: 'codestral-latest', prompt: 'function add(a, b) {', suffix: '}' });
    assert.ok(String(fim.choices?.[0]?.message?.content ?? '').length > 0);
    const emb = await mistral.embeddings.create({ model: 'mistral-embed', inputs: ['one', 'two'] });
    assert.equal(emb.data.length, 2);
    const models = await mistral.models.list();
    assert.ok((models.data ?? []).some((m) => 'id' in m && m.id === 'codestral-latest'));
  });

  test('tool calls', async () => {
    const res = await mistral.chat.complete({
      model: 'mistral-large-latest',
      messages: [{ role: 'user', content: 'Look up order 42' }],
      tools: [
        {
          type: 'function',
          function: { name: 'lookup_order', parameters: { type: 'object', properties: { order_id: { type: 'integer' } }, required: ['order_id'] } },
        },
      ],
    });
    assert.equal(res.choices[0]?.message?.toolCalls?.[0]?.function.name, 'lookup_order');
  });

  test('bad gateway key is a 401 from the SDK', async () => {
    const bad = new Mistral({ apiKey: 'cz_live_wrong', serverURL: `${h.url}/mistral` });
    await assert.rejects(bad.chat.complete({ model: 'mistral-small-latest', messages: [{ role: 'user', content: 'x' }] }), (err: any) => {
      assert.equal(err.statusCode, 401);
      return true;
    });
  });
});

test('the upstream never sees the gateway key; the client never sees the provider key', async () => {
  const res = await fetch(`${h.url}/mistral/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'mistral-large-latest', messages: [{ role: 'user', content: 'secret check' }] }),
  });
  const text = await res.text();
  const headers = JSON.stringify([...res.headers]);
  assert.equal(res.status, 200);
  assert.ok(!text.includes(UPSTREAM_KEY) && !headers.includes(UPSTREAM_KEY));
  for (const r of h.fake.requests) {
    const seen = JSON.stringify(r);
    assert.ok(!seen.includes(key), 'gateway key reached the upstream');
    assert.ok(!seen.includes('cz_live_'), 'a cz_live_ key reached the upstream');
    assert.equal(r.headers.authorization, `Bearer ${UPSTREAM_KEY}`);
  }
});
