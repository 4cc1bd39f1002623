/** The error catalogue's in-band stream errors, in each API's own event format. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { streamErrorEvent, toolCallDenied } from '../src/http/errors.js';
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
