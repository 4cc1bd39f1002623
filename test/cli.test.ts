/** The tollgate CLI against a running gateway: keys, policies, audit. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { ADMIN_TOKEN, SEED_POLICY, startHarness, type Harness } from './support/harness.js';

const CLI = path.join(path.dirname(fileURLToPath(import.meta.url)), '../src/cli/main.js');
let h: Harness;

before(async () => {
  h = await startHarness();
});
after(() => h.close());

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [CLI, ...args], {
      env: { PATH: process.env.PATH ?? '', CZ_GATEWAY_URL: h.url, CZ_GATEWAY_ADMIN_TOKEN: ADMIN_TOKEN },
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

test('keys create shows the secret once; list, revoke', async () => {
  const created = await cli('keys', 'create', '--name', 'cli-key', '--attr', 'team=ml', '--expires-in', '30d');
  assert.equal(created.code, 0, created.stderr);
  const secret = /key: (cz_live_\w+)/.exec(created.stdout)?.[1];
  assert.ok(secret);
  const json = JSON.parse((await cli('keys', 'list', '--json')).stdout) as { id: string; name: string; attributes: Record<string, string> }[];
  const mine = json.find((k) => k.name === 'cli-key');
  assert.deepEqual(mine?.attributes, { team: 'ml' });
  const res = await fetch(`${h.url}/mistral/v1/models`, { headers: { authorization: `Bearer ${secret}` } });
  assert.equal(res.status, 200);
  const revoked = await cli('keys', 'revoke', mine!.id);
  assert.match(revoked.stdout, /revoked/);
  assert.equal((await fetch(`${h.url}/mistral/v1/models`, { headers: { authorization: `Bearer ${secret}` } })).status, 401);
});

test('policy create/list/delete, and invalid files are explained', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'tollgate-cli-'));
  const file = path.join(dir, 'policy.json');
  await writeFile(file, JSON.stringify(SEED_POLICY));
  const created = await cli('policy', 'create', file, '--json');
  assert.equal(created.code, 0, created.stderr);
  const { id } = JSON.parse(created.stdout) as { id: string };
  assert.match((await cli('policy', 'list')).stdout, /mistral-usage-policy/);
  assert.equal((await cli('policy', 'delete', id)).code, 0);

  const bad = path.join(dir, 'bad.json');
  await writeFile(bad, JSON.stringify({ name: 'x', rules: [] }));
  const rejected = await cli('policy', 'create', bad);
  assert.equal(rejected.code, 2);
  assert.match(rejected.stderr, /rules/);
  const notJson = path.join(dir, 'broken.json');
  await writeFile(notJson, '{');
  assert.match((await cli('policy', 'create', notJson)).stderr, /not valid JSON/);
});

test('audit query and tail', async () => {
  const { key } = await h.createKey('audited');
  await fetch(`${h.url}/mistral/v1/models`, { headers: { authorization: `Bearer ${key}` } });
  const query = await cli('audit', 'query', '--provider', 'mistral', '--limit', '5');
  assert.equal(query.code, 0, query.stderr);
  assert.match(query.stdout, /GET \/mistral\/v1\/models/);
  const tail = await cli('audit', 'tail', '--json', '--limit', '1');
  const line = JSON.parse(tail.stdout.trim()) as { route: string };
  assert.equal(line.route, '/mistral/v1/models');
});

test('argument mistakes are one line naming the mistake and a hint, exit 2, never a stack trace', async () => {
  for (const [args, line, hint] of [
    [['keys', 'create', '--name'], 'tollgate: keys create: --name needs a value', 'keys create'],
    [['keys', 'list', '--bogus'], 'tollgate: keys list: unknown option --bogus', 'keys list'],
    [['keys', 'list', '--json=yes'], 'tollgate: keys list: --json takes no value', 'keys list'],
    [['mock-upstream', '--prot', '1'], 'tollgate: mock-upstream: unknown option --prot', 'mock-upstream'],
    [['mock-upstream', '--port', '0', '--faults', 'bogus=1'], `tollgate: mock-upstream: --faults "bogus=1": unknown fault 'bogus' (known: latency, trickle, status, retry-after, reset, reset-mid-stream, malformed-sse, hang)`, 'mock-upstream'],
    [['mock-upstream', '--port', '99999'], 'tollgate: mock-upstream: --port must be an integer from 0 to 65535, got "99999"', 'mock-upstream'],
    [['keys', 'frob'], 'tollgate: keys: unknown sub-verb "frob" (one of create, list, get, revoke)', 'keys'],
    [['audit', 'tail', '--interval', 'soon'], 'tollgate: audit tail: --interval must be an integer from 10 to 3600000, got "soon"', 'audit tail'],
    [['keys', 'get'], 'tollgate: keys get: missing key id', 'keys get'],
    [['frobnicate'], 'tollgate: unknown verb "frobnicate" (verbs: keys, policy, audit, template, mock-upstream)', ''],
    [['template', 'render', '--x'], 'tollgate: template render: unknown option --x', 'template render'],
  ] as const) {
    const res = await cli(...args);
    assert.equal(res.code, 2, args.join(' '));
    assert.equal(res.stderr, `${line}\nrun \`tollgate ${hint ? `${hint} ` : ''}--help\`\n`);
  }
});

test('every verb and sub-verb has its own --help; a verb without its sub-verb prints its usage and exits 2; --version', async () => {
  const help = await cli('keys', 'create', '--help');
  assert.equal(help.code, 0);
  assert.match(help.stdout, /^usage: tollgate keys create/);
  assert.match(help.stdout, /--name NAME/);
  assert.doesNotMatch(help.stdout, /audit|policy/);
  assert.match(help.stdout, /CZ_GATEWAY_URL, else http:\/\/localhost:\$CZ_GATEWAY_PORT/);
  const keys = await cli('keys');
  assert.equal(keys.code, 2);
  assert.match(keys.stderr, /^usage: tollgate keys[\s\S]*keys revoke ID[\s\S]*tollgate: keys: needs a sub-verb: create, list, get, revoke\n/);
  assert.equal((await cli('keys', '--help')).stdout, keys.stderr.slice(0, keys.stderr.indexOf('tollgate: keys:')));
  for (const verb of [['policy', 'apply'], ['audit', 'query'], ['audit', 'tail'], ['mock-upstream'], ['policy', 'validate'], ['template', 'render']]) {
    const res = await cli(...verb, '--help');
    assert.equal(res.code, 0, verb.join(' '));
    assert.ok(res.stdout.startsWith(`usage: tollgate ${verb.join(' ')}`), res.stdout);
  }
  assert.match((await cli('audit', 'query', '--help')).stdout, /--agent-id A\] \[--route PATH\] \[--action A\]/);
  const pkg = JSON.parse(await readFile(path.join(path.dirname(CLI), '../../../package.json'), 'utf8')) as { version: string };
  assert.deepEqual(await cli('--version'), { code: 0, stdout: `tollgate ${pkg.version}\n`, stderr: '' });
});

test('policy apply: creates, updates only what changed, reports unchanged; an invalid file is exit 2 with its problems', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'tollgate-cli-apply-'));
  const rules = [{ effect: 'allow', action: 'llm:*', resource: 'mistral/*' }];
  const file = path.join(dir, 'policies.json');
  await writeFile(file, JSON.stringify([{ name: 'apply-a', rules }, { name: 'apply-b', rules }]));
  const first = await cli('policy', 'apply', file, '--json');
  assert.equal(first.code, 0, first.stderr);
  const created = JSON.parse(first.stdout) as { outcome: string; name: string; id: string }[];
  assert.deepEqual(created.map((r) => [r.outcome, r.name]), [['created', 'apply-a'], ['created', 'apply-b']]);
  await writeFile(file, JSON.stringify([{ name: 'apply-a', rules }, { name: 'apply-b', description: 'changed', rules }]));
  const second = await cli('policy', 'apply', file);
  assert.equal(second.code, 0, second.stderr);
  assert.match(second.stdout, new RegExp(`^unchanged +apply-a +${created[0]!.id}$`, 'm'));
  assert.match(second.stdout, new RegExp(`^updated +apply-b +${created[1]!.id}$`, 'm'));
  const stored = (await h.admin('GET', `/api/v1/policies/${created[1]!.id}`)).body;
  assert.equal(stored.description, 'changed');
  const unchangedAt = (await h.admin('GET', `/api/v1/policies/${created[0]!.id}`)).body.updated_at;
  assert.equal(unchangedAt, (await h.admin('GET', `/api/v1/policies/${created[0]!.id}`)).body.created_at);

  const one = path.join(dir, 'one.json');
  await writeFile(one, JSON.stringify({ name: 'apply-a', rules }));
  assert.match((await cli('policy', 'apply', one)).stdout, /^unchanged +apply-a/m);
  const bad = path.join(dir, 'bad.json');
  await writeFile(bad, JSON.stringify([{ name: 'apply-c', rules }, { name: 'apply-d', rules: [{ effect: 'maybe', action: '*', resource: '*' }] }]));
  const rejected = await cli('policy', 'apply', bad);
  assert.equal(rejected.code, 2);
  assert.match(rejected.stderr, /^\$\[1\]\.rules\[0\]\.effect: /m);
  assert.match(rejected.stderr, /invalid policy \(1 problem\)/);
  assert.equal((await h.admin('GET', '/api/v1/policies')).body.policies.some((p: { name: string }) => p.name === 'apply-c'), false, 'nothing applied');
  for (const { id } of created) await h.admin('DELETE', `/api/v1/policies/${id}`);
});

test('audit query and tail filter by --agent-id and --route', async () => {
  const { key } = await h.createKey('agent-filter');
  await fetch(`${h.url}/mistral/v1/models`, { headers: { authorization: `Bearer ${key}`, 'x-controlzero-agent-id': 'cli-agent' } });
  const query = await cli('audit', 'query', '--agent-id', 'cli-agent', '--route', '/mistral/v1/models', '--json');
  assert.equal(query.code, 0, query.stderr);
  const { records } = JSON.parse(query.stdout) as { records: { agent_id: string; route: string }[] };
  assert.deepEqual(records.map((r) => [r.agent_id, r.route]), [['cli-agent', '/mistral/v1/models']]);
  const tail = await cli('audit', 'tail', '--agent-id', 'cli-agent', '--json');
  assert.equal(JSON.parse(tail.stdout.trim()).agent_id, 'cli-agent');
  assert.equal((await cli('audit', 'query', '--agent-id', 'nobody', '--json')).stdout.includes('"records": []'), true);
});

test('unknown verbs and unreachable gateways are clear errors', async () => {
  assert.match((await cli('frobnicate')).stderr, /unknown verb/);
  const down = await promisify(execFile)(process.execPath, [CLI, 'keys', 'list'], {
    env: { PATH: process.env.PATH ?? '', CZ_GATEWAY_URL: 'http://127.0.0.1:9', CZ_GATEWAY_ADMIN_TOKEN: ADMIN_TOKEN },
  }).catch((e: { stderr: string }) => e);
  assert.match(down.stderr, /cannot reach the gateway/);
});
