/** The prompt PII scan: counts per detector, masking in message strings and text parts only. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openaiCompatibleRequest } from '../src/translators/requests.js';
import { hitCount, scanPrompt } from '../src/policy/prompt-scan.js';

const body = () => ({
  model: 'm',
  messages: [
    { role: 'system', content: 'Be brief.' },
    { role: 'user', content: 'Mail jane.doe@corp.com or bob@corp.com, card 4111 1111 1111 1111' },
    { role: 'user', content: [{ type: 'text', text: 'key sk-proj-abcdefghijklmnopqrstuvwxyz012345' }, { type: 'image_url', image_url: { url: 'x@y.com' } }] },
  ],
  metadata: { owner: 'alice@corp.com' },
});

test('detect: counts hits per detector, leaves the body untouched', () => {
  const b = body();
  const scan = scanPrompt(b, openaiCompatibleRequest, false);
  assert.deepEqual(scan.counts, { email: 2, credit_card: 1, api_key: 1 });
  assert.equal(hitCount(scan), 4);
  assert.equal(scan.masked, false);
  assert.deepEqual(b, body());
});

test('mask: replaces each hit in string contents and text parts, nothing else', () => {
  const b = body();
  const scan = scanPrompt(b, openaiCompatibleRequest, true);
  assert.equal(scan.masked, true);
  assert.equal(b.messages[1]!.content, 'Mail [REDACTED-EMAIL] or [REDACTED-EMAIL], card [REDACTED-CREDIT_CARD]');
  assert.deepEqual(b.messages[2]!.content, [
    { type: 'text', text: 'key [REDACTED-API_KEY]' },
    { type: 'image_url', image_url: { url: 'x@y.com' } },
  ]);
  assert.equal(b.metadata.owner, 'alice@corp.com');
});

test('nothing found: no counts, not masked', () => {
  const scan = scanPrompt({ messages: [{ role: 'user', content: 'hello' }] }, openaiCompatibleRequest, true);
  assert.deepEqual(scan, { counts: {}, masked: false });
});

test('prompt text outside messages is scanned too: completions/FIM prompt and suffix, embeddings input', () => {
  const body = { prompt: 'mail a@b.com', suffix: 'or c@d.com', input: ['x e@f.com', 7], instructions: 'g@h.com' };
  const scan = scanPrompt(body, openaiCompatibleRequest, true);
  assert.deepEqual(scan.counts, { email: 4 });
  assert.deepEqual(body, { prompt: 'mail [REDACTED-EMAIL]', suffix: 'or [REDACTED-EMAIL]', input: ['x [REDACTED-EMAIL]', 7], instructions: '[REDACTED-EMAIL]' });
});
