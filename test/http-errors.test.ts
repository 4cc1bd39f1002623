/** The error catalogue's in-band stream errors, in each API's own event format. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { errorBody, ProviderError, streamErrorEvent, toolCallDenied } from '../src/http/errors.js';
import { upstreamErrorToGateway } from '../src/upstream/failures.js';
import { SseParser } from '../src/sse/parser.js';

const denial = toolCallDenied({ name: 'delete_file', policy: 'tools', rule: 'no-delete', reason: 'denied by rule no-delete', reason_code: 'RULE_MATCH' });
const parse = (text: string) => {
  const [event] = new SseParser().push(text);
  return { name: event!.event, data: JSON.parse(event!.data) };
};

test('OpenAI-compatible streams: a data event holding the error body (what the OpenAI SDKs raise)', () => {
  const { name, data } = parse(streamErrorEvent(denial, 'openai'));
  assert.equal(name, '');
  assert.deepEqual(Object.keys(data), ['error']);
  assert.equal(data.error.code, 'tool_call_denied');
  assert.equal(data.error.tool, 'delete_file');
});

test("Responses streams: the API's error event, carrying the error body too", () => {
  const { name, data } = parse(streamErrorEvent(denial, 'openai-responses'));
  assert.equal(name, 'error');
  assert.equal(data.type, 'error');
  assert.equal(data.code, 'tool_call_denied');
  assert.match(data.message, /delete_file/);
  assert.equal(data.param, null);
  assert.equal(data.error.rule, 'no-delete');
});

test("Anthropic and Mistral Conversations streams: their own error events", () => {
  const anthropic = parse(streamErrorEvent(denial, 'anthropic'));
  assert.equal(anthropic.name, 'error');
  assert.equal(anthropic.data.type, 'error');
  assert.equal(anthropic.data.error.type, 'permission_error');
  const mistral = parse(streamErrorEvent(denial, 'mistral-conversations'));
  assert.equal(mistral.name, 'conversation.response.error');
  assert.equal(mistral.data.type, 'conversation.response.error');
  assert.equal(mistral.data.code, 403);
  assert.match(mistral.data.message, /delete_file/);
});

test('the Mistral SDK stream form: a completion chunk with finish_reason "error" carrying the error body, then [DONE]', () => {
  const events = new SseParser().push(streamErrorEvent(denial, 'mistral-chunk', 'mistral-small-latest'));
  assert.equal(events.length, 2);
  const chunk = JSON.parse(events[0]!.data);
  assert.equal(chunk.object, 'chat.completion.chunk');
  assert.equal(chunk.model, 'mistral-small-latest');
  assert.deepEqual(chunk.choices, [{ index: 0, delta: { content: '' }, finish_reason: 'error' }]);
  assert.equal(chunk.error.code, 'tool_call_denied');
  assert.match(chunk.message, /delete_file/);
  assert.equal(events[1]!.data, '[DONE]');
});

test("a provider's 4xx keeps its body; only what each client reads and lacks is added", () => {
  const detail = [{ type: 'extra_forbidden', loc: ['body', 'n'], msg: 'Extra inputs are not permitted', input: 1 }];
  const mistralBody = { object: 'error', message: { detail }, type: 'invalid_request_error', param: null, code: null };
  const err = upstreamErrorToGateway('mistral', 422, JSON.stringify(mistralBody));
  assert.ok(err instanceof ProviderError);
  const body = errorBody(err, 'mistral') as Record<string, any>;
  for (const [k, v] of Object.entries(mistralBody)) assert.deepEqual(body[k], v, k);
  assert.deepEqual(body.detail, detail); // where the Mistral SDK's HTTPValidationError reads it
  assert.equal(body.error.type, 'invalid_request_error'); // what OpenAI clients read
  assert.match(body.error.message, /Extra inputs are not permitted/);
  assert.equal(body.error.provider, 'mistral');

  const openaiBody = { error: { message: 'bad tool', type: 'invalid_request_error', code: 'bad_tool', param: 'tools' } };
  const openaiErr = upstreamErrorToGateway('openai', 400, JSON.stringify(openaiBody));
  assert.deepEqual(errorBody(openaiErr, 'openai'), { error: { provider: 'openai', upstream_status: 400, ...openaiBody.error } });

  // The provider rejecting the gateway's own key is the gateway's error to tell, not the provider's body.
  const auth = upstreamErrorToGateway('mistral', 401, '{"detail":"Unauthorized"}');
  assert.equal(auth instanceof ProviderError, false);
  assert.equal(auth.status, 502);
  // Templated endpoints do not speak the vendor's API: their errors stay the gateway's.
  assert.equal(upstreamErrorToGateway('mistral', 422, JSON.stringify(mistralBody), { keepBody: false }) instanceof ProviderError, false);
});
