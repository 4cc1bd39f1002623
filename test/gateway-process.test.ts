/**
 * The real `npm start` entry point as a process: refuses bad configuration, prints its URL, and on SIGTERM writes
 * every audit record still queued before exiting. Restarting on the same data dir keeps keys, policies and audit.
 */
import Database from 'better-sqlite3';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startFakeMistral, type FakeMistral } from '../src/fake-mistral/server.js';

const MAIN = path.join(path.dirname(fileURLToPath(import.meta.url)), '../src/main.js');
const REPO = path.join(path.dirname(fileURLToPath(import.meta.url)), '../..');
let fake: FakeMistral;
let dataDir: string;

before(async () => {
  fake = await startFakeMistral({ apiKey: 'sk-proc' });
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'tollgate-proc-'));
});
after(async () => {
  await fake.close();
  await rm(dataDir, { recursive: true, force: true });
});

function launch(env: Record<string, string>): { child: ChildProcess; url: Promise<string>; output: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [MAIN], {
    env: { PATH: process.env.PATH ?? '', CZ_GATEWAY_HOST: '127.0.0.1', CZ_GATEWAY_PORT: '0', CZ_GATEWAY_DATA_DIR: dataDir, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const url = new Promise<string>((resolve, reject) => {
    const onData = (d: Buffer) => {
      output += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(output);
      if (m) resolve(m[1]!);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', () => reject(new Error(`exited before listening:\n${output}`)));
  });
  url.catch(() => undefined); // a launch expected to fail is awaited through `exited` instead
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, url, output: () => output, exited };
}

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(check(), 'condition not met in time');
}

const providerEnv = () => ({ CZ_GATEWAY_MISTRAL_ENABLED: 'true', CZ_GATEWAY_MISTRAL_API_KEY: 'sk-proc', CZ_GATEWAY_MISTRAL_BASE_URL: fake.url });

test('npm start and npm run mock-upstream run the build as it is, and without one say to build', async () => {
  const { scripts } = JSON.parse(await readFile(path.join(REPO, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  // A checkout never built: the scripts' own command lines, run where dist/ does not exist (a script that rebuilt
  // would print something else).
  const checkout = await mkdtemp(path.join(os.tmpdir(), 'tollgate-unbuilt-'));
  try {
    await cp(path.join(REPO, 'bin'), path.join(checkout, 'bin'), { recursive: true });
    for (const [script, entry] of [['start', 'dist/src/main.js'], ['mock-upstream', 'dist/src/fake-mistral/main.js']] as const) {
      const child = spawn(scripts[script]!, { cwd: checkout, shell: true, env: { PATH: process.env.PATH ?? '' }, stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      child.stdout.on('data', (d: Buffer) => (output += d.toString()));
      child.stderr.on('data', (d: Buffer) => (output += d.toString()));
      const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
      assert.equal(code, 1, script);
      assert.equal(output, `tollgate: ${entry} not found: the gateway is not built; run \`npm run build\` (npm ci does it), then start again\n`);
    }
  } finally {
    await rm(checkout, { recursive: true, force: true });
  }
});

test('a store that cannot be opened stops start-up with one clear line, not a stack', async () => {
  const broken = await mkdtemp(path.join(os.tmpdir(), 'tollgate-broken-'));
  try {
    await writeFile(path.join(broken, 'tollgate.db'), 'this is not a database, it is a text file '.repeat(100));
    const { exited, output } = launch({ ...providerEnv(), CZ_GATEWAY_DATA_DIR: broken });
    assert.equal(await exited, 74);
    assert.match(output(), /tollgate: refusing to start, cannot open the store in .*tollgate-broken-.*: file is not a database/);
    assert.doesNotMatch(output(), /\n\s+at /, 'no stack trace');
  } finally {
    await rm(broken, { recursive: true, force: true });
  }
});

test('a port in use stops start-up with one line and exit code 75, not a stack', async () => {
  const taken = createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  const port = (taken.address() as { port: number }).port;
  const own = await mkdtemp(path.join(os.tmpdir(), 'tollgate-busy-'));
  try {
    const { exited, output } = launch({ ...providerEnv(), CZ_GATEWAY_PORT: String(port), CZ_GATEWAY_DATA_DIR: own });
    assert.equal(await exited, 75);
    assert.equal(output(), `tollgate: port ${port} on 127.0.0.1 is in use by another process: stop it, or choose another port with CZ_GATEWAY_PORT\n`);
  } finally {
    await new Promise((resolve) => taken.close(resolve));
    await rm(own, { recursive: true, force: true });
  }
});

test('bound to every interface, the log names the address bound and the one to use from this machine', async () => {
  const own = await mkdtemp(path.join(os.tmpdir(), 'tollgate-any-'));
  try {
    const { child, output, exited } = launch({ ...providerEnv(), CZ_GATEWAY_HOST: '', CZ_GATEWAY_DATA_DIR: own });
    await until(() => /listening on/.test(output()));
    assert.match(output(), /tollgate listening on http:\/\/(\[::\]|0\.0\.0\.0):(\d+) \(every interface; from this machine: http:\/\/localhost:\2\)/);
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
  } finally {
    await rm(own, { recursive: true, force: true });
  }
});

test('bad configuration stops start-up with every problem named', async () => {
  const { exited, output } = launch({ CZ_GATEWAY_MISTRAL_ENABLED: 'true', CZ_GATEWAY_PORT: 'eighty' });
  assert.equal(await exited, 78);
  assert.match(output(), /CZ_GATEWAY_MISTRAL_API_KEY: required/);
  assert.match(output(), /CZ_GATEWAY_PORT="eighty"/);
});

test('SIGTERM flushes queued audit records; a restart keeps keys, policies and audit', async () => {
  // A long flush interval keeps records queued until shutdown.
  const first = launch({ ...providerEnv(), CZ_GATEWAY_AUDIT_FLUSH_MS: '60000', CZ_GATEWAY_AUDIT_BATCH_SIZE: '100000' });
  const url = await first.url;
  await until(() => /OBSERVE MODE/.test(first.output()));
  const token = (await readFile(path.join(dataDir, 'admin-token'), 'utf8')).trim();
  // Not a terminal (a pipe, as a log collector's): the token stays out of the log, which says where it is.
  assert.ok(!first.output().includes(token), 'the token is never written to a log stream');
  assert.ok(first.output().includes(`admin token generated and saved to ${path.join(dataDir, 'admin-token')}`));
  assert.match(first.output(), /tool calls a policy denies: replace \(CZ_GATEWAY_TOOL_DENY_MODE\); prompt PII and secrets: detect \(CZ_GATEWAY_PII_ACTION\)/);
  const admin = (method: string, p: string, body?: unknown) =>
    fetch(url + p, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  const created = (await (await admin('POST', '/api/v1/keys', { name: 'proc' })).json()) as { key: string; id: string };
  assert.equal((await admin('POST', '/api/v1/policies', { name: 'allow-all', rules: [{ effect: 'allow', action: '*', resource: '*' }] })).status, 201);
  await until(() => /INFO  observe mode ended: a policy was created/.test(first.output()));

  const N = 25;
  await Promise.all(
    Array.from({ length: N }, () =>
      fetch(`${url}/mistral/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${created.key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'mistral-small-latest', messages: [{ role: 'user', content: 'hi' }] }),
      }).then((r) => r.text()),
    ),
  );
  const db = new Database(path.join(dataDir, 'tollgate.db'), { readonly: true });
  const countNow = (db.prepare('SELECT COUNT(*) AS n FROM audit_records').get() as { n: number }).n;
  assert.equal(countNow, 0, 'records are still queued before shutdown');
  first.child.kill('SIGTERM');
  assert.equal(await first.exited, 0);
  const countAfter = (db.prepare('SELECT COUNT(*) AS n FROM audit_records').get() as { n: number }).n;
  db.close();
  assert.equal(countAfter, N + 2, 'every proxied call and the two admin changes');

  const second = launch(providerEnv());
  const url2 = await second.url;
  assert.ok(!second.output().includes(token), 'the admin token is shown only at first start');
  const res = await fetch(`${url2}/mistral/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${created.key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'mistral-small-latest', messages: [{ role: 'user', content: 'hi' }] }),
  });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('x-tollgate-policy-mode'), null, 'the stored policy is enforced after restart');
  const page = (await (await fetch(`${url2}/api/v1/audit?limit=1000`, { headers: { authorization: `Bearer ${token}` } })).json()) as { records: unknown[] };
  // N proxied calls, the one after restart, and the two admin changes (key and policy created).
  assert.equal(page.records.length, N + 3);
  second.child.kill('SIGINT');
  assert.equal(await second.exited, 0);
});
