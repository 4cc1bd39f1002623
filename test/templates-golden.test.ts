// Checks the engine against goldens rendered by the real Go text/template + Sprig
// (tools/go-oracle). Successes must match byte for byte; failures must fail in the same
// phase (parse vs exec).

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { z } from 'zod';
import {
  TemplateExecError, TemplateParseError, convertIntPaths, fromGoJson, parseTemplate,
} from '../src/templates/index.js';

const corpusCase = z.object({
  name: z.string(),
  template: z.string(),
  data: z.unknown().optional(),
  int_paths: z.array(z.string()).optional(),
  env: z.record(z.string(), z.string()).optional(),
});

const golden = z.union([
  z.object({ name: z.string(), out: z.string() }),
  z.object({ name: z.string(), error: z.string(), error_class: z.enum(['parse', 'exec']) }),
]);

function readJsonl(file: string): unknown[] {
  const text = readFileSync(new URL(`../../test/templates/${file}`, import.meta.url), 'utf8');
  return text.split('\n').filter((l) => l.trim() !== '').map((l) => fromGoJson(l));
}

const corpusLines = readJsonl('corpus.jsonl').map((c) => corpusCase.parse(c));
const goldens = new Map(readJsonl('golden.jsonl').map((g) => golden.parse(g)).map((g) => [g.name, g]));

type Outcome = { out: string } | { errorClass: 'parse' | 'exec'; message: string };

function render(c: z.infer<typeof corpusCase>): Outcome {
  // The line was decoded by fromGoJson, so numbers in data are float64 exactly as Go decodes them.
  const data = convertIntPaths(c.data, c.int_paths ?? []);
  try {
    const tmpl = parseTemplate('tpl', c.template, { env: c.env ?? {} });
    return { out: tmpl.execute(data) };
  } catch (err) {
    if (err instanceof TemplateParseError) return { errorClass: 'parse', message: err.message };
    if (err instanceof TemplateExecError) return { errorClass: 'exec', message: err.message };
    throw err;
  }
}

describe('Go text/template goldens', () => {
  test('every corpus case has a golden', () => {
    assert.equal(corpusLines.length, goldens.size);
    for (const c of corpusLines) assert.ok(goldens.has(c.name), `missing golden for ${c.name}`);
  });

  for (const c of corpusLines) {
    test(c.name, () => {
      const expected = goldens.get(c.name)!;
      const actual = render(c);
      if ('out' in expected) {
        assert.deepEqual(actual, { out: expected.out }, `template: ${c.template}`);
      } else {
        assert.ok('errorClass' in actual, `expected a ${expected.error_class} error (${expected.error}), got output ${JSON.stringify(actual)}`);
        assert.equal(actual.errorClass, expected.error_class, `Go: ${expected.error}\nours: ${actual.message}`);
      }
    });
  }
});
