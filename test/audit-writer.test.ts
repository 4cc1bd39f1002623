/** The batched audit writer: batching, retry on store failure, fail-closed signalling, spill and replay, close. */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { startRecord } from '../src/audit/record.js';
import { AuditWriter, type AuditWriterOptions } from '../src/audit/writer.js';
import { createLogger } from '../src/log.js';
import type { AuditPage, AuditRecord, AuditStore } from '../src/store/types.js';

/** An in-memory AuditStore that can be told to fail. */
class MemoryAudit implements AuditStore {
  readonly rows = new Map<string, AuditRecord>();
  readonly batches: number[] = [];
  failing = false;

  async insertBatch(records: AuditRecord[]): Promise<void> {
    if (this.failing) throw new Error('disk full');
    this.batches.push(records.length);
    for (const r of records) this.rows.set(r.id, r);
  }
  async query(): Promise<AuditPage> {
    return { records: [...this.rows.values()], next_cursor: '' };
  }
  async count(): Promise<number> {
    return this.rows.size;
  }
  async pruneBefore(): Promise<number> {
    return 0;
  }
}

const records = (n: number) => Array.from({ length: n }, (_, i) => startRecord('GET', `/r/${i}`, Date.now()));

async function writer(store: AuditStore, overrides: Partial<AuditWriterOptions> = {}): Promise<{ w: AuditWriter; spill: string; logs: string[] }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'tollgate-audit-'));
  const logs: string[] = [];
  const spill = path.join(dir, 'audit-spill.jsonl');
  const w = new AuditWriter({
    store,
    batchSize: 500,
    flushIntervalMs: 5,
    queueMax: 10_000,
    failureMode: 'closed',
    spillFile: spill,
    logger: createLogger('debug', (l) => logs.push(l)),
    ...overrides,
  });
  return { w, spill, logs };
}

test('records are written in batches of at most batchSize, each exactly once', async () => {
  const store = new MemoryAudit();
  const { w } = await writer(store);
  const all = records(1200);
  for (const r of all) w.enqueue(r);
  await w.flush();
  assert.equal(store.rows.size, 1200);
  assert.ok(store.batches.every((n) => n <= 500));
  assert.equal(w.pending, 0);
  await w.close();
});

test('a failing store keeps records queued, is loud, refuses new work in closed mode, and recovers', async () => {
  const store = new MemoryAudit();
  store.failing = true;
  const { w, logs } = await writer(store);
  for (const r of records(30)) w.enqueue(r);
  await assert.rejects(w.flush(), /disk full/);
  assert.equal(w.pending, 30);
  assert.equal(w.healthy, false);
  assert.equal(w.accepting, false, 'fail-closed: refuse new requests while audit is failing');
  assert.ok(logs.some((l) => l.includes('ERROR') && l.includes('disk full')));
  store.failing = false;
  await w.flush();
  assert.equal(store.rows.size, 30);
  assert.equal(w.accepting, true);
  assert.ok(logs.some((l) => l.includes('recovered')));
  await w.close();
});

test('open mode keeps serving while the store fails', async () => {
  const store = new MemoryAudit();
  store.failing = true;
  const { w } = await writer(store, { failureMode: 'open' });
  w.enqueue(records(1)[0]!);
  await assert.rejects(w.flush());
  assert.equal(w.accepting, true);
  store.failing = false;
  await w.close();
  assert.equal(store.rows.size, 1);
});

test('timer-driven retries write the queue once the store comes back', async () => {
  const store = new MemoryAudit();
  store.failing = true;
  const { w } = await writer(store);
  for (const r of records(5)) w.enqueue(r);
  await new Promise((r) => setTimeout(r, 30));
  store.failing = false;
  for (let i = 0; i < 100 && store.rows.size < 5; i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(store.rows.size, 5);
  await w.close();
});

test('over twice the queue limit, records spill to disk; close spills the rest; replay loads them all', async () => {
  const store = new MemoryAudit();
  store.failing = true;
  const { w, spill } = await writer(store, { queueMax: 10 });
  const all = records(25);
  for (const r of all) w.enqueue(r);
  assert.equal(w.pending, 20, 'hard limit is twice queueMax');
  await w.close(2);
  const spilled = (await readFile(spill, 'utf8')).trim().split('\n').map((l) => JSON.parse(l).id);
  assert.deepEqual(spilled.sort(), all.map((r) => r.id).sort(), 'nothing is lost');

  const healthy = new MemoryAudit();
  const { w: next } = await writer(healthy, { spillFile: spill });
  assert.equal(await next.replaySpill(), 25);
  assert.equal(healthy.rows.size, 25);
  await assert.rejects(stat(spill), 'the spill file is removed once replayed');
  assert.equal(await next.replaySpill(), 0);
  await next.close();
});

test('spilling is reported once per interval with counts, not once per record', async () => {
  const store = new MemoryAudit();
  store.failing = true;
  const { w, logs } = await writer(store, { queueMax: 2, failureMode: 'open', flushIntervalMs: 3_600_000 });
  for (const r of records(500)) w.enqueue(r);
  await w.close(1);
  const lines = logs.filter((l) => l.includes('spill file'));
  assert.ok(lines.length <= 2, `${lines.length} spill lines`);
  assert.match(lines.at(-1)!, /records written to the spill file since the last report/);
  assert.match(lines.at(-1)!, /"spilled_total":500/);
});

test('a store failing at start-up (a full disk) does not stop the replay from being tried again later', async () => {
  const store = new MemoryAudit();
  store.failing = true;
  const { w, spill, logs } = await writer(store, { queueMax: 2 });
  for (const r of records(10)) w.enqueue(r);
  await w.close(1);

  const full = new MemoryAudit();
  full.failing = true;
  const { w: starting } = await writer(full, { spillFile: spill, logger: createLogger('error', (l) => logs.push(l)) });
  assert.equal(await starting.replaySpill(), 0, 'the start goes on');
  assert.ok(logs.some((l) => l.includes('could not be replayed now; it is kept')));
  await starting.close();

  const healthy = new MemoryAudit();
  const { w: later } = await writer(healthy, { spillFile: spill });
  assert.equal(await later.replaySpill(), 10, 'every record, at the next start');
  assert.equal(healthy.rows.size, 10);
  await later.close();
});

test('the store recovering replays what was spilled while it failed, without waiting for the next start', async () => {
  const store = new MemoryAudit();
  store.failing = true;
  const { w, spill } = await writer(store, { queueMax: 10, failureMode: 'open' });
  const all = records(30);
  for (const r of all) w.enqueue(r);
  await w.flush().catch(() => undefined);
  store.failing = false;
  await w.flush();
  for (let i = 0; i < 100 && store.rows.size < 30; i++) await new Promise((r) => setTimeout(r, 5));
  assert.deepEqual([...store.rows.keys()].sort(), all.map((r) => r.id).sort(), 'the queue and the spilled records, all in the store');
  await assert.rejects(stat(spill), 'the spill file is removed once replayed');
  await w.close();
});

/** A store whose writes wait until released, to watch what happens while a write is under way. */
class GatedAudit extends MemoryAudit {
  private gates: (() => void)[] = [];
  override async insertBatch(records: AuditRecord[]): Promise<void> {
    await new Promise<void>((resolve) => this.gates.push(resolve));
    return super.insertBatch(records);
  }
  get waiting(): number {
    return this.gates.length;
  }
  open(): void {
    for (const gate of this.gates.splice(0)) gate();
  }
}

const settledWithin = async (p: Promise<void> | undefined, ms: number): Promise<boolean> =>
  Promise.race([p!.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms))]);

test('sync durability: an answer is released only once its record is committed, and writes are grouped', async () => {
  const store = new GatedAudit();
  const { w } = await writer(store, { durability: 'sync', flushIntervalMs: 3_600_000 });
  const [first, ...rest] = records(6);
  const firstDurable = w.enqueue(first!);
  assert.ok(firstDurable instanceof Promise);
  await new Promise((r) => setImmediate(r));
  assert.equal(store.waiting, 1, 'written at once, not at the next flush interval');
  const restDurable = rest.map((r) => w.enqueue(r));
  assert.equal(await settledWithin(firstDurable, 20), false, 'not released before the commit');
  store.open();
  assert.equal(await settledWithin(firstDurable, 1000), true);
  assert.ok(store.rows.has(first!.id));
  for (let i = 0; i < 100 && (store.waiting as number) === 0; i++) await new Promise((r) => setTimeout(r, 1));
  assert.equal(store.waiting, 1, 'the five that came during the first write go in one write');
  assert.equal(await settledWithin(restDurable[0], 20), false);
  store.open();
  for (const p of restDurable) assert.equal(await settledWithin(p, 1000), true);
  assert.deepEqual(store.batches, [1, 5]);
  await w.close();
});

test('batch durability: enqueue releases the answer at once', async () => {
  const { w } = await writer(new GatedAudit());
  assert.equal(w.enqueue(records(1)[0]!), undefined);
  assert.equal(w.sync, false);
});

test('sync durability with a failing store: answers are released by a fsynced spill copy, and the records still reach the store once', async () => {
  const store = new MemoryAudit();
  store.failing = true;
  const { w, spill } = await writer(store, { durability: 'sync', failureMode: 'open', flushIntervalMs: 3_600_000 });
  const all = records(8);
  const durable = all.slice(0, 4).map((r) => w.enqueue(r));
  for (const p of durable) assert.equal(await settledWithin(p, 1000), true, 'released by the spill copy');
  // Failing now: the next answers do not wait for a store write at all.
  const later = all.slice(4).map((r) => w.enqueue(r));
  for (const p of later) assert.equal(await settledWithin(p, 1000), true);
  const copies = (await readFile(spill, 'utf8')).trim().split('\n').map((l) => JSON.parse(l).id);
  assert.deepEqual([...new Set(copies)].sort(), all.map((r) => r.id).sort(), 'every released answer has its record on disk');
  assert.equal(w.pending, 8, 'and every record is still queued for the store');
  store.failing = false;
  await w.flush();
  for (let i = 0; i < 100; i++) {
    const gone = await stat(spill).then(() => false, () => true);
    if (gone) break;
    await new Promise((r) => setTimeout(r, 5));
  }
  assert.deepEqual([...store.rows.keys()].sort(), all.map((r) => r.id).sort(), 'each record once in the store');
  await assert.rejects(stat(spill), 'the copies are replayed (idempotently) and the file removed');
  await w.close();
});
