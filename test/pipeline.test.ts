/**
 * The pipeline contract every governed path relies on: stages run in order until the exchange is finished, a
 * failure is answered from the error catalogue and audited with its reason code, finish-consumers see the completed
 * record, and the record is handed to the audit writer exactly once whatever happens.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { errors as undiciErrors } from 'undici';
import type { AuditWriter } from '../src/audit/writer.js';
import { denied } from '../src/http/errors.js';
import { Exchange } from '../src/pipeline/exchange.js';
import { runPipeline, type Stage } from '../src/pipeline/stages.js';
import type { AuditRecord } from '../src/store/types.js';

const written: AuditRecord[] = [];
const audit = { accepting: true, begin: () => undefined, enqueue: (r: AuditRecord) => void written.push(r) } as unknown as AuditWriter;

let stages: Stage[] = [];
let server: Server;
let url: string;
before(async () => {
  server = createServer((req: IncomingMessage, res: ServerResponse) => {
    void runPipeline(new Exchange(req, res, req.url ?? '/', '', Date.now(), audit), stages);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => new Promise((resolve) => server.close(resolve)));

const answer = (status: number): Stage => ({
  name: 'answer',
  run(ex) {
    ex.res.writeHead(status, { 'content-type': 'text/plain' });
    ex.res.end('done');
    ex.finish(status);
  },
});

test('stages run in order and stop once the exchange is finished; finish-consumers see the completed record', async () => {
  written.length = 0;
  const ran: string[] = [];
  const seen: { status: number; latency: number }[] = [];
  stages = [
    {
      name: 'first',
      run(ex) {
        ran.push('first');
        ex.onFinish((done) => seen.push({ status: done.record.status, latency: done.record.latency_ms }));
      },
    },
    { name: 'second', run: async () => void ran.push('second') },
    answer(201),
    { name: 'never', run: () => void ran.push('never') },
  ];
  const res = await fetch(`${url}/x`, { headers: { 'x-controlzero-agent-id': 'agent-7' } });
  assert.equal(res.status, 201);
  assert.deepEqual(ran, ['first', 'second']);
  assert.equal(seen.length, 1);
  assert.equal(seen[0]!.status, 201);
  assert.ok(seen[0]!.latency >= 0);
  assert.equal(written.length, 1);
  assert.equal(written[0]!.id, res.headers.get('x-tollgate-request-id'));
  assert.equal(written[0]!.agent_id, 'agent-7', 'the calling agent is known before any stage runs');
});

test("a stage's error is answered from the catalogue, and its reason code and decision are audited, once", async () => {
  written.length = 0;
  stages = [
    {
      name: 'deny',
      run() {
        throw denied('policy_denied', 'Request denied by policy: no', 'RULE_MATCH', 'pol', 'r1');
      },
    },
    answer(200),
  ];
  const res = await fetch(`${url}/y`);
  assert.equal(res.status, 403);
  assert.equal(res.headers.get('x-tollgate-decision'), 'deny');
  const body = (await res.json()) as { error: { code: string; reason_code: string } };
  assert.equal(body.error.code, 'policy_denied');
  assert.equal(body.error.reason_code, 'RULE_MATCH');
  assert.equal(written.length, 1);
  const [record] = written;
  assert.equal(record!.status, 403);
  assert.equal(record!.decision, 'deny');
  assert.equal(record!.reason_code, 'RULE_MATCH');
  assert.equal(record!.policy, 'pol');
  assert.equal(record!.rule, 'r1');
  assert.match(record!.error_message!, /denied by policy/);
});

test('finishing twice writes one record: the first outcome stands', async () => {
  written.length = 0;
  stages = [
    {
      name: 'answer-twice',
      run(ex) {
        ex.res.end('ok');
        ex.finish(200);
        ex.finish(500);
        ex.fail(new Error('late'));
      },
    },
  ];
  const res = await fetch(`${url}/v`);
  assert.equal(res.status, 200);
  assert.equal(written.length, 1);
  assert.equal(written[0]!.status, 200);
  assert.equal(written[0]!.error_message, null);
});

test("a provider connection failure is a 502 naming the provider; the gateway's own failure is a 500, never blamed on it", async () => {
  const failing = (err: Error): Stage[] => [
    {
      name: 'provider',
      run(ex) {
        ex.record.provider = 'acme';
      },
    },
    {
      name: 'boom',
      run() {
        throw err;
      },
    },
  ];
  for (const [err, status, code, message, reason] of [
    [new undiciErrors.SocketError('other side closed'), 502, 'upstream_connection_reset', /Provider acme closed the connection/, 'INVALID_REQUEST'],
    [new RangeError('Maximum call stack size exceeded'), 500, 'internal_error', /Internal gateway error: Maximum call stack/, 'INTERNAL_ERROR'],
  ] as const) {
    written.length = 0;
    stages = failing(err);
    const res = await fetch(`${url}/w`);
    assert.equal(res.status, status);
    const body = (await res.json()) as { error: { code: string; message: string } };
    assert.equal(body.error.code, code);
    assert.match(body.error.message, message);
    assert.equal(written.length, 1);
    assert.equal(written[0]!.status, status);
    assert.equal(written[0]!.error_message, err.message);
    if (status === 500) assert.equal(written[0]!.reason_code, reason);
  }
});
