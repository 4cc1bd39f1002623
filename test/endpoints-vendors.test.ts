/** Templated endpoints for the sibling ai/llm vendors (OpenAI Responses, Anthropic, Gemini) against their fakes. */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { estimateTokens } from '../src/fake-mistral/tokens.js';
import { startFakeVendor, type FakeVendorServer } from '../src/fake-vendors/server.js';
import { llmEndpoint, startEndpointsHarness, type EndpointsHarness } from './support/endpoints-harness.js';
import { eventually } from './support/harness.js';

const KEY = 'vendor-secret-0123456789';
const SEED_BODY = { instructions: 'Act as a 1000 dollar consultant', contents: 'Tell me a consultant joke' };
const PROMPT = SEED_BODY.instructions + SEED_BODY.contents;

let openai: FakeVendorServer;
let anthropic: FakeVendorServer;
let gemini: FakeVendorServer;
let h: EndpointsHarness;
let key: string;

before(async () => {
  [openai, anthropic, gemini] = await Promise.all([
    startFakeVendor('openai', { apiKey: KEY, record: true }),
    startFakeVendor('anthropic', { apiKey: KEY, record: true }),
    startFakeVendor('gemini', { apiKey: KEY, record: true }),
  ]);
  h = await startEndpointsHarness({
    version: 3,
    endpoints: [
      llmEndpoint('/openai', openai.url, '/v1/responses', 'openai', 'v1', {
        credentials: KEY,
        variables: { model: 'gpt-4.1-mini', max_output_tokens: 200, temperature: 0.3, truncation: 'auto' },
      }),
      llmEndpoint('/anthropic', anthropic.url, '/v1/messages', 'anthropic', 'v1', {
        credentials: KEY,
        variables: { model: 'claude-sonnet-4-5', top_k: 5, stop_sequences: ['END'] },
      }),
      llmEndpoint('/gemini', gemini.url, '/v1beta/models/gemini-2.5-flash:generateContent', 'gemini', 'v1beta', {
        credentials: KEY,
        variables: { candidate_count: 2, temperature: 0.5 },
      }),
      llmEndpoint('/anthropic-bad-key', anthropic.url, '/v1/messages', 'anthropic', 'v1', { credentials: 'wrong', variables: { model: 'claude-sonnet-4-5' } }),
    ],
  });
  key = await h.createKey('vendors');
});
after(async () => {
  await h.close();
  await Promise.all([openai, anthropic, gemini].map((f) => f.close()));
});

const auth = () => ({ authorization: `Bearer ${key}` });

async function auditOf(id: string | null) {
  return eventually(async () => (await h.audit()).find((r) => r.id === id));
}

test('openai v1: Responses API payload from the variables, unified answer and usage', async () => {
  const res = await h.post('/openai', SEED_BODY, auth());
  assert.equal(res.status, 200, JSON.stringify(res.body));
  const sent = openai.requests.at(-1)!;
  assert.equal(sent.path, '/v1/responses');
  assert.equal(sent.headers.authorization, `Bearer ${KEY}`);
  assert.deepEqual(sent.body, {
    model: 'gpt-4.1-mini',
    temperature: 0.3,
    max_output_tokens: 200,
    truncation: 'auto',
    instructions: SEED_BODY.instructions,
    stream: false,
    input: SEED_BODY.contents,
  });
  const text = `Answer 1 to: ${PROMPT}`;
  assert.deepEqual(res.body, { ai_gateway_response: [{ contents: [text] }], usage: String(estimateTokens(PROMPT) + estimateTokens(text)) });
  const record = await auditOf(res.headers.get('x-tollgate-request-id'));
  assert.equal(record.provider, 'openai');
  assert.equal(record.resource, 'openai/gpt-4.1-mini');
  assert.equal(record.total_tokens, Number(res.body.usage));
});

test('anthropic v1: max_tokens defaults to 1024, system prompt, x-api-key auth', async () => {
  const res = await h.post('/anthropic', SEED_BODY, auth());
  assert.equal(res.status, 200, JSON.stringify(res.body));
  const sent = anthropic.requests.at(-1)!;
  assert.equal(sent.headers['x-api-key'], KEY);
  assert.equal(sent.headers['anthropic-version'], '2023-06-01');
  assert.equal(sent.headers.authorization, undefined);
  assert.deepEqual(sent.body, {
    model: 'claude-sonnet-4-5',
    max_tokens: 1024,
    top_k: 5,
    stop_sequences: ['END'],
    system: SEED_BODY.instructions,
    messages: [{ role: 'user', content: SEED_BODY.contents }],
  });
  const text = `Answer 1 to: ${PROMPT}`;
  assert.deepEqual(res.body, { ai_gateway_response: [{ contents: [text] }], usage: String(estimateTokens(PROMPT) + estimateTokens(text)) });
  const record = await auditOf(res.headers.get('x-tollgate-request-id'));
  assert.equal(record.resource, 'anthropic/claude-sonnet-4-5');
  assert.equal(record.prompt_tokens, estimateTokens(PROMPT));
});

test('gemini v1beta: model from the url_pattern, generationConfig from the variables, one content per candidate', async () => {
  const res = await h.post('/gemini', SEED_BODY, auth());
  assert.equal(res.status, 200, JSON.stringify(res.body));
  const sent = gemini.requests.at(-1)!;
  assert.equal(sent.path, '/v1beta/models/gemini-2.5-flash:generateContent');
  assert.equal(sent.headers['x-goog-api-key'], KEY);
  assert.deepEqual(sent.body, {
    systemInstruction: { parts: [{ text: SEED_BODY.instructions }] },
    contents: [{ role: 'user', parts: [{ text: SEED_BODY.contents }] }],
    generationConfig: { candidateCount: 2, temperature: 0.5 },
  });
  const prompt = PROMPT;
  const texts = [`Answer 1 to: ${prompt}`, `Answer 2 to: ${prompt}`];
  const usage = estimateTokens(prompt) + texts.reduce((n, t) => n + estimateTokens(t), 0);
  assert.deepEqual(res.body, { ai_gateway_response: [{ contents: texts }], usage: String(usage) });
  const record = await auditOf(res.headers.get('x-tollgate-request-id'));
  assert.equal(record.provider, 'gemini');
  assert.equal(record.resource, 'gemini/gemini-2.5-flash');
});

test("a vendor's error keeps its message; a rejected credential is a 502, as on the proxy", async () => {
  const res = await h.post('/anthropic-bad-key', SEED_BODY, auth());
  assert.equal(res.status, 502);
  assert.equal(res.body.error.code, 'upstream_authentication_failed');
  assert.match(res.body.error.message, /Provider anthropic rejected the gateway's provider credentials \(401: invalid x-api-key\)/);
  const record = await auditOf(res.headers.get('x-tollgate-request-id'));
  assert.equal(record.status, 502);
});
