/** CZ_GATEWAY_PII_ACTION end to end: detect records detector counts, mask redacts before forwarding, block refuses. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import { ConfigError, loadConfig } from '../src/config/config.js';
import { eventually, startHarness, type Harness } from './support/harness.js';

const SECRET_PROMPT = 'Write to jane.doe@corp.com about card 4111 1111 1111 1111';
const CLEAN_PROMPT = 'Say hello';
/** Over the gateway's inline scan limit (128K characters): scanned on a PII scan thread. */
const LARGE_SECRET_PROMPT = `${'The quarterly report shows revenue grew by 12 percent while costs stayed flat. '.repeat(2500)}${SECRET_PROMPT}`;

async function setup(action?: string) {
  const h = await startHarness({ env: action ? { CZ_GATEWAY_PII_ACTION: action } : {} });
  const key = (await h.createKey('pii')).key;
  const openai = new OpenAI({ baseURL: `${h.url}/mistral/v1`, apiKey: key, maxRetries: 0 });
  return { h, openai };
}

const ask = (openai: OpenAI, content: unknown) =>
  openai.chat.completions.create({ model: 'mistral-large-latest', messages: [{ role: 'user', content: content as string }] });

async function recordFor(h: Harness, id: string): Promise<any> {
  return eventually(async () => (await h.audit()).find((r) => r.id === id));
}

describe('detect (default)', () => {
  let s: Awaited<ReturnType<typeof setup>>;
  before(async () => {
    s = await setup();
  });
  after(() => s.h.close());

  test('forwards the prompt unchanged and records detector counts, never the text', async () => {
    const res = await ask(s.openai, SECRET_PROMPT).withResponse();
    assert.equal(s.h.fake.requests.at(-1)?.body && (s.h.fake.requests.at(-1)!.body as any).messages[0].content, SECRET_PROMPT);
    const record = await recordFor(s.h, res.response.headers.get('x-tollgate-request-id')!);
    assert.deepEqual(record.details.pii, { action: 'detect', detectors: { email: 1, credit_card: 1 } });
    assert.ok(!JSON.stringify(record).includes('jane.doe'));
  });

  test('a prompt large enough for the scan thread: the same counts', async () => {
    const res = await ask(s.openai, LARGE_SECRET_PROMPT).withResponse();
    const record = await recordFor(s.h, res.response.headers.get('x-tollgate-request-id')!);
    assert.deepEqual(record.details.pii, { action: 'detect', detectors: { email: 1, credit_card: 1 } });
  });

  test('a clean prompt leaves no pii details', async () => {
    const res = await ask(s.openai, CLEAN_PROMPT).withResponse();
    const record = await recordFor(s.h, res.response.headers.get('x-tollgate-request-id')!);
    assert.equal(record.details?.pii, undefined);
  });
});

describe('mask', () => {
  let s: Awaited<ReturnType<typeof setup>>;
  before(async () => {
    s = await setup('mask');
  });
  after(() => s.h.close());

  test('the upstream receives the redacted text (string contents and text parts)', async () => {
    await ask(s.openai, SECRET_PROMPT);
    assert.equal((s.h.fake.requests.at(-1)!.body as any).messages[0].content, 'Write to [REDACTED-EMAIL] about card [REDACTED-CREDIT_CARD]');
    await ask(s.openai, [{ type: 'text', text: 'my number is +33 6 12 34 56 78' }]);
    assert.deepEqual((s.h.fake.requests.at(-1)!.body as any).messages[0].content, [{ type: 'text', text: 'my number is [REDACTED-PHONE]' }]);
  });

  test('a prompt large enough for the scan thread is redacted too', async () => {
    await ask(s.openai, LARGE_SECRET_PROMPT);
    const sent = (s.h.fake.requests.at(-1)!.body as any).messages[0].content as string;
    assert.equal(sent.length, LARGE_SECRET_PROMPT.length - SECRET_PROMPT.length + 'Write to [REDACTED-EMAIL] about card [REDACTED-CREDIT_CARD]'.length);
    assert.ok(sent.endsWith('Write to [REDACTED-EMAIL] about card [REDACTED-CREDIT_CARD]'));
  });

  test('a clean request is forwarded byte for byte', async () => {
    const raw = `{"model":"mistral-large-latest",  "messages":[{"role":"user","content":"${CLEAN_PROMPT}"}]}`;
    const key = (await s.h.createKey('raw')).key;
    const res = await fetch(`${s.h.url}/mistral/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: raw,
    });
    assert.equal(res.status, 200);
    assert.equal(s.h.fake.requests.at(-1)!.headers['content-length'], String(Buffer.byteLength(raw)));
  });
});

describe('block', () => {
  let s: Awaited<ReturnType<typeof setup>>;
  before(async () => {
    s = await setup('block');
  });
  after(() => s.h.close());

  test('403 DLP_BLOCKED; nothing reaches the upstream', async () => {
    const before = s.h.fake.requests.length;
    const err = await ask(s.openai, SECRET_PROMPT).then(
      () => assert.fail('expected a 403'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof OpenAI.PermissionDeniedError);
    assert.equal((err.error as any).reason_code, 'DLP_BLOCKED');
    assert.equal(s.h.fake.requests.length, before);
    const record = await eventually(async () => (await s.h.audit()).find((r) => r.reason_code === 'DLP_BLOCKED'));
    assert.equal(record.decision, 'deny');
    assert.equal(record.status, 403);
    assert.deepEqual(record.details.pii.detectors, { email: 1, credit_card: 1 });
    const ok = await ask(s.openai, CLEAN_PROMPT);
    assert.ok(ok.choices[0]!.message.content);
  });

  test('a prompt large enough for the scan thread is refused alike', async () => {
    const before = s.h.fake.requests.length;
    const err = await ask(s.openai, LARGE_SECRET_PROMPT).then(
      () => assert.fail('expected a 403'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof OpenAI.PermissionDeniedError);
    assert.equal((err.error as any).reason_code, 'DLP_BLOCKED');
    assert.equal(s.h.fake.requests.length, before);
  });
});

test('invalid CZ_GATEWAY_PII_ACTION / CZ_GATEWAY_TOOL_DENY_MODE values stop the gateway, naming the variable', async () => {
  await assert.rejects(loadConfig({ CZ_GATEWAY_PII_ACTION: 'redact', CZ_GATEWAY_TOOL_DENY_MODE: 'drop' }), (err: unknown) => {
    assert.ok(err instanceof ConfigError);
    assert.deepEqual(err.problems, [
      'CZ_GATEWAY_TOOL_DENY_MODE="drop": must be one of replace, error, strip',
      'CZ_GATEWAY_PII_ACTION="redact": must be one of detect, mask, block, off',
    ]);
    return true;
  });
  const defaults = await loadConfig({});
  assert.equal(defaults.piiAction, 'detect');
  assert.equal(defaults.toolDenyMode, 'replace');
});

describe('off', () => {
  let s: Awaited<ReturnType<typeof setup>>;
  before(async () => {
    s = await setup('off');
  });
  after(() => s.h.close());

  test('forwards the prompt unchanged and records nothing about PII', async () => {
    const res = await ask(s.openai, SECRET_PROMPT).withResponse();
    assert.equal((s.h.fake.requests.at(-1)!.body as any).messages[0].content, SECRET_PROMPT);
    const record = await recordFor(s.h, res.response.headers.get('x-tollgate-request-id')!);
    assert.equal(record.details?.pii, undefined);
  });

  test("a policy's own prompt_detects condition still denies", async () => {
    await s.h.createPolicy({
      name: 'no-cards',
      rules: [
        { effect: 'deny', action: 'llm:chat.completions', resource: 'mistral/*', conditions: { prompt_detects: ['credit_card'] } },
        { effect: 'allow', action: 'llm:*', resource: 'mistral/*' },
      ],
    });
    await assert.rejects(ask(s.openai, SECRET_PROMPT), (err: any) => err.status === 403);
  });
});
