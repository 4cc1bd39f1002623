/**
 * The Vercel AI SDK (`ai` with @ai-sdk/openai, @ai-sdk/openai-compatible and @ai-sdk/mistral), unchanged and with its
 * default options, pointed at the gateway in front of the Mistral fake: chat, streams (which always send
 * `stream_options`), embeddings, and a policy denial whose message reaches the caller readable.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { embed, generateText, streamText } from 'ai';
import { createMistral } from '@ai-sdk/mistral';
import { createOpenAI } from '@ai-sdk/openai';
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import { startHarness, type Harness } from './support/harness.js';

describe('Vercel AI SDK through the gateway', () => {
  let h: Harness;
  let key: string;
  before(async () => {
    h = await startHarness();
    key = (await h.createKey('ai-sdk')).key;
    await h.createPolicy({
      name: 'ai-sdk-clients',
      rules: [
        { effect: 'deny', action: 'llm:chat.completions', resource: 'mistral/codestral-*' },
        { effect: 'allow', action: 'llm:*', resource: 'mistral/*' },
      ],
    });
  });
  after(() => h.close());
  const baseURL = () => `${h.url}/mistral/v1`;

  test('@ai-sdk/openai .chat(): streamText with its defaults (stream_options.include_usage) streams and reports usage', async () => {
    const openai = createOpenAI({ baseURL: baseURL(), apiKey: key });
    const result = streamText({ model: openai.chat('mistral-small-latest'), prompt: 'Tell me a story about dragons', maxRetries: 0 });
    let text = '';
    for await (const part of result.textStream) text += part;
    assert.ok(text.length > 0);
    const usage = await result.usage;
    assert.ok((usage.inputTokens ?? 0) > 0 && (usage.outputTokens ?? 0) > 0, JSON.stringify(usage));
  });

  test('@ai-sdk/openai-compatible with includeUsage: text and usage, no silent empty answer', async () => {
    const provider = createOpenAICompatible({ name: 'tollgate', baseURL: baseURL(), apiKey: key, includeUsage: true });
    const result = streamText({ model: provider.chatModel('mistral-small-latest'), prompt: 'Say hello', maxRetries: 0 });
    let text = '';
    for await (const part of result.textStream) text += part;
    assert.ok(text.length > 0);
    assert.ok(((await result.usage).outputTokens ?? 0) > 0);
  });

  test("@ai-sdk/openai embed with the SDK's default encoding", async () => {
    const openai = createOpenAI({ baseURL: baseURL(), apiKey: key });
    const { embedding } = await embed({ model: openai.embedding('mistral-embed'), value: 'alpha', maxRetries: 0 });
    assert.equal(embedding.length, 1024);
  });

  test('@ai-sdk/mistral: chat, and a policy denial surfaces with its message, not just "Forbidden"', async () => {
    const mistral = createMistral({ baseURL: baseURL(), apiKey: key });
    const ok = await generateText({ model: mistral('mistral-small-latest'), prompt: 'Say hello', maxRetries: 0 });
    assert.ok(ok.text.length > 0);
    const err = await generateText({ model: mistral('codestral-latest'), prompt: 'Say hello', maxRetries: 0 }).then(
      () => assert.fail('expected a denial'),
      (e: unknown) => e as Error & { statusCode?: number },
    );
    assert.equal(err.statusCode, 403);
    assert.match(err.message, /denied by policy/i);
    assert.match(err.message, /ai-sdk-clients/);
  });

  test('@ai-sdk/mistral: a provider event the gateway cannot govern ends the stream with a readable error part', async () => {
    const mistral = createMistral({ baseURL: baseURL(), apiKey: key });
    const result = streamText({ model: mistral('mistral-small-latest'), prompt: 'hi', maxRetries: 0, headers: { 'x-fake-fault': 'malformed-sse' }, onError: () => {} });
    const errors: unknown[] = [];
    for await (const part of result.fullStream) if (part.type === 'error') errors.push(part.error);
    assert.equal(errors.length, 1);
    assert.match(JSON.stringify(errors[0]) + String((errors[0] as Error).message ?? ''), /not valid JSON/);
  });

  test("the denial's body is Mistral's error object and OpenAI's at once, with the gateway's fields in both", async () => {
    const res = await fetch(`${baseURL()}/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'codestral-latest', messages: [{ role: 'user', content: 'x' }] }),
    });
    assert.equal(res.status, 403);
    const body = (await res.json()) as any;
    assert.equal(body.object, 'error');
    assert.equal(body.type, 'permission_error');
    assert.equal(body.code, 'policy_denied');
    assert.match(body.message, /denied by policy/);
    assert.equal(body.error.message, body.message);
    assert.equal(body.error.code, 'policy_denied');
    for (const fields of [body, body.error]) {
      assert.equal(fields.policy, 'ai-sdk-clients');
      assert.equal(fields.reason_code, 'RULE_MATCH');
    }
  });

  test('@ai-sdk/openai: the same denial reads the same', async () => {
    const openai = createOpenAI({ baseURL: baseURL(), apiKey: key });
    const err = await generateText({ model: openai.chat('codestral-latest'), prompt: 'x', maxRetries: 0 }).then(
      () => assert.fail('expected a denial'),
      (e: unknown) => e as Error,
    );
    assert.match(err.message, /denied by policy/i);
  });
});
