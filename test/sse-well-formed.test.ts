/** The stream framing checks: cheap on well-formed provider events, and no truncated JSON payload passes them. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { dataLooksWhole, eventsLookWhole } from '../src/sse/well-formed.js';

const chunk = (text: string) => Buffer.from(text);

test('whole events pass: JSON objects, arrays, [DONE], named events, comments and data-less events', () => {
  assert.ok(eventsLookWhole(chunk('data: {"a":1}\n\n')));
  assert.ok(eventsLookWhole(chunk('data: {"a":1}\n\ndata: [DONE]\n\n')));
  assert.ok(eventsLookWhole(chunk('event: message_delta\ndata: {"type":"message_delta"}\n\n')));
  assert.ok(eventsLookWhole(chunk(': keep-alive\n\n')));
  assert.ok(eventsLookWhole(chunk('event: ping\n\n')));
  assert.ok(eventsLookWhole(chunk('data: {"a":\ndata: 1}\n\n')), 'a payload split over data lines ends as JSON does');
  for (const data of ['', '{"a":1}', '[1,2]', '[DONE]']) assert.ok(dataLooksWhole(data), data);
});

test('a truncated or corrupt payload fails, wherever it is in the chunk', () => {
  assert.equal(eventsLookWhole(chunk('data: {"id":"malformed","choices":[{\n\n')), false);
  assert.equal(eventsLookWhole(chunk('data: {"a":1}\n\ndata: {"b":\n\ndata: [DONE]\n\n')), false);
  assert.equal(eventsLookWhole(chunk('data: hello\n\n')), false);
  assert.equal(eventsLookWhole(chunk('data: {"a":1}\r\n\r\n')), false, 'CR line ends are left to the parser');
  for (const data of ['{"a":', 'hello', '{"a":1', '"text"']) assert.equal(dataLooksWhole(data), false, data);
});

test('property: every JSON object or array passes whole and fails cut short of its end, also over several data lines', () => {
  const value = fc.oneof(fc.dictionary(fc.string(), fc.jsonValue()), fc.array(fc.jsonValue()));
  fc.assert(
    fc.property(value, fc.nat(), fc.boolean(), (json, cut, pretty) => {
      const text = JSON.stringify(json, null, pretty ? 1 : undefined);
      const asEvent = (data: string) => chunk(`data: ${data.split('\n').join('\ndata: ')}\n\n`);
      assert.ok(dataLooksWhole(text));
      assert.ok(eventsLookWhole(asEvent(text)));
      const truncated = text.slice(0, cut % text.length);
      assert.equal(dataLooksWhole(truncated), truncated === '');
      if (truncated !== '') assert.equal(eventsLookWhole(asEvent(truncated)), false, truncated);
    }),
  );
});

test('strings may hold brackets, quotes and multi-byte characters', () => {
  assert.ok(eventsLookWhole(chunk('data: {"a":"}]{[\\\"","é😀":"\u007d"}\n\n')));
  assert.equal(eventsLookWhole(chunk('data: {"a":"}"\n\n')), false);
  assert.equal(eventsLookWhole(chunk('data: {"a":1}}\n\n')), false, 'nothing after the close');
  assert.equal(eventsLookWhole(chunk('data: {"a":1} x\n\n')), false);
});

test('property: a chunk passes exactly when each of its events, split line by line, passes dataLooksWhole', () => {
  const json = fc.jsonValue().map((v) => JSON.stringify(v));
  const line = fc.oneof(
    json.map((j) => `data: ${j}`),
    json.map((j) => `data:${j}`),
    fc.tuple(json, fc.nat()).map(([j, cut]) => `data: ${j.slice(0, cut % (j.length + 1))}`),
    fc.constantFrom('data: [DONE]', 'data:', 'data: ', 'data:  {}', 'dat', 'data', 'datum: {', 'event: message', ': ping {', 'id: 7', 'data: {"a":"\\"}', 'data: "x"'),
    fc.string({ unit: fc.constantFrom('d', 'a', 't', ':', ' ', '{', '}', '[', ']', '"', '\\', 'x', 'é') }),
  );
  const event = fc.array(line, { minLength: 1, maxLength: 4 });
  fc.assert(
    fc.property(fc.array(event, { minLength: 1, maxLength: 5 }), fc.boolean(), (events, endsWhole) => {
      const text = events.map((lines) => lines.join('\n')).join('\n\n') + (endsWhole ? '\n\n' : '');
      const expected = text
        .split('\n\n')
        .every((block) => dataLooksWhole(block.split('\n').filter((l) => l.startsWith('data:')).map((l) => l.slice(l.startsWith('data: ') ? 6 : 5)).join('\n')));
      assert.equal(eventsLookWhole(chunk(text)), expected, JSON.stringify(text));
    }),
    { numRuns: 3000 },
  );
});
