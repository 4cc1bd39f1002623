/** `tollgate template render`: JSON lines from stdin, and one template file with a data file. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { MISTRAL_V1_INPUT_TEMPLATE } from '../src/templates/index.js';
import { writeFiles } from './support/endpoints-harness.js';

const CLI = path.join(path.dirname(fileURLToPath(import.meta.url)), '../src/cli/main.js');

function cli(args: string[], stdin = ''): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { PATH: process.env.PATH ?? '', REGION: 'eu' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

test('--jsonl renders one output line per input line (ints for the LLM int variables, errors as lines)', async () => {
  const lines = [
    { template: '{{ ge .variables.max_tokens 0 }} {{ .variables.temperature }}', data: { variables: { max_tokens: 10, temperature: 0.5 } } },
    { template: '{{ .a', name: 'broken' },
    { template: '{{ env "X" }}', env: { X: 'from-line' } },
  ];
  const { code, stdout } = await cli(['template', 'render', '--jsonl'], `${lines.map((l) => JSON.stringify(l)).join('\n')}\n\nnot json\n`);
  assert.equal(code, 0);
  const out = stdout.trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(out.length, 4);
  assert.deepEqual(out[0], { out: 'true 0.5' });
  assert.match(out[1].error, /^template: broken:1: unclosed action/);
  assert.deepEqual(out[2], { out: 'from-line' });
  assert.match(out[3].error, /invalid JSON input line/);
});

test('render FILE --data DATA renders one template; the process environment backs env', async () => {
  const dir = await writeFiles({
    'input.tmpl': MISTRAL_V1_INPUT_TEMPLATE,
    'data.json': {
      variables: { model: 'mistral-small-latest', temperature: -1, top_p: -1, max_tokens: 64, random_seed: -1, n: 1, stop: null, safe_prompt: false },
      req_body: { contents: 'Hi' },
    },
    'env.tmpl': 'region={{ env "REGION" }}',
    'bad.tmpl': 'line one\n{{ if }}',
  });
  try {
    const rendered = await cli(['template', 'render', path.join(dir, 'input.tmpl'), '--data', path.join(dir, 'data.json')]);
    assert.equal(rendered.code, 0, rendered.stderr);
    assert.deepEqual(JSON.parse(rendered.stdout), {
      model: 'mistral-small-latest',
      max_tokens: 64,
      n: 1,
      stream: false,
      stop: null,
      safe_prompt: false,
      messages: [{ role: 'user', content: 'Hi' }],
    });
    const env = await cli(['template', 'render', path.join(dir, 'env.tmpl')]);
    assert.equal(env.stdout, 'region=eu');
    const bad = await cli(['template', 'render', path.join(dir, 'bad.tmpl')]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /bad\.tmpl:2: missing value for if/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
