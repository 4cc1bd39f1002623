/**
 * Provider-parameter compatibility: the table (pure), its config-file overrides, and end to end with the official
 * openai SDK in front of the Mistral fake, which rejects unknown fields with 422 as Mistral does.
 */
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import { ConfigError, loadConfig } from '../src/config/config.js';
import { BUILTIN_PROVIDERS } from '../src/config/providers.js';
import { adaptParameters, ParameterConflict, parameterTable } from '../src/translators/provider-parameters.js';
import { eventually, startHarness, type Harness } from './support/harness.js';

const mistral = BUILTIN_PROVIDERS.mistral!.parameters;

test('drop, rename and emulate change the body and say what they did; absent fields are left alone', () => {
  const body: Record<string, unknown> = { model: 'm', stream: true, stream_options: { include_usage: true }, max_completion_tokens: 64, seed: 7, user: 'u-1', temperature: 0 };
  assert.deepEqual(adaptParameters(body, mistral), [
    { field: 'stream_options', action: 'emulate' },
    { field: 'max_completion_tokens', action: 'rename', to: 'max_tokens' },
    { field: 'seed', action: 'rename', to: 'random_seed' },
    { field: 'user', action: 'drop' },
  ]);
  assert.deepEqual(body, { model: 'm', stream: true, max_tokens: 64, random_seed: 7, temperature: 0 });
  const plain = { model: 'm', max_tokens: 5 };
  assert.deepEqual(adaptParameters(plain, mistral), []);
  assert.deepEqual(plain, { model: 'm', max_tokens: 5 });
});

test('a rename onto a field the client also sent is refused, naming both (no silent choice between two limits)', () => {
  assert.throws(
    () => adaptParameters({ max_tokens: 10, max_completion_tokens: 100_000 }, mistral),
    (e: any) => e instanceof ParameterConflict && e.field === 'max_completion_tokens' && /'max_completion_tokens' and 'max_tokens'/.test(e.message),
  );
});

test('config overrides: keep removes a default, drop / rename add one, emulate only what the gateway can emulate', () => {
  const problems: string[] = [];
  const table = parameterTable(mistral, { user: 'keep', logprobs: 'drop', top_logprobs: { rename: 'x_top' } }, 'f.json: providers.mistral.parameters', problems);
  assert.deepEqual(problems, []);
  assert.equal(table.user, undefined);
  assert.deepEqual(table.logprobs, { action: 'drop' });
  assert.deepEqual(table.top_logprobs, { action: 'rename', to: 'x_top' });
  assert.deepEqual(table.stream_options, { action: 'emulate' });
  parameterTable(mistral, { logit_bias: 'emulate' }, 'f.json: providers.mistral.parameters', problems);
  assert.deepEqual(problems, ['f.json: providers.mistral.parameters.logit_bias: the gateway can emulate only stream_options; use "drop", "keep" or {"rename": "..."}']);
});

test('the config file sets a provider table; a bad entry stops the gateway naming it', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'tollgate-params-'));
  const file = path.join(dir, 'tollgate.json');
  await writeFile(file, JSON.stringify({ providers: { mistral: { base_url: 'https://api.mistral.ai', api_key: 'k', parameters: { user: 'keep', n: 'drop' } } } }));
  const config = await loadConfig({ CZ_GATEWAY_CONFIG: file, CZ_GATEWAY_DATA_DIR: dir });
  const table = config.providers.get('mistral')!.parameters;
  assert.equal(table.user, undefined);
  assert.deepEqual(table.n, { action: 'drop' });
  assert.deepEqual(table.seed, { action: 'rename', to: 'random_seed' });
  await writeFile(file, JSON.stringify({ providers: { acme: { base_url: 'https://acme.example', api_key: 'k', parameters: { seed: 'emulate', user: { rename: '' } } } } }));
  await assert.rejects(loadConfig({ CZ_GATEWAY_CONFIG: file, CZ_GATEWAY_DATA_DIR: dir }), (e: unknown) => {
    assert.ok(e instanceof ConfigError);
    assert.match(e.message, /providers\.acme\.parameters\.user/);
    return true;
  });
  await writeFile(file, JSON.stringify({ providers: { acme: { base_url: 'https://acme.example', api_key: 'k', parameters: { seed: 'emulate' } } } }));
  await assert.rejects(loadConfig({ CZ_GATEWAY_CONFIG: file, CZ_GATEWAY_DATA_DIR: dir }), /providers\.acme\.parameters\.seed: the gateway can emulate only stream_options/);
});

describe('through the gateway, with the openai SDK and the strict Mistral fake', () => {
  let h: Harness;
  let openai: OpenAI;
  before(async () => {
    h = await startHarness();
    openai = new OpenAI({ baseURL: `${h.url}/mistral/v1`, apiKey: (await h.createKey('params')).key, maxRetries: 0 });
  });
  after(() => h.close());
  const lastSent = () => h.fake.requests.at(-1)!.body as Record<string, unknown>;

  test("stream with stream_options.include_usage (the SDK's documented way to get usage): streams, and the usage arrives", async () => {
    const stream = await openai.chat.completions.create({
      model: 'mistral-small-latest',
      messages: [{ role: 'user', content: 'Tell me a story' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let usage: OpenAI.CompletionUsage | null | undefined;
    let id = '';
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      if (chunk.usage) usage = chunk.usage;
      id = chunk.id;
    }
    assert.ok(text.length > 0);
    assert.ok(usage && usage.prompt_tokens > 0 && usage.completion_tokens > 0 && usage.total_tokens === usage.prompt_tokens + usage.completion_tokens);
    assert.ok(id);
    assert.equal('stream_options' in lastSent(), false);
    const record = await eventually(async () => (await h.audit()).find((r) => r.details?.adapted));
    assert.deepEqual(record.details.adapted, [{ field: 'stream_options', action: 'emulate' }]);
    assert.equal(record.status, 200);
    assert.equal(record.completion_tokens, usage.completion_tokens);
  });

  test('max_completion_tokens, seed and user: Mistral is sent max_tokens and random_seed, and no user', async () => {
    const res = await openai.chat.completions.create({ model: 'mistral-small-latest', messages: [{ role: 'user', content: 'hi' }], max_completion_tokens: 20, seed: 42, user: 'end-user-7' });
    assert.ok(res.choices[0]!.message.content);
    const sent = lastSent();
    assert.equal(sent.max_tokens, 20);
    assert.equal(sent.random_seed, 42);
    assert.equal('user' in sent || 'seed' in sent || 'max_completion_tokens' in sent, false);
  });

  test('both names of one limit: a 400 naming the field, audited, nothing sent upstream', async () => {
    const before = h.fake.requests.length;
    const err = await openai.chat.completions
      .create({ model: 'mistral-small-latest', messages: [{ role: 'user', content: 'hi' }], max_tokens: 10, max_completion_tokens: 100_000 })
      .then(() => assert.fail('expected a 400'), (e: unknown) => e);
    assert.ok(err instanceof OpenAI.BadRequestError);
    assert.equal(err.param, 'max_completion_tokens');
    assert.equal(h.fake.requests.length, before);
    await eventually(async () => (await h.audit()).find((r) => r.status === 400 && /max_completion_tokens/.test(r.error_message ?? '')));
  });

  test("embeddings with the SDK's default encoding (base64) come back as the same numbers as float", async () => {
    const b64 = await openai.embeddings.create({ model: 'mistral-embed', input: 'alpha' });
    const floats = await openai.embeddings.create({ model: 'mistral-embed', input: 'alpha', encoding_format: 'float' });
    assert.equal(b64.data[0]!.embedding.length, 1024);
    assert.deepEqual(b64.data[0]!.embedding, Array.from(new Float32Array(floats.data[0]!.embedding)));
  });
});
