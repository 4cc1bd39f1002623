/**
 * Templated endpoints are built from the provider proxy's stages: PII actions apply to them, prompt conditions see
 * text parts, and errors and audit reason codes are the proxy's own.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startFakeMistral, type FakeMistral } from '../src/fake-mistral/server.js';
import { llmEndpoint, startEndpointsHarness, type EndpointsHarness } from './support/endpoints-harness.js';
import { eventually, UPSTREAM_KEY } from './support/harness.js';

const SECRET = 'Mail jane.doe@corp.com the card 4111 1111 1111 1111';

async function setup(fake: FakeMistral, env: Record<string, string>): Promise<{ h: EndpointsHarness; key: string }> {
  const h = await startEndpointsHarness(
    {
      version: 3,
      endpoints: [llmEndpoint('/ask', fake.url, '/v1/chat/completions', 'mistral', 'v1', { credentials: UPSTREAM_KEY, variables: { model: 'mistral-small-latest' } })],
    },
    {
      CZ_GATEWAY_MISTRAL_ENABLED: 'true',
      CZ_GATEWAY_MISTRAL_API_KEY: UPSTREAM_KEY,
      CZ_GATEWAY_MISTRAL_BASE_URL: fake.url,
      ...env,
    },
  );
  return { h, key: await h.createKey('endpoints') };
}

const recordOf = (h: EndpointsHarness, id: string | null) => eventually(async () => (await h.audit()).find((r) => r.id === id));
const sentContents = (fake: FakeMistral) => JSON.stringify((fake.requests.at(-1)?.body as { messages?: unknown })?.messages);

let fake: FakeMistral;
before(async () => {
  fake = await startFakeMistral({ apiKey: UPSTREAM_KEY, record: true });
});
after(() => fake.close());

describe('CZ_GATEWAY_PII_ACTION=block', () => {
  let s: Awaited<ReturnType<typeof setup>>;
  before(async () => {
    s = await setup(fake, { CZ_GATEWAY_PII_ACTION: 'block' });
  });
  after(() => s.h.close());

  for (const [what, body] of [
    ['contents as a string', { instructions: 'Be brief', contents: SECRET }],
    ['contents as text parts', { contents: [{ type: 'text', text: 'Hello' }, { type: 'text', text: SECRET }] }],
    ['instructions as text parts', { instructions: [{ type: 'text', text: SECRET }], contents: 'Hello' }],
  ] as const) {
    test(`${what}: refused before the vendor sees it, audited as the proxy audits it`, async () => {
      fake.requests.length = 0;
      const res = await s.h.post('/ask', body, { authorization: `Bearer ${s.key}` });
      assert.equal(res.status, 403);
      assert.equal(res.body.error.code, 'dlp_blocked');
      assert.equal(res.body.error.reason_code, 'DLP_BLOCKED');
      assert.deepEqual(Object.keys(res.body.error.detectors).sort(), ['credit_card', 'email']);
      assert.equal(fake.requests.length, 0);
      const record = await recordOf(s.h, res.headers.get('x-tollgate-request-id'));
      assert.equal(record.decision, 'deny');
      assert.equal(record.reason_code, 'DLP_BLOCKED');
      assert.equal(record.status, 403);
      assert.equal(record.route, '/ask');
    });
  }

  test('the proxy refuses the same prompt with the same error and reason code', async () => {
    const res = await s.h.post('/mistral/v1/chat/completions', { model: 'mistral-small-latest', messages: [{ role: 'user', content: SECRET }] }, { authorization: `Bearer ${s.key}` });
    assert.equal(res.status, 403);
    assert.equal(res.body.error.code, 'dlp_blocked');
    assert.equal((await recordOf(s.h, res.headers.get('x-tollgate-request-id'))).reason_code, 'DLP_BLOCKED');
  });
});

describe('CZ_GATEWAY_PII_ACTION=mask', () => {
  let s: Awaited<ReturnType<typeof setup>>;
  before(async () => {
    s = await setup(fake, { CZ_GATEWAY_PII_ACTION: 'mask' });
  });
  after(() => s.h.close());

  test('the vendor receives the masked text; the audit names the detectors, never the text', async () => {
    fake.requests.length = 0;
    const res = await s.h.post('/ask', { instructions: 'Be brief', contents: SECRET }, { authorization: `Bearer ${s.key}` });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const sent = sentContents(fake);
    assert.match(sent, /\[REDACTED-EMAIL\]/);
    assert.match(sent, /\[REDACTED-CREDIT_CARD\]/);
    assert.doesNotMatch(sent, /jane\.doe|4111/);
    const record = await recordOf(s.h, res.headers.get('x-tollgate-request-id'));
    assert.deepEqual(record.details.pii, { action: 'mask', detectors: { email: 1, credit_card: 1 } });
    assert.doesNotMatch(JSON.stringify(record), /jane\.doe/);
  });
});

describe('policies and errors, the same as on the proxy', () => {
  let s: Awaited<ReturnType<typeof setup>>;
  before(async () => {
    s = await setup(fake, {});
    await s.h.createPolicy({
      name: 'endpoint-rules',
      rules: [
        { id: 'all', effect: 'allow', action: '*', resource: '*' },
        { id: 'no-zebra', effect: 'deny', action: 'llm:chat.completions', resource: '*', conditions: { prompt_contains: 'project zebra' } },
      ],
    });
  });
  after(() => s.h.close());

  test('prompt conditions see text parts of contents and instructions', async () => {
    for (const body of [
      { contents: [{ type: 'text', text: 'Tell me about Project Zebra' }] },
      { instructions: [{ type: 'text', text: 'You know project zebra' }], contents: 'Hi' },
      { contents: ['Hi', 'project zebra please'] },
    ]) {
      fake.requests.length = 0;
      const res = await s.h.post('/ask', body, { authorization: `Bearer ${s.key}` });
      assert.equal(res.status, 403, JSON.stringify(body));
      assert.equal(res.body.error.code, 'policy_denied');
      assert.equal(res.body.error.rule, 'no-zebra');
      assert.equal(fake.requests.length, 0);
    }
    const allowed = await s.h.post('/ask', { contents: [{ type: 'text', text: 'Tell me about horses' }] }, { authorization: `Bearer ${s.key}` });
    assert.equal(allowed.status, 200, JSON.stringify(allowed.body));
  });

  test('a deny, a missing key and a bad key: same status, code and audit reason on both paths', async () => {
    const proxyBody = (content: string) => ({ model: 'mistral-small-latest', messages: [{ role: 'user', content }] });
    const cases: { endpoint: unknown; proxy: unknown; headers: Record<string, string> }[] = [
      { endpoint: { contents: 'project zebra' }, proxy: proxyBody('project zebra'), headers: { authorization: `Bearer ${s.key}` } },
      { endpoint: { contents: 'hi' }, proxy: proxyBody('hi'), headers: {} },
      { endpoint: { contents: 'hi' }, proxy: proxyBody('hi'), headers: { authorization: 'Bearer cz_live_not_a_real_key_0000000000000' } },
    ];
    for (const c of cases) {
      const viaEndpoint = await s.h.post('/ask', c.endpoint, c.headers);
      const viaProxy = await s.h.post('/mistral/v1/chat/completions', c.proxy, c.headers);
      assert.equal(viaEndpoint.status, viaProxy.status);
      assert.equal(viaEndpoint.body.error.code, viaProxy.body.error.code);
      assert.equal(viaEndpoint.body.error.type, viaProxy.body.error.type);
      const [a, b] = await Promise.all([recordOf(s.h, viaEndpoint.headers.get('x-tollgate-request-id')), recordOf(s.h, viaProxy.headers.get('x-tollgate-request-id'))]);
      assert.equal(a.reason_code, b.reason_code, `${viaEndpoint.body.error.code}`);
      assert.equal(a.decision, b.decision);
      assert.equal(a.status, b.status);
    }
  });
});
