/**
 * The PII scan off the event loop: prompts over the inline limit are scanned on a thread with exactly the result
 * of the scan in place (counts, masked text), and a thread that dies, fails or answers nonsense costs latency only.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PromptScanner } from '../src/governance/pii-scanner.js';
import { decodeSpans, encodeSpans, scanPrompt } from '../src/policy/prompt-scan.js';
import { findSensitiveSpans } from '../src/policy/index.js';
import { anthropicMessagesRequest, openaiCompatibleRequest } from '../src/translators/requests.js';

const secrets = ['jane.doe@corp.com', '4111 1111 1111 1111', 'sk-proj-abcdefghijklmnopqrstuvwxyz012345', '+33 6 12 34 56 78', 'DE89370400440532013000'];
const filler = 'The quarterly report shows revenue grew by 12 percent; 2026-12-02T18:49:17Z status=200 id=7f3a2c. ';

function bigBody(chars: number, seed: number) {
  let text = '';
  for (let i = seed; text.length < chars; i++) text += filler + (i % 7 === 0 ? `${secrets[i % secrets.length]} ` : '');
  return {
    model: 'm',
    messages: [
      { role: 'system', content: 'Be brief, mail ops@corp.com.' },
      { role: 'user', content: text },
      { role: 'user', content: [{ type: 'text', text: text.slice(0, chars >> 1) }, { type: 'image_url', image_url: { url: 'x@y.com' } }] },
    ],
  };
}

test('spans survive their encoding for the thread boundary', () => {
  const spans = findSensitiveSpans(bigBody(20_000, 1).messages[1]!.content as string);
  assert.ok(spans.length > 5);
  assert.deepEqual(decodeSpans(encodeSpans(spans)), spans);
  assert.throws(() => decodeSpans(new Int32Array([99, 0, 1])), /unknown detector index 99/);
});

for (const action of ['detect', 'mask'] as const) {
  test(`${action}: a prompt over the inline limit is scanned on a thread, with the in-place scan's result`, async () => {
    const scanner = new PromptScanner(action, { inlineMaxChars: 10_000, threads: 2 });
    try {
      for (const size of [5_000, 50_000, 400_000]) {
        const onThread = bigBody(size, size);
        const inPlace = bigBody(size, size);
        const result = scanner.scan(onThread, openaiCompatibleRequest);
        // A small prompt is answered at once; a large one once its thread has it.
        assert.equal(result instanceof Promise, size > 10_000);
        assert.deepEqual(await result, scanPrompt(inPlace, openaiCompatibleRequest, action === 'mask'));
        assert.deepEqual(onThread, inPlace);
        if (action === 'mask') assert.doesNotMatch(JSON.stringify(onThread.messages[1]), /jane\.doe@corp\.com|4111 1111/);
      }
    } finally {
      await scanner.close();
    }
  });
}

test('many large prompts at once share the threads, each gets its own answer (another API shape too)', async () => {
  const scanner = new PromptScanner('mask', { inlineMaxChars: 0, threads: 2 });
  try {
    const bodies = Array.from({ length: 12 }, (_, i) => ({ system: `call ${secrets[i % secrets.length]}`, messages: [{ role: 'user', content: `n${i} ${filler.repeat(i * 50)}${secrets[(i + 1) % secrets.length]}` }] }));
    const expected = bodies.map((b) => {
      const copy = structuredClone(b);
      return { scan: scanPrompt(copy, anthropicMessagesRequest, true), body: copy };
    });
    const scans = await Promise.all(bodies.map((b) => scanner.scan(b, anthropicMessagesRequest)));
    assert.deepEqual(scans, expected.map((e) => e.scan));
    assert.deepEqual(bodies, expected.map((e) => e.body));
  } finally {
    await scanner.close();
  }
});

test('a thread that dies mid-job, fails a job or answers for other texts: the prompt is scanned in place', async () => {
  const script = new URL('./support/failing-scan-worker.js', import.meta.url);
  const scanner = new PromptScanner('detect', { inlineMaxChars: 0, threads: 1, script });
  try {
    for (const mode of ['exit ..', 'garbage', 'throw..', 'exit ..']) {
      const body = { messages: [{ role: 'user', content: mode }, { role: 'user', content: `mail ${secrets[0]} card ${secrets[1]}` }] };
      assert.deepEqual(await scanner.scan(body, openaiCompatibleRequest), { counts: { email: 1, credit_card: 1 }, masked: false });
    }
  } finally {
    await scanner.close();
  }
});

test('after close, large prompts are still scanned (in place)', async () => {
  const scanner = new PromptScanner('detect', { inlineMaxChars: 0, threads: 1 });
  await scanner.scan({ messages: [{ role: 'user', content: 'warm' }] }, openaiCompatibleRequest);
  await scanner.close();
  const scan = await scanner.scan({ messages: [{ role: 'user', content: `mail ${secrets[0]}` }] }, openaiCompatibleRequest);
  assert.deepEqual(scan.counts, { email: 1 });
});
