/** Canonical request paths: one spelling per route, dot segments resolved, dangerous spellings refused. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { canonicalPath } from '../src/http/canonical-path.js';

const canonical = (raw: string) => {
  const result = canonicalPath(raw);
  assert.ok(result.ok, `${raw} was refused: ${result.ok ? '' : result.reason}`);
  return result.path;
};

test('spellings of the chat route all canonicalise to it', () => {
  for (const raw of [
    '/mistral/v1/chat/completions',
    '/mistral/v1/chat/completions/',
    '/mistral/v1//chat/completions',
    '/mistral//v1/chat//completions//',
    '/mistral/v1/./chat/completions',
    '/mistral/v1/chat/completions/.',
    '/mistral/v1/x/../chat/completions',
    '/mistral/v1/chat/%63ompletions',
    '/mistral/v1/chat/%63%6F%6d%70letions',
    '/mistral/v1/%2e/chat/completions',
    '/mistral/v1/x/%2E%2E/chat/completions',
    'mistral/v1/chat/completions',
  ]) {
    assert.equal(canonical(raw), '/mistral/v1/chat/completions', raw);
  }
});

test('dot segments never climb above the root; case is kept (routes decide about case)', () => {
  assert.equal(canonical('/v1/../../admin'), '/admin');
  assert.equal(canonical('/..'), '/');
  assert.equal(canonical('/'), '/');
  assert.equal(canonical('//'), '/');
  assert.equal(canonical('/Mistral/V1/Chat'), '/Mistral/V1/Chat');
});

test('reserved escapes stay escaped, with upper-case hex; segments that only look like dots are kept', () => {
  assert.equal(canonical('/mistral/v1/models/ft%3amodel%3a1'), '/mistral/v1/models/ft%3Amodel%3A1');
  assert.equal(canonical('/p/v1/files/a%20b'), '/p/v1/files/a%20b');
  assert.equal(canonical('/p/v1/.well-known/..x/...'), '/p/v1/.well-known/..x/...');
});

test('encoded separators, backslashes, control characters and malformed escapes are refused', () => {
  for (const raw of ['/p/v1/chat%2Fcompletions', '/p/v1/chat%2fcompletions', '/p/v1/a%5Cb', '/p/v1/a\\b', '/p/v1/a%00', '/p/v1/a\u0001b', '/p/v1/a%zz', '/p/v1/a%4', '/p/v1/a%7F']) {
    const result = canonicalPath(raw);
    assert.equal(result.ok, false, raw);
    if (!result.ok) assert.match(result.reason, /path segment/);
  }
});

test('property: canonical paths are fixed points and hold no empty or dot segment', () => {
  const segment = fc.oneof(fc.constantFrom('', '.', '..', '%2e', '%2E%2e', 'v1', 'chat', '%63hat', 'a%3Ab', '.x'), fc.stringMatching(/^[a-z0-9._~-]{1,6}$/));
  fc.assert(
    fc.property(fc.array(segment, { maxLength: 8 }), fc.boolean(), (segments, trailing) => {
      const raw = `/${segments.join('/')}${trailing ? '/' : ''}`;
      const path = canonical(raw);
      assert.equal(canonical(path), path);
      const parts = path.split('/').slice(1);
      if (path !== '/') assert.ok(parts.every((p) => p !== '' && p !== '.' && p !== '..'), path);
    }),
    { numRuns: 500 },
  );
});
