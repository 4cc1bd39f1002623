/** The offline policy verbs of the CLI: eval --jsonl (streaming), validate, test. No gateway runs here. */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { evaluateJsonLine } from '../src/policy/index.js';
import { SEED_POLICY } from './support/harness.js';

const CLI = path.join(path.dirname(fileURLToPath(import.meta.url)), '../src/cli/main.js');
let dir: string;

before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'tollgate-cli-policy-'));
});
after(() => rm(dir, { recursive: true, force: true }));

function cli(args: string[], stdin = ''): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [CLI, ...args], { env: { PATH: process.env.PATH ?? '' } }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
    child.stdin!.end(stdin);
  });
}

async function file(name: string, content: unknown): Promise<string> {
  const p = path.join(dir, name);
  await writeFile(p, typeof content === 'string' ? content : JSON.stringify(content));
  return p;
}

const BIG = { action: 'llm:chat.completions', resource: 'mistral/mistral-large-latest', body: { model: 'mistral-large-latest', max_tokens: 10000 } };
const SMALL = { ...BIG, body: { model: 'mistral-large-latest', max_tokens: 100 } };

test('policy eval --jsonl: one decision line per input line, in order', async () => {
  const lines = [{ policies: [SEED_POLICY], request: BIG }, { policies: [SEED_POLICY], request: SMALL }].map((l) => JSON.stringify(l));
  const input = `${lines[0]}\n\n${lines[1]}\nnot json\n`;
  const res = await cli(['policy', 'eval', '--jsonl'], input);
  assert.equal(res.code, 0, res.stderr);
  const out = res.stdout.trimEnd().split('\n');
  assert.deepEqual(out.slice(0, 2), lines.map(evaluateJsonLine));
  assert.equal(JSON.parse(out[0]!).decision, 'deny');
  assert.equal(JSON.parse(out[1]!).decision, 'allow');
  assert.match(JSON.parse(out[2]!).error, /invalid JSON/);
  assert.equal(out.length, 3);
});

test('policy eval --jsonl streams: each answer comes before the next line is sent', async () => {
  const child = spawn(process.execPath, [CLI, 'policy', 'eval', '--jsonl'], { env: { PATH: process.env.PATH ?? '' } });
  const answers = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  for (const request of [BIG, SMALL]) {
    child.stdin.write(`${JSON.stringify({ policies: [SEED_POLICY], request })}\n`);
    const { value } = await answers.next();
    assert.equal(JSON.parse(value as string).decision, request === BIG ? 'deny' : 'allow');
  }
  child.stdin.end();
  const [code] = await new Promise<[number | null]>((resolve) => child.once('close', (c) => resolve([c])));
  assert.equal(code, 0);
});

test('policy eval without --jsonl is a usage error', async () => {
  const res = await cli(['policy', 'eval']);
  assert.equal(res.code, 2);
  assert.match(res.stderr, /--jsonl/);
});

test('policy validate: valid file, and every problem with its path (exit 2)', async () => {
  const ok = await cli(['policy', 'validate', await file('ok.json', SEED_POLICY)]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /valid \(1 policy\)/);
  const bad = await cli([
    'policy',
    'validate',
    await file('bad.json', [SEED_POLICY, { name: 'p', rules: [{ effect: 'maybe', action: 'llm:*' }, { effect: 'allow' }] }]),
  ]);
  assert.equal(bad.code, 2);
  assert.match(bad.stdout, /^\$\[1\]\.rules\[0\]\.effect: must be one of allow, deny, warn, audit$/m);
  assert.match(bad.stdout, /^\$\[1\]\.rules\[1\]: needs "action" or "not_action"$/m);
  const printed = bad.stdout.trimEnd().split('\n');
  assert.ok(printed.every((l) => l.startsWith('$[1].rules[')), bad.stdout);
  assert.match(bad.stderr, new RegExp(`invalid policy \\(${printed.length} problems\\)`));
  const notJson = await cli(['policy', 'validate', await file('broken.json', '{')]);
  assert.equal(notJson.code, 2);
  assert.match(notJson.stderr, /not valid JSON/);
});

test('policy validate: tool_names; policy test: unreadable tool arguments and tool-name case', async () => {
  const policy = {
    name: 'files',
    rules: [
      { id: 'no-etc', effect: 'deny', action: 'tool:call', resource: '*', conditions: { 'tool.args.path': '/etc/*' } },
      { id: 'no-delete', effect: 'deny', action: 'tool:call', resource: '*/tools/delete_file' },
      { id: 'tools', effect: 'allow', action: 'tool:call', resource: '*' },
    ],
  };
  const bad = await cli(['policy', 'validate', await file('tool-names.json', { ...policy, tool_names: 'Exact' })]);
  assert.equal(bad.code, 2);
  assert.match(bad.stdout, /^\$\.tool_names: must be "case_insensitive" \(the default: tool names ignore case\) or "exact", got "Exact"$/m);
  const policyFile = await file('files.json', policy);
  const decide = async (name: string, tool: Record<string, unknown>) => {
    const res = await cli(['policy', 'test', policyFile, '--request', await file(name, { action: 'tool:call', resource: `mistral/tools/${String(tool.name)}`, tool })]);
    assert.equal(res.code, 0, res.stderr);
    return JSON.parse(res.stdout) as { decision: string; rule: string };
  };
  assert.equal((await decide('ok.json', { name: 'read_file', arguments: { path: '/tmp/x' } })).rule, 'tools');
  assert.equal((await decide('cut.json', { name: 'read_file', arguments: '{"path": "/etc/pa' })).rule, 'no-etc');
  assert.equal((await decide('flag.json', { name: 'read_file', arguments: {}, arguments_invalid: true })).rule, 'no-etc');
  assert.equal((await decide('case.json', { name: 'Delete_File', arguments: {} })).rule, 'no-delete');
});

test('policy test: prints the decision; bad request files are named', async () => {
  const policyFile = await file('seed.json', SEED_POLICY);
  const res = await cli(['policy', 'test', policyFile, '--request', await file('big.json', BIG)]);
  assert.equal(res.code, 0, res.stderr);
  const decision = JSON.parse(res.stdout);
  assert.equal(decision.decision, 'deny');
  assert.equal(decision.policy, 'mistral-usage-policy');
  assert.equal(decision.rule, '1');
  assert.match(decision.reason, /max_tokens 10000 > 8192/);
  const bad = await cli(['policy', 'test', policyFile, '--request', await file('bad-req.json', { resource: 'x' })]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /bad-req\.json: .*action/);
  const missing = await cli(['policy', 'test', policyFile]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /--request/);
});
