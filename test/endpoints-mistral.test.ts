/** Templated Mistral endpoints (KrakenD ai/llm format) end to end, against the fake Mistral upstream. */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startFakeMistral, type FakeMistral } from '../src/fake-mistral/server.js';
import { llmEndpoint, startEndpointsHarness, type EndpointsHarness } from './support/endpoints-harness.js';
import { eventually, UPSTREAM_KEY } from './support/harness.js';

let fake: FakeMistral;
let h: EndpointsHarness;
let key: string;

const SEED_BODY = { instructions: 'Act as a 1000 dollar consultant', contents: 'Tell me a consultant joke' };

before(async () => {
  fake = await startFakeMistral({ apiKey: UPSTREAM_KEY, record: true });
  const mistral = (endpoint: string, v1: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
    llmEndpoint(endpoint, fake.url, '/v1/chat/completions', 'mistral', 'v1', { credentials: UPSTREAM_KEY, debug: false, ...v1 }, extra);
  h = await startEndpointsHarness(
    {
      version: 3,
      name: 'seed example',
      endpoints: [
        mistral('/mistral', { variables: { model: 'mistral-small-latest' } }),
        mistral('/mistral-tuned', {
          variables: { model: 'mistral-large-latest', temperature: 0.2, top_p: 0.9, max_tokens: 300, random_seed: 42, n: 2, stop: ['END'], safe_prompt: true },
        }),
        mistral('/mapped', { variables: { model: 'mistral-small-latest' } }, { backend: { mapping: { ai_gateway_response: 'my_response' } } }),
        mistral('/env-debug', { credentials: '{{ env "MISTRAL_API_KEY" }}', debug: true, variables: { model: 'mistral-small-latest' } }),
        mistral('/bad-template', { input_template: 'bad-input.tmpl', variables: { model: 'mistral-small-latest' } }),
        mistral('/wrong-credentials', { credentials: 'sk-not-the-right-one', variables: { model: 'mistral-small-latest' } }),
        mistral('/public', { variables: { model: 'mistral-small-latest' } }, { endpoint: { extra_config: { tollgate: { public: true } } } }),
        mistral(
          '/custom',
          {
            input_template: 'custom-input.tmpl',
            output_template: 'custom-output.tmpl',
            variables: { model: 'mistral-small-latest', extra_payload: { prefix: 'Q: ' } },
          },
          { endpoint: { input_headers: ['X-Team'] } },
        ),
      ],
    },
    { MISTRAL_API_KEY: UPSTREAM_KEY },
    // Comparing a float64 variable with an int literal fails at execution time, as in Go.
    {
      'bad-input.tmpl': '{"model": {{ .variables.model | toJson }}, "hot": {{ ge .variables.temperature 0 }}}',
      'custom-input.tmpl':
        '{"model": {{ .variables.model | toJson }}, "messages": [{"role": "user", "content": ' +
        '{{ printf "%s%s (team %s, lang %s, headers %d)" .variables.extra_payload.prefix .req_body.contents ' +
        '(index .req_headers "X-Team" 0) (index .req_querystring "lang" 0) (len .req_headers) | toJson }}}]}',
      'custom-output.tmpl':
        '{"status": {{ .resp_status }}, "type": {{ index .resp_headers "Content-Type" 0 | toJson }}, ' +
        '"answer": {{ (index .resp_body.choices 0).message.content | toJson }}, "asked": {{ .req_body.contents | toJson }}}',
    },
  );
  key = await h.createKey('endpoints');
});
after(async () => {
  await h.close();
  await fake.close();
});

const auth = () => ({ authorization: `Bearer ${key}` });

test("the seed's curl example: the default templates build Mistral's payload and the unified answer", async () => {
  fake.requests.length = 0;
  const res = await h.post('/mistral', SEED_BODY, auth());
  assert.equal(res.status, 200);
  assert.equal(fake.requests.length, 1);
  const sent = fake.requests[0]!;
  assert.equal(sent.path, '/v1/chat/completions');
  assert.equal(sent.headers.authorization, `Bearer ${UPSTREAM_KEY}`);
  assert.deepEqual(sent.body, {
    model: 'mistral-small-latest',
    n: 1,
    stream: false,
    stop: null,
    safe_prompt: false,
    messages: [
      { role: 'system', content: 'Act as a 1000 dollar consultant' },
      { role: 'user', content: 'Tell me a consultant joke' },
    ],
  });
  assert.deepEqual(Object.keys(res.body), ['ai_gateway_response', 'usage']);
  assert.equal(res.body.ai_gateway_response.length, 1);
  assert.deepEqual(Object.keys(res.body.ai_gateway_response[0]), ['contents']);
  const [content] = res.body.ai_gateway_response[0].contents;
  assert.equal(typeof content, 'string');
  assert.ok(content.length > 0);
  assert.match(res.body.usage, /^\d+$/);

  const id = res.headers.get('x-tollgate-request-id');
  const record = await eventually(async () => (await h.audit()).find((r) => r.id === id));
  assert.equal(record.provider, 'mistral');
  assert.equal(record.route, '/mistral');
  assert.equal(record.action, 'llm:chat.completions');
  assert.equal(record.resource, 'mistral/mistral-small-latest');
  assert.equal(record.model, 'mistral-small-latest');
  assert.equal(record.status, 200);
  assert.equal(record.decision, 'allow');
  assert.equal(String(record.total_tokens), res.body.usage);
});

test('without instructions there is no system message; set variables all reach the payload', async () => {
  fake.requests.length = 0;
  const res = await h.post('/mistral-tuned', { contents: 'Hi' }, auth());
  assert.equal(res.status, 200);
  assert.deepEqual(fake.requests[0]!.body, {
    model: 'mistral-large-latest',
    temperature: 0.2,
    top_p: 0.9,
    max_tokens: 300,
    random_seed: 42,
    n: 2,
    stream: false,
    stop: ['END'],
    safe_prompt: true,
    messages: [{ role: 'user', content: 'Hi' }],
  });
  assert.equal(res.body.ai_gateway_response[0].contents.length, 2);
});

test('custom templates see request headers (input_headers only), query string, extra_payload and the response status and headers', async () => {
  fake.requests.length = 0;
  const res = await fetch(`${h.url}/custom?lang=fr&other=1`, {
    method: 'POST',
    headers: { ...auth(), 'content-type': 'application/json', 'x-team': 'ml', 'x-other': 'hidden' },
    body: JSON.stringify({ contents: 'Why?' }),
  });
  const body = (await res.json()) as any;
  assert.equal(res.status, 200, JSON.stringify(body));
  assert.deepEqual(fake.requests[0]!.body, { model: 'mistral-small-latest', messages: [{ role: 'user', content: 'Q: Why? (team ml, lang fr, headers 1)' }] });
  assert.equal(body.status, 200);
  assert.equal(body.type, 'application/json');
  assert.equal(typeof body.answer, 'string');
  assert.equal(body.asked, 'Why?');
});

test('mapping renames response fields', async () => {
  const res = await h.post('/mapped', SEED_BODY, auth());
  assert.equal(res.status, 200);
  assert.deepEqual(Object.keys(res.body), ['my_response', 'usage']);
  assert.equal(typeof res.body.my_response[0].contents[0], 'string');
});

test('credentials from the environment; debug logs payloads with the credentials redacted', async () => {
  fake.requests.length = 0;
  const res = await h.post('/env-debug', { contents: `my key is ${UPSTREAM_KEY}` }, auth());
  assert.equal(res.status, 200);
  assert.equal(fake.requests[0]!.headers.authorization, `Bearer ${UPSTREAM_KEY}`);
  const debug = h.logs.filter((l) => l.includes('/env-debug'));
  assert.ok(debug.some((l) => l.includes('payload sent') && l.includes('my key is [REDACTED]')));
  assert.ok(debug.some((l) => l.includes('response received') && l.includes('ai_gateway_response') === false && l.includes('choices')));
  assert.ok(h.logs.every((l) => !l.includes(UPSTREAM_KEY)));
});

test('a template execution error answers 500 and is audited', async () => {
  fake.requests.length = 0;
  const res = await h.post('/bad-template', SEED_BODY, auth());
  assert.equal(res.status, 500);
  assert.equal(res.body.error.code, 'template_error');
  assert.match(res.body.error.message, /input template failed: template: .*bad-input\.tmpl:1:\d+: .*incompatible types for comparison/);
  assert.equal(fake.requests.length, 0);
  const id = res.headers.get('x-tollgate-request-id');
  const record = await eventually(async () => (await h.audit()).find((r) => r.id === id));
  assert.equal(record.status, 500);
  assert.equal(record.route, '/bad-template');
  assert.match(record.error_message, /incompatible types/);
});

test("a vendor rejecting the endpoint's credentials is the gateway's fault: 502 naming the credentials, audited", async () => {
  const res = await h.post('/wrong-credentials', SEED_BODY, auth());
  assert.equal(res.status, 502);
  assert.equal(res.body.error.code, 'upstream_authentication_failed');
  assert.equal(res.body.error.upstream_status, 401);
  assert.equal(res.body.error.provider, 'mistral');
  assert.match(res.body.error.message, /Provider mistral rejected the gateway's provider credentials \(401: .*\); check the endpoint's credentials \(\/wrong-credentials\)/);
  const id = res.headers.get('x-tollgate-request-id');
  const record = await eventually(async () => (await h.audit()).find((r) => r.id === id));
  assert.equal(record.status, 502);
  assert.match(record.error_message, /rejected the gateway's provider credentials/);
});

test('governance: a gateway key is required, policies decide, public endpoints need no key', async () => {
  const noKey = await h.post('/mistral', SEED_BODY);
  assert.equal(noKey.status, 401);
  assert.equal(noKey.body.error.code, 'missing_api_key');

  await h.createPolicy({
    name: 'large-only',
    rules: [{ effect: 'allow', action: 'llm:chat.completions', resource: 'mistral/mistral-large-latest' }],
  });
  const denied = await h.post('/mistral', SEED_BODY, auth());
  assert.equal(denied.status, 403);
  assert.equal(denied.body.error.code, 'policy_denied');
  assert.equal(denied.body.error.reason_code, 'NO_RULE_MATCH');
  const allowed = await h.post('/mistral-tuned', SEED_BODY, auth());
  assert.equal(allowed.status, 200);

  const pub = await h.post('/public', SEED_BODY);
  assert.equal(pub.status, 403, 'public endpoints skip the key, not the policies');
  await h.createPolicy({
    name: 'public-small',
    rules: [{ effect: 'allow', action: 'llm:chat.completions', resource: 'mistral/mistral-small-latest' }],
  });
  const pubAllowed = await h.post('/public', SEED_BODY);
  assert.equal(pubAllowed.status, 200);
  assert.equal(typeof pubAllowed.body.ai_gateway_response[0].contents[0], 'string');

  const records = await h.audit();
  const deniedRecord = records.find((r: any) => r.id === denied.headers.get('x-tollgate-request-id'));
  assert.equal(deniedRecord.status, 403);
  assert.equal(deniedRecord.reason_code, 'NO_RULE_MATCH');
  const noKeyRecord = records.find((r: any) => r.id === noKey.headers.get('x-tollgate-request-id'));
  assert.equal(noKeyRecord.reason_code, 'AUTH_MISSING_API_KEY');
  assert.equal(noKeyRecord.status, 401);
  const pubRecord = records.find((r: any) => r.id === pubAllowed.headers.get('x-tollgate-request-id'));
  assert.equal(pubRecord.key_id, null);
  assert.equal(pubRecord.decision, 'allow');
  assert.equal(pubRecord.policy, 'public-small');
});

test('endpoints match exact paths: provider routes under /mistral/v1 are untouched; other methods get 405', async () => {
  const provider = await h.post('/mistral/v1/chat/completions', { model: 'x', messages: [] }, auth());
  assert.equal(provider.status, 404);
  assert.equal(provider.body.error.code, 'unknown_provider');
  const get = await fetch(`${h.url}/mistral`, { headers: auth() });
  assert.equal(get.status, 405);
  assert.equal(get.headers.get('allow'), 'POST');
  await get.text();
});

test('invalid request bodies are 400/415 and audited', async () => {
  const notJson = await h.post('/mistral', '{oops', auth());
  assert.equal(notJson.status, 400);
  assert.equal(notJson.body.error.code, 'invalid_json');
  const res = await fetch(`${h.url}/mistral`, { method: 'POST', headers: { ...auth(), 'content-type': 'text/plain' }, body: 'hi' });
  assert.equal(res.status, 415);
  await res.text();
  const records = await h.audit();
  const bad = records.find((r: any) => r.id === notJson.headers.get('x-tollgate-request-id'));
  assert.equal(bad.status, 400);
  assert.equal(bad.reason_code, 'INVALID_REQUEST');
  assert.ok(records.some((r: any) => r.id === res.headers.get('x-tollgate-request-id') && r.status === 415));
});

test('a client that goes away aborts the vendor request, and the audit says so', async () => {
  const abortedBefore = fake.aborted;
  const receivedBefore = fake.requests.length;
  fake.setFaults('latency=5000');
  try {
    const controller = new AbortController();
    const pending = fetch(`${h.url}/mistral`, {
      method: 'POST',
      headers: { ...auth(), 'content-type': 'application/json', 'x-controlzero-agent-id': 'endpoint-quitter' },
      body: JSON.stringify(SEED_BODY),
      signal: controller.signal,
    });
    // The vendor has the request (and is slow to answer) before the client gives up.
    await eventually(async () => fake.requests.length > receivedBefore);
    controller.abort();
    await assert.rejects(pending);
    await fake.waitForAborted(abortedBefore + 1, 3000);
    const record = await eventually(async () => (await h.audit()).find((r) => r.agent_id === 'endpoint-quitter'));
    assert.equal(record.status, 499);
    assert.equal(record.client_aborted, true);
  } finally {
    fake.setFaults(undefined);
  }
});

