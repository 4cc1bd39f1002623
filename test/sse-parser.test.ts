import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { SseParser } from '../src/sse/parser.js';

test('parses events split at every possible byte boundary, keeping raw text', () => {
  const stream = 'data: {"a":1}\n\nevent: ping\ndata: x\ndata: y\n\n: comment\n\ndata: [DONE]\n\n';
  for (let cut = 0; cut <= stream.length; cut++) {
    const p = new SseParser();
    const events = [...p.push(stream.slice(0, cut)), ...p.push(stream.slice(cut))];
    assert.deepEqual(
      events.map((e) => [e.event, e.data]),
      [['', '{"a":1}'], ['ping', 'x\ny'], ['', ''], ['', '[DONE]']],
      `cut at ${cut}`,
    );
    assert.equal(events.map((e) => e.raw).join(''), stream);
    assert.equal(p.pending, '');
  }
});

test('accepts CRLF and CR line endings', () => {
  const p = new SseParser();
  assert.deepEqual(p.push('data: a\r\n\r\ndata: b\r\rdata: c\n\n').map((e) => e.data), ['a', 'b', 'c']);
});

test('a CR at the end of a chunk waits for the next byte', () => {
  const p = new SseParser();
  assert.deepEqual(p.push('data: a\r\n\r'), []);
  assert.deepEqual(p.push('\ndata: b\n\n').map((e) => e.data), ['a', 'b']);
});

test('decodes UTF-8 split across chunks', () => {
  const bytes = Buffer.from('data: héllo ✓\n\n');
  const p = new SseParser();
  const events = [...p.push(bytes.subarray(0, 8)), ...p.push(bytes.subarray(8, 15)), ...p.push(bytes.subarray(15))];
  assert.equal(events[0]?.data, 'héllo ✓');
});

test('field without a space after the colon, and id field', () => {
  const p = new SseParser();
  const [e] = p.push('id:7\ndata:x\n\n');
  assert.equal(e?.id, '7');
  assert.equal(e?.data, 'x');
});

test('a read that ends inside a character leaves it pending, even when nothing else is', () => {
  const parser = new SseParser();
  const bytes = Buffer.from('data: {}\n\n✓: x\n\n');
  const cut = bytes.indexOf(Buffer.from('✓')) + 1;
  assert.equal(parser.push(bytes.subarray(0, cut)).length, 1);
  assert.equal(parser.hasPending, true, 'one byte of ✓ is held');
  const [event] = parser.push(bytes.subarray(cut));
  assert.equal(event?.raw, '✓: x\n\n');
  assert.equal(parser.hasPending, false);
});

test('incomplete event stays pending', () => {
  const p = new SseParser();
  assert.deepEqual(p.push('data: partial\n'), []);
  assert.equal(p.pending, 'data: partial\n');
});

test('property: any mix of line ends and any chunking gives the events one push gives, raw text included', () => {
  const lineEnd = fc.constantFrom('\n', '\r\n', '\r');
  const line = fc.oneof(
    fc.string({ unit: fc.constantFrom('a', 'b', ':', ' ', 'é', '{', '}') }).map((v) => `data: ${v}`),
    fc.constantFrom('event: delta', 'id: 7', ': comment', 'retry: 10'),
  );
  const event = fc.tuple(fc.array(fc.tuple(line, lineEnd), { minLength: 1, maxLength: 4 }), lineEnd).map(([lines, end]) => lines.map(([l, e]) => l + e).join('') + end);
  fc.assert(
    fc.property(fc.array(event, { minLength: 1, maxLength: 6 }), fc.array(fc.nat(), { maxLength: 8 }), (events, cuts) => {
      const text = events.join('') + 'data: x'; // an unterminated event stays pending
      const whole = new SseParser();
      const expected = whole.push(text);
      const bytes = Buffer.from(text);
      const at = [...new Set(cuts.map((c) => c % bytes.length))].sort((a, b) => a - b);
      const split = new SseParser();
      const got: ReturnType<SseParser['push']> = [];
      let from = 0;
      for (const cut of [...at, bytes.length]) {
        got.push(...split.push(bytes.subarray(from, cut)));
        from = cut;
      }
      // A lone \r ending the text may still be followed by \n; both parsers wait alike, so compare what completed.
      assert.deepEqual(got, expected);
      assert.equal(split.pending, whole.pending);
    }),
  );
});

