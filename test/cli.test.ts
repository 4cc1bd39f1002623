/** The tollgate CLI against a running gateway: keys, policies, audit. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
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

test('unknown verbs and unreachable gateways are clear errors', async () => {
  assert.match((await cli('frobnicate')).stderr, /unknown verb/);
  const down = await promisify(execFile)(process.execPath, [CLI, 'keys', 'list'], {
    env: { PATH: process.env.PATH ?? '', CZ_GATEWAY_URL: 'http://127.0.0.1:9', CZ_GATEWAY_ADMIN_TOKEN: ADMIN_TOKEN },
  }).catch((e: { stderr: string }) => e);
  assert.match(down.stderr, /cannot reach the gateway/);
});
