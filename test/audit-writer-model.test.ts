/**
 * The audit writer under concurrency, as a model test: random schedules of enqueues, flushes and store outcomes
 * (succeed, fail, stall then succeed or fail), in both durabilities, must keep the invariants: every enqueued record
 * is in the store, the queue or the spill file at every step; an answer released in sync durability has its record
 * in the store or the spill file at that moment; and after close and the next start's replay, the store holds
 * every enqueued record exactly once (replay is idempotent on id, as INSERT OR IGNORE is).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { startRecord } from '../src/audit/record.js';
import { AuditWriter } from '../src/audit/writer.js';
import { createLogger } from '../src/log.js';
import type { AuditPage, AuditRecord, AuditStore } from '../src/store/types.js';

type Outcome = 'ok' | 'fail' | 'stall';

/** A store whose every write does what the schedule says; stalled writes wait until released. */
class ScriptedStore implements AuditStore {
  readonly committed: string[] = [];
  mode: Outcome = 'ok';
  private readonly stalled: { records: AuditRecord[]; resolve: () => void; reject: (e: Error) => void }[] = [];

  insertBatch(records: AuditRecord[]): Promise<void> {
    const batch = [...records]; // what the writer handed over, as a real store would have read it
    if (this.mode === 'fail') return Promise.reject(new Error('store down'));
    if (this.mode === 'ok') {
      this.commit(batch);
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => this.stalled.push({ records: batch, resolve, reject }));
  }

  /** Ends the oldest stalled write. */
  release(ok: boolean): void {
    const write = this.stalled.shift();
    if (!write) return;
    if (ok) {
      this.commit(write.records);
      write.resolve();
    } else write.reject(new Error('store down'));
  }

  releaseAll(): void {
    while (this.stalled.length > 0) this.release(true);
  }

  has(id: string): boolean {
    return this.committed.includes(id);
  }

  private commit(records: AuditRecord[]): void {
    for (const r of records) if (!this.committed.includes(r.id)) this.committed.push(r.id);
  }

  async query(): Promise<AuditPage> {
    return { records: [], next_cursor: '' };
  }
  async count(): Promise<number> {
    return this.committed.length;
  }
  async pruneBefore(): Promise<number> {
    return 0;
  }
}

type Step = { op: 'enqueue'; n: number } | { op: 'flush' } | { op: 'mode'; mode: Outcome } | { op: 'release'; ok: boolean } | { op: 'tick' };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ op: fc.constant('enqueue' as const), n: fc.integer({ min: 1, max: 12 }) }),
  fc.constant({ op: 'flush' as const }),
  fc.record({ op: fc.constant('mode' as const), mode: fc.constantFrom<Outcome>('ok', 'fail', 'stall') }),
  fc.record({ op: fc.constant('release' as const), ok: fc.boolean() }),
  fc.constant({ op: 'tick' as const }),
);

/** Records in the spill file and in one being replayed. */
const spilledIds = async (file: string): Promise<string[]> => {
  const text = (await readFile(file, 'utf8').catch(() => '')) + (await readFile(`${file}.replaying`, 'utf8').catch(() => ''));
  return text.split('\n').filter(Boolean).map((line) => (JSON.parse(line) as AuditRecord).id);
};

const spilledNow = (file: string, id: string): boolean => {
  const read = (f: string) => {
    try {
      return readFileSync(f, 'utf8');
    } catch {
      return '';
    }
  };
  return read(file).includes(id) || read(`${file}.replaying`).includes(id);
};

test('property: no record is lost or duplicated, whatever the store does and when', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'tollgate-audit-model-'));
  let run = 0;
  await fc.assert(
    fc.asyncProperty(
      fc.array(step, { minLength: 1, maxLength: 60 }),
      fc.integer({ min: 1, max: 6 }),
      fc.integer({ min: 2, max: 8 }),
      fc.constantFrom('batch' as const, 'sync' as const),
      async (steps, queueMax, batchSize, durability) => {
      const store = new ScriptedStore();
      const spillFile = path.join(dir, `spill-${run++}.jsonl`);
      const writer = new AuditWriter({
        store,
        batchSize,
        flushIntervalMs: 3_600_000, // no timer flushes: the schedule decides
        queueMax,
        failureMode: 'open',
        spillFile,
        logger: createLogger('error', () => undefined),
        durability,
      });
      const enqueued: string[] = [];
      const released: Promise<void>[] = [];
      const releasedUndurable: string[] = [];
      const flushes: Promise<void>[] = [];
      for (const s of steps) {
        if (s.op === 'enqueue') {
          for (let i = 0; i < s.n; i++) {
            const record = startRecord('POST', `/r/${enqueued.length}`, Date.now());
            enqueued.push(record.id);
            const durable = writer.enqueue(record);
            if (durability === 'sync') {
              assert.ok(durable, 'sync durability hands back a promise');
              released.push(
                durable.then(() => {
                  if (!store.has(record.id) && !spilledNow(spillFile, record.id)) releasedUndurable.push(record.id);
                }),
              );
            }
          }
        } else if (s.op === 'flush') flushes.push(writer.flush().catch(() => undefined));
        else if (s.op === 'mode') store.mode = s.mode;
        else if (s.op === 'release') store.release(s.ok);
        await new Promise((resolve) => setImmediate(resolve));
        // Mid-run invariant: the store holds only enqueued records.
        assert.ok(store.committed.every((id) => enqueued.includes(id)));
      }
      store.mode = 'ok';
      store.releaseAll();
      await Promise.all(flushes);
      await writer.close();
      await Promise.all(released);
      assert.deepEqual(releasedUndurable, [], 'no answer released before its record was durable');
      assert.equal(writer.pending, 0);
      const spilled = await spilledIds(spillFile);
      const everywhere = new Set([...store.committed, ...spilled]);
      assert.deepEqual([...everywhere].sort(), [...enqueued].sort(), 'every record in the store or the spill file');
      // The next start replays the spill file: each record once in the store.
      const next = new AuditWriter({ store, batchSize, flushIntervalMs: 3_600_000, queueMax, failureMode: 'open', spillFile, logger: createLogger('error', () => undefined) });
      await next.replaySpill();
      await next.close();
      assert.deepEqual([...store.committed].sort(), [...enqueued].sort(), 'after replay, every record exactly once in the store');
    },
    ),
    { numRuns: 300 },
  );
});
