/**
 * Templated endpoints govern the tool calls in the vendor's answer before any template sees them (a custom output
 * template may pass them on), and refuse an answer they cannot read.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { startFakeMistral, type FakeMistral } from '../src/fake-mistral/server.js';
import { llmEndpoint, startEndpointsHarness, type EndpointsHarness } from './support/endpoints-harness.js';
import { eventually, UPSTREAM_KEY } from './support/harness.js';

const TOOL_INPUT =
  '{"model": {{ .variables.model | toJson }}, "tool_choice": "any", ' +
  '"messages": [{"role": "user", "content": {{ .req_body.contents | toJson }}}], ' +
  '"tools": [{"type": "function", "function": {"name": {{ .req_body.tool | toJson }}, "parameters": {"type": "object", "properties": {"path": {"type": "string"}}, "required": ["path"]}}}]}';
const TOOL_OUTPUT =
  '{"calls": {{ (index .resp_body.choices 0).message.tool_calls | toJson }}, "content": {{ (index .resp_body.choices 0).message.content | toJson }}}';

const POLICY = {
  name: 'endpoint-tools',
  rules: [
    { id: 'all', effect: 'allow', action: '*', resource: '*' },
    { id: 'no-delete', effect: 'deny', action: 'tool:call', resource: '*/tools/delete_file' },
  ],
};

let fake: FakeMistral;
let garbage: Server;
let garbageUrl: string;
before(async () => {
  fake = await startFakeMistral({ apiKey: UPSTREAM_KEY, record: true });
  garbage = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"choices": [{"message": {"tool_calls": [{"function": {"name": "delete_file"');
  });
  await new Promise<void>((resolve) => garbage.listen(0, '127.0.0.1', resolve));
  garbageUrl = `http://127.0.0.1:${(garbage.address() as AddressInfo).port}`;
});
after(async () => {
  await fake.close();
  await new Promise((resolve) => garbage.close(resolve));
});

async function setup(denyMode: string): Promise<{ h: EndpointsHarness; key: string }> {
  const settings = { credentials: UPSTREAM_KEY, input_template: 'tools-input.tmpl', output_template: 'tools-output.tmpl', variables: { model: 'mistral-small-latest' } };
  const h = await startEndpointsHarness(
    {
      version: 3,
      endpoints: [
        llmEndpoint('/tools', fake.url, '/v1/chat/completions', 'mistral', 'v1', settings),
        llmEndpoint('/garbage', garbageUrl, '/v1/chat/completions', 'mistral', 'v1', { credentials: UPSTREAM_KEY, variables: { model: 'mistral-small-latest' } }),
      ],
    },
    { CZ_GATEWAY_TOOL_DENY_MODE: denyMode, CZ_GATEWAY_DENY_DETAIL: 'full' },
    { 'tools-input.tmpl': TOOL_INPUT, 'tools-output.tmpl': TOOL_OUTPUT },
  );
  await h.createPolicy(POLICY);
  return { h, key: await h.createKey('endpoint-tools') };
}

const recordOf = (h: EndpointsHarness, id: string | null) => eventually(async () => (await h.audit()).find((r) => r.id === id));

for (const mode of ['replace', 'strip', 'error'] as const) {
  describe(`CZ_GATEWAY_TOOL_DENY_MODE=${mode}`, () => {
    let s: Awaited<ReturnType<typeof setup>>;
    before(async () => {
      s = await setup(mode);
    });
    after(() => s.h.close());

    test('an allowed call reaches the output template as the vendor sent it', async () => {
      const res = await s.h.post('/tools', { contents: 'Read my notes', tool: 'read_file' }, { authorization: `Bearer ${s.key}` });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal(res.body.calls[0].function.name, 'read_file');
      const record = await recordOf(s.h, res.headers.get('x-tollgate-request-id'));
      assert.deepEqual(record.details.tool_calls.map((v: any) => `${v.name}:${v.decision}`), ['read_file:allow']);
    });

    test('a denied call never reaches the template, and the audit says which rule denied it', async () => {
      const res = await s.h.post('/tools', { contents: 'Clean up', tool: 'Delete_File' }, { authorization: `Bearer ${s.key}` });
      assert.doesNotMatch(JSON.stringify(res.body.calls ?? null), /delete_file/i);
      if (mode === 'error') {
        assert.equal(res.status, 403);
        assert.equal(res.body.error.code, 'tool_call_denied');
        assert.equal(res.body.error.rule, 'no-delete');
      } else {
        assert.equal(res.status, 200, JSON.stringify(res.body));
        assert.equal(res.body.calls, null);
        if (mode === 'replace') assert.match(res.body.content, /\[tollgate\] Tool call "Delete_File" was denied by policy "endpoint-tools" \(rule no-delete\)/);
        else assert.doesNotMatch(String(res.body.content), /tollgate/);
      }
      const record = await recordOf(s.h, res.headers.get('x-tollgate-request-id'));
      assert.deepEqual(
        record.details.tool_calls.map((v: any) => [v.name, v.decision, v.rule]),
        [['Delete_File', 'deny', 'no-delete']],
      );
      if (mode === 'error') assert.equal(record.decision, 'deny');
    });
  });
}

test('a vendor answer that is not JSON is a 502 naming the vendor, and audited', async () => {
  const s = await setup('replace');
  try {
    const res = await s.h.post('/garbage', { contents: 'hi' }, { authorization: `Bearer ${s.key}` });
    assert.equal(res.status, 502);
    assert.equal(res.body.error.code, 'upstream_invalid_response');
    assert.match(res.body.error.message, /Provider mistral answered with invalid JSON/);
    const record = await recordOf(s.h, res.headers.get('x-tollgate-request-id'));
    assert.equal(record.status, 502);
  } finally {
    await s.h.close();
  }
});
