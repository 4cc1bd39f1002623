// renderJsonLine: the pure core of `tollgate template render --jsonl`.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { renderJsonLine } from '../src/templates/index.js';

function run(input: unknown): Record<string, unknown> {
  return JSON.parse(renderJsonLine(JSON.stringify(input))) as Record<string, unknown>;
}

describe('renderJsonLine', () => {
  test('renders a template against data', () => {
    assert.deepEqual(run({ template: 'Hello {{ .name | upper }}', data: { name: 'ann' } }), { out: 'Hello ANN' });
  });

  test('max_tokens, n and random_seed are Go ints; other numbers are float64', () => {
    const line = {
      template: '{{ ge .variables.max_tokens 0 }} {{ printf "%T %T %T %T" .variables.max_tokens .variables.n .variables.random_seed .variables.temperature }}',
      data: { variables: { max_tokens: 100, n: 1, random_seed: -1, temperature: 0.5 } },
    };
    assert.deepEqual(run(line), { out: 'true int int int float64' });
  });

  test('numbers elsewhere stay float64, so an int comparison fails as in Go', () => {
    const out = run({ template: '{{ ge .req_body.max_tokens 0 }}', data: { req_body: { max_tokens: 5 } } });
    assert.match(String(out.error), /incompatible types for comparison/);
  });

  test('parse and exec errors come back as error lines with Go messages', () => {
    assert.deepEqual(run({ template: '{{ if }}' }), { error: 'template: template:1: missing value for if' });
    assert.deepEqual(run({ template: '{{ .a.b }}', data: { a: null }, name: 'in.tmpl' }), {
      error: 'template: in.tmpl:1:5: executing "in.tmpl" at <.a.b>: nil pointer evaluating interface {}.b',
    });
  });

  test('env comes from the line, not the process', () => {
    assert.deepEqual(run({ template: '{{ env "K" }}', env: { K: 'v' } }), { out: 'v' });
  });

  test('malformed lines are reported, naming the field at fault', () => {
    assert.match(String(JSON.parse(renderJsonLine('{not json')).error), /^invalid JSON input line: /);
    assert.match(String(run({ data: {} }).error), /^invalid input line: template: /);
    assert.match(String(run({ template: 'x', env: { K: 1 } }).error), /^invalid input line: env\.K: /);
  });
});
