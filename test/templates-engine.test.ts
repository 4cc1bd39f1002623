// Focused tests of the template engine: the Go type model, error classes and locations,
// Go 1.23/1.24 features the Go 1.19 oracle cannot render, and the API contract.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import {
  GoInt, MISTRAL_V1_INPUT_TEMPLATE, MISTRAL_V1_OUTPUT_TEMPLATE, TemplateExecError, TemplateParseError, UNSUPPORTED_FUNCTIONS,
  fromGoJson, goInt, parseTemplate,
} from '../src/templates/index.js';

function render(text: string, data?: unknown, env?: Record<string, string>): string {
  return parseTemplate('t', text, env ? { env } : {}).execute(data);
}

describe('Go type model', () => {
  test('ints and floats are distinct: ge works with an int and fails with a float64', () => {
    assert.equal(render('{{ ge .n 0 }}', { n: goInt(5) }), 'true');
    assert.throws(() => render('{{ ge .n 0 }}', { n: 5 }), (e: unknown) =>
      e instanceof TemplateExecError && e.message.endsWith('error calling ge: incompatible types for comparison'));
    assert.equal(render('{{ ge .n 0.0 }}', { n: 5 }), 'true');
  });

  test('bigint data counts as a Go int', () => {
    assert.equal(render('{{ ge .n 0 }} {{ printf "%T" .n }}', { n: 7n }), 'true int');
  });

  test('goInt truncates like int(f) and wraps to the kind width', () => {
    assert.equal(goInt(-3.9).value, -3n);
    assert.equal(new GoInt(2n ** 63n).value, -(2n ** 63n));
    assert.equal(new GoInt(300n, 'uint8').value, 44n);
    assert.throws(() => goInt(Number.NaN), RangeError);
  });

  test('float64 prints the way Go prints it', () => {
    assert.equal(render('{{ .a }} {{ .b }} {{ .c }} {{ .d }}', { a: 1e21, b: 1000, c: 0.1, d: 1e6 }), '1e+21 1000 0.1 1e+06');
    assert.equal(render('{{ toJson .a }} {{ toJson .b }}', { a: 1000, b: 1e21 }), '1000 1e+21');
  });

  test('missing keys print <no value>; JSON null fields error when dereferenced', () => {
    assert.equal(render('{{ .a.b }}', {}), '<no value>');
    assert.throws(() => render('{{ .a.b }}', { a: null }), /nil pointer evaluating interface \{\}\.b/);
  });
});

describe('errors', () => {
  test('parse errors carry the template name, line and Go column', () => {
    const err = (() => {
      try {
        parseTemplate('input.tmpl', 'line one\n  {{ nosuch 1 }}');
      } catch (e) {
        return e;
      }
      return null;
    })();
    assert.ok(err instanceof TemplateParseError);
    assert.equal(err.templateName, 'input.tmpl');
    assert.equal(err.line, 2);
    assert.equal(err.col, 5);
    assert.equal(err.message, 'template: input.tmpl:2: function "nosuch" not defined');
  });

  test('exec errors use Go\'s NAME:LINE:COL format', () => {
    const tmpl = parseTemplate('out.tmpl', 'ok\n{{ len .missing }}');
    assert.throws(() => tmpl.execute({}), (e: unknown) => {
      assert.ok(e instanceof TemplateExecError);
      assert.equal(e.templateName, 'out.tmpl');
      assert.equal(e.line, 2);
      assert.equal(e.col, 3);
      assert.match(e.message, /^template: out\.tmpl:2:3: executing "out\.tmpl" at <len \.missing>: error calling len: /);
      return true;
    });
  });

  test('errors inside a defined template name that template', () => {
    const tmpl = parseTemplate('main', '{{ define "inner" }}{{ .a.b }}{{ end }}{{ template "inner" . }}');
    assert.throws(() => tmpl.execute({ a: null }), /template: main:1:25: executing "inner" at <\.a\.b>/);
  });

  test('unbounded template recursion fails cleanly', () => {
    const tmpl = parseTemplate('r', '{{ define "loop" }}{{ template "loop" . }}{{ end }}{{ template "loop" . }}');
    assert.throws(() => tmpl.execute({}), (e: unknown) => e instanceof TemplateExecError && /maximum template depth/.test(e.message));
  });

  test('known but unsupported Sprig functions parse, then fail when executed', () => {
    assert.ok(UNSUPPORTED_FUNCTIONS.includes('now'));
    const tmpl = parseTemplate('t', '{{ if .late }}{{ now }}{{ else }}early{{ end }}');
    assert.equal(tmpl.execute({ late: false }), 'early');
    assert.throws(() => tmpl.execute({ late: true }), /error calling now: now is not supported/);
  });
});

describe('Go 1.23+ features (the Go 1.19 oracle cannot render these)', () => {
  test('else with behaves as a nested with inside else', () => {
    const chained = '{{ with .a }}A={{ . }}{{ else with .b }}B={{ . }}{{ else }}none{{ end }}';
    const nested = '{{ with .a }}A={{ . }}{{ else }}{{ with .b }}B={{ . }}{{ else }}none{{ end }}{{ end }}';
    for (const data of [{ a: 1, b: 2 }, { b: 2 }, {}]) assert.equal(render(chained, data), render(nested, data));
    assert.equal(render(chained, { b: 'x' }), 'B=x');
  });

  test('else with is rejected after if, and else if after with', () => {
    assert.throws(() => render('{{ if .a }}{{ else with .b }}{{ end }}'), TemplateParseError);
    assert.throws(() => render('{{ with .a }}{{ else if .b }}{{ end }}'), TemplateParseError);
  });

  test('range over an integer yields 0..n-1 and takes the else branch for n <= 0', () => {
    assert.equal(render('{{ range 3 }}{{ . }}{{ end }}'), '012');
    assert.equal(render('{{ range $i := .n }}{{ $i }},{{ end }}', { n: goInt(2) }), '0,1,');
    assert.equal(render('{{ range 0 }}x{{ else }}none{{ end }}'), 'none');
    assert.throws(() => render('{{ range $i, $v := 3 }}{{ end }}'), /can't use 3 to iterate over more than one variable/);
  });

  test('range can assign to existing variables', () => {
    assert.equal(render('{{ $i := 0 }}{{ $x := "" }}{{ range $i, $x = .l }}{{ end }}{{ $i }}:{{ $x }}', { l: ['a', 'b'] }), '1:b');
  });

  test('eq on an uncomparable first operand is an error', () => {
    assert.throws(() => render('{{ eq .l .l }}', { l: [1] }), /uncomparable type/);
  });

  test('toJson uses \\b and \\f short escapes (encoding/json since Go 1.22)', () => {
    assert.equal(render('{{ toJson . }}', '\b\f\u0001'), '"\\b\\f\\u0001"');
  });
});

describe('API contract', () => {
  test('a parsed template can be executed repeatedly with independent data', () => {
    const tmpl = parseTemplate('t', '{{ $x := .v }}{{ range .l }}{{ $x }}{{ . }}{{ end }}');
    assert.equal(tmpl.execute({ v: 'a', l: [1, 2] }), 'a1a2');
    assert.equal(tmpl.execute({ v: 'b', l: [] }), '');
    assert.equal(tmpl.execute({ v: 'c', l: [3] }), 'c3');
  });

  test('env reads the injected map, never process.env', () => {
    process.env.TOLLGATE_TEMPLATE_TEST_SECRET = 'leaked';
    try {
      assert.equal(render('[{{ env "TOLLGATE_TEMPLATE_TEST_SECRET" }}]'), '[]');
      assert.equal(render('{{ env "A" }} {{ expandenv "${A}/$B" }}', undefined, { A: 'x', B: 'y' }), 'x x/y');
    } finally {
      delete process.env.TOLLGATE_TEMPLATE_TEST_SECRET;
    }
  });

  test('fromGoJson decodes every number as float64 and rejects out-of-range numbers', () => {
    const data = fromGoJson('{"n": 5, "s": "\\ud800x"}');
    assert.equal(render('{{ printf "%T" .n }} {{ .s }}', data), 'float64 \ufffdx');
    assert.throws(() => fromGoJson('[1e400]'), SyntaxError);
    assert.throws(() => fromGoJson('{bad'), SyntaxError);
  });

  test('the exported Mistral defaults are the templates the golden corpus checks', () => {
    const corpus = readFileSync(new URL('../../test/templates/corpus.jsonl', import.meta.url), 'utf8')
      .split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as { name: string; template: string });
    const inputs = new Set(corpus.filter((c) => c.name.startsWith('mistral_in/')).map((c) => c.template));
    const outputs = new Set(corpus.filter((c) => c.name.startsWith('mistral_out/')).map((c) => c.template));
    assert.deepEqual([...inputs], [MISTRAL_V1_INPUT_TEMPLATE]);
    assert.deepEqual([...outputs], [MISTRAL_V1_OUTPUT_TEMPLATE]);
  });

  test('the default Mistral input template omits unset sentinel variables', () => {
    const data = {
      variables: { model: 'm', temperature: -1, top_p: -1, max_tokens: goInt(-1), random_seed: goInt(-1), n: goInt(1), stop: null, safe_prompt: false },
      req_body: { contents: 'hi' },
    };
    const out = parseTemplate('in', MISTRAL_V1_INPUT_TEMPLATE).execute(data);
    const payload = JSON.parse(out) as Record<string, unknown>;
    assert.deepEqual(Object.keys(payload), ['model', 'n', 'stream', 'stop', 'safe_prompt', 'messages']);
    assert.deepEqual(payload.messages, [{ role: 'user', content: 'hi' }]);
  });
});
