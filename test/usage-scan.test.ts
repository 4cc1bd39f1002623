import assert from 'node:assert/strict';
import { test } from 'node:test';
import { findUsage, scanUsage } from '../src/audit/usage-scan.js';

const usage = { prompt_tokens: 12, completion_tokens: 30, total_tokens: 42 };

test('finds usage after long choices, including nested details', () => {
  const body = { id: 'x', choices: [{ message: { content: 'a "quoted" } { brace\\ text' } }], usage: { ...usage, prompt_tokens_details: { cached_tokens: 0 } } };
  assert.deepEqual(scanUsage(Buffer.from(JSON.stringify(body))), usage);
  assert.deepEqual(scanUsage(Buffer.from(JSON.stringify(body, null, 2))), usage);
});

test('a string value "usage" is not mistaken for the key', () => {
  const body = { usage, choices: [{ message: { content: 'usage' } }], note: 'usage' };
  assert.deepEqual(scanUsage(Buffer.from(JSON.stringify(body))), usage);
});

test('multi-byte text before usage', () => {
  assert.deepEqual(scanUsage(Buffer.from(JSON.stringify({ choices: [{ message: { content: 'héllo ✓ 👋' } }], usage }))), usage);
});

test('no usage, null usage, and non-JSON give null', () => {
  assert.equal(scanUsage(Buffer.from('{"id":"x"}')), null);
  assert.equal(scanUsage(Buffer.from('{"usage":null}')), null);
  assert.equal(scanUsage(Buffer.from('not json "usage": {')), null);
});

test('findUsage reads the final usage of a run of stream events, and ignores usage: null', () => {
  const events = [
    'data: {"choices":[{"delta":{"content":"a"}}],"usage":null}\n\n',
    'data: {"choices":[{"delta":{"content":"b"}}],"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}}\n\n',
    'data: [DONE]\n\n',
  ].join('');
  assert.deepEqual(findUsage(Buffer.from(events)), { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 });
  assert.equal(findUsage(Buffer.from('data: {"usage":null}\n\n')), null);
});
