/**
 * LangChain (@langchain/openai, @langchain/mistralai), unchanged and with its default options, pointed at the gateway
 * in front of the Mistral fake: chat, streams (ChatOpenAI sends `stream_options` by default), embeddings (base64 by
 * default), and an abort mid-stream that must reach the provider and the audit. (ChatMistralAI's abort is not tested
 * here: @langchain/mistralai 1.2 does not pass the signal to its HTTP request, it only stops iterating, so the
 * response stays open and unread on the client's side and no gateway can tell that from a slow reader.)
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ChatMistralAI } from '@langchain/mistralai';
import { ChatOpenAI, OpenAIEmbeddings } from '@langchain/openai';
import { eventually, startHarness, type Harness } from './support/harness.js';

describe('LangChain through the gateway', () => {
  let h: Harness;
  let key: string;
  before(async () => {
    h = await startHarness();
    key = (await h.createKey('langchain')).key;
  });
  after(() => h.close());

  test('ChatOpenAI: invoke, and stream with its defaults (usage asked for with stream_options)', async () => {
    const chat = new ChatOpenAI({ model: 'mistral-small-latest', apiKey: key, configuration: { baseURL: `${h.url}/mistral/v1` }, maxRetries: 0 });
    const answer = await chat.invoke('Say hello');
    assert.ok(String(answer.content).length > 0);
    let text = '';
    let usage: { input_tokens: number; output_tokens: number } | undefined;
    for await (const chunk of await chat.stream('Tell me a story about dragons')) {
      text += String(chunk.content);
      if (chunk.usage_metadata) usage = chunk.usage_metadata;
    }
    assert.ok(text.length > 0);
    assert.ok(usage && usage.input_tokens > 0 && usage.output_tokens > 0, JSON.stringify(usage));
  });

  test("OpenAIEmbeddings with its default encoding (base64)", async () => {
    const embeddings = new OpenAIEmbeddings({ model: 'mistral-embed', apiKey: key, configuration: { baseURL: `${h.url}/mistral/v1` }, maxRetries: 0 });
    const vectors = await embeddings.embedDocuments(['alpha', 'beta']);
    assert.deepEqual(vectors.map((v) => v.length), [1024, 1024]);
    assert.notDeepEqual(vectors[0], vectors[1]);
  });

  test('ChatMistralAI: invoke and stream', async () => {
    const chat = new ChatMistralAI({ model: 'mistral-small-latest', apiKey: key, serverURL: `${h.url}/mistral`, maxRetries: 0 });
    assert.ok(String((await chat.invoke('Say hello')).content).length > 0);
    let text = '';
    for await (const chunk of await chat.stream('Tell me a story')) text += String(chunk.content);
    assert.ok(text.length > 0);
  });

  test('ChatOpenAI: an abort mid-stream stops the provider and is audited as client_aborted, not a 200', async () => {
    const chat = new ChatOpenAI({
      model: 'mistral-small-latest',
      apiKey: key,
      configuration: { baseURL: `${h.url}/mistral/v1`, defaultHeaders: { 'x-fake-fault': 'trickle=50', 'x-controlzero-agent-id': 'langchain-abort' } },
      maxRetries: 0,
    });
    const abortedBefore = h.fake.aborted;
    const controller = new AbortController();
    let chunks = 0;
    await assert.rejects(
      (async () => {
        for await (const _ of await chat.stream('Tell me a long story about dragons', { signal: controller.signal })) {
          if (++chunks === 2) controller.abort();
        }
      })(),
    );
    await h.fake.waitForAborted(abortedBefore + 1);
    const record = await eventually(async () => (await h.audit()).find((r) => r.agent_id === 'langchain-abort'));
    assert.equal(record.client_aborted, true);
    assert.equal(record.status, 499);
  });
});
