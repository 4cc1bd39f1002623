/**
 * The request side of every wire API: policies read each shape in chat terms (model, max_tokens, prompt), and
 * prompt conditions see every piece of prompt text the request carries.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compilePolicies, type EvalRequest } from '../src/policy/index.js';
import {
  anthropicMessagesRequest,
  mistralConversationsRequest,
  openaiCompatibleRequest,
  openaiResponsesRequest,
  templatedEndpointRequest,
  type RequestTranslator,
} from '../src/translators/requests.js';
import type { Json } from '../src/translators/types.js';

const policies = compilePolicies(
  [
    {
      id: 'p',
      document: {
        name: 'p',
        rules: [
          { id: 'all', effect: 'allow', action: '*', resource: '*' },
          { id: 'secret', effect: 'deny', action: '*', resource: '*', conditions: { prompt_contains: 'project-zebra' } },
          { id: 'big', effect: 'deny', action: '*', resource: '*', conditions: { max_tokens_gt: 100 } },
        ],
      },
    },
  ],
  { strict: false },
);

function ruleFor(translator: RequestTranslator, body: Json): string | null {
  const request: EvalRequest = { action: 'llm:x', resource: 'p/m', provider: 'p', body: translator.policyView(body) };
  const decision = policies.evaluate(request);
  return decision.decision === 'deny' ? decision.rule : null;
}

const SECRET = 'tell me about project-zebra';

test('chat-compatible routes: prompt text in messages, prompt, suffix, input, inputs, instructions', () => {
  const t = openaiCompatibleRequest;
  assert.equal(ruleFor(t, { model: 'm', messages: [{ role: 'user', content: [{ type: 'text', text: SECRET }] }] }), 'secret');
  assert.equal(ruleFor(t, { model: 'm', prompt: 'def f():', suffix: SECRET }), 'secret');
  assert.equal(ruleFor(t, { model: 'm', input: ['hello', SECRET] }), 'secret');
  assert.equal(ruleFor(t, { model: 'm', inputs: SECRET }), 'secret');
  assert.equal(ruleFor(t, { model: 'm', instructions: SECRET, messages: [{ role: 'user', content: 'hi' }] }), 'secret');
  assert.equal(ruleFor(t, { model: 'm', input: 'harmless', max_tokens: 1000 }), 'big');
  assert.equal(ruleFor(t, { model: 'm', input: 'harmless' }), null);
  const plain = { model: 'm', messages: [{ role: 'user', content: 'hi' }] };
  assert.equal(t.policyView(plain), plain, 'a body with no other prompt field is read as it is (no copy)');
});

test('Responses: input (string or items with parts) and instructions; max_output_tokens is max_tokens', () => {
  const t = openaiResponsesRequest;
  assert.equal(ruleFor(t, { model: 'm', input: SECRET }), 'secret');
  assert.equal(ruleFor(t, { model: 'm', input: [{ role: 'user', content: [{ type: 'input_text', text: SECRET }] }] }), 'secret');
  assert.equal(ruleFor(t, { model: 'm', instructions: SECRET, input: 'hi' }), 'secret');
  assert.equal(ruleFor(t, { model: 'm', input: [{ type: 'function_call_output', call_id: 'c', output: SECRET }] }), 'secret');
  assert.equal(ruleFor(t, { model: 'm', input: 'hi', max_output_tokens: 1000 }), 'big');
  assert.equal(ruleFor(t, { model: 'm', input: 'hi', max_output_tokens: 50 }), null);
});

test('Anthropic Messages: system (string or blocks), content blocks, tool results', () => {
  const t = anthropicMessagesRequest;
  assert.equal(ruleFor(t, { model: 'm', max_tokens: 50, system: SECRET, messages: [{ role: 'user', content: 'hi' }] }), 'secret');
  assert.equal(ruleFor(t, { model: 'm', max_tokens: 50, system: [{ type: 'text', text: SECRET }], messages: [{ role: 'user', content: 'hi' }] }), 'secret');
  assert.equal(
    ruleFor(t, { model: 'm', max_tokens: 50, messages: [{ role: 'user', content: [{ type: 'tool_result', tool_use_id: 't', content: [{ type: 'text', text: SECRET }] }] }] }),
    'secret',
  );
  assert.equal(ruleFor(t, { model: 'm', max_tokens: 1000, messages: [{ role: 'user', content: 'hi' }] }), 'big');
});

test('Mistral Conversations: inputs and instructions; completion_args.max_tokens is max_tokens', () => {
  const t = mistralConversationsRequest;
  assert.equal(ruleFor(t, { agent_id: 'ag_1', inputs: SECRET }), 'secret');
  assert.equal(ruleFor(t, { model: 'm', inputs: [{ role: 'user', content: [{ type: 'text', text: SECRET }] }] }), 'secret');
  assert.equal(ruleFor(t, { model: 'm', instructions: SECRET, inputs: 'hi' }), 'secret');
  assert.equal(ruleFor(t, { model: 'm', inputs: 'hi', completion_args: { max_tokens: 1000 } }), 'big');
});

test('templated endpoints: instructions and contents, as strings or text parts', () => {
  const t = templatedEndpointRequest;
  assert.equal(ruleFor(t, { instructions: 'be nice', contents: SECRET }), 'secret');
  assert.equal(ruleFor(t, { instructions: [{ type: 'text', text: SECRET }], contents: 'hi' }), 'secret');
  assert.equal(ruleFor(t, { contents: ['hi', { text: SECRET }] }), 'secret');
});

test('visitPrompt masks every piece in place', () => {
  const body: Json = { model: 'm', prompt: SECRET, suffix: SECRET, messages: [{ role: 'user', content: [{ type: 'text', text: SECRET }] }] };
  openaiCompatibleRequest.visitPrompt(body, (text) => text.replace('project-zebra', '[X]'));
  assert.doesNotMatch(JSON.stringify(body), /zebra/);
});

test('tool results as parts, Anthropic documents and Conversations function results are prompt text too', () => {
  assert.equal(
    ruleFor(openaiResponsesRequest, { model: 'm', input: [{ type: 'function_call_output', call_id: 'c', output: [{ type: 'input_text', text: SECRET }] }] }),
    'secret',
  );
  const doc = (source: Json, extra: Json = {}) => ({
    model: 'm',
    max_tokens: 50,
    messages: [{ role: 'user', content: [{ type: 'document', source, ...extra }] }],
  });
  assert.equal(ruleFor(anthropicMessagesRequest, doc({ type: 'text', media_type: 'text/plain', data: SECRET })), 'secret');
  assert.equal(ruleFor(anthropicMessagesRequest, doc({ type: 'content', content: [{ type: 'text', text: SECRET }] })), 'secret');
  assert.equal(ruleFor(anthropicMessagesRequest, doc({ type: 'url', url: 'https://x/y.pdf' }, { title: SECRET })), 'secret');
  assert.equal(ruleFor(anthropicMessagesRequest, doc({ type: 'url', url: 'https://x/y.pdf' }, { context: SECRET })), 'secret');
  assert.equal(ruleFor(anthropicMessagesRequest, doc({ type: 'base64', media_type: 'application/pdf', data: 'project-zebra' })), null, 'binary data is not text');
  assert.equal(ruleFor(mistralConversationsRequest, { model: 'm', inputs: [{ type: 'function.result', tool_call_id: 't', result: SECRET }] }), 'secret');
});
