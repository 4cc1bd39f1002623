/**
 * The main-thread side of an audit thread (src/store/sqlite-audit-worker.ts): the writer, which commits batches
 * and prunes, and the reader, which runs audit queries on its own read-only connection, so neither an INSERT nor a
 * slow filtered scan ever runs on the request path's event loop. Jobs resolve with the thread's answer; if the thread
 * dies, pending jobs reject (the AuditWriter keeps and retries its batches) and the next job starts a new thread.
 */
import { Worker } from 'node:worker_threads';
import type { AuditJob, AuditThreadOptions } from './sqlite-audit-worker.js';
import type { AuditRecord } from './types.js';

interface Pending {
  resolve(result: unknown): void;
  reject(err: Error): void;
}

export class AuditThread {
  private worker: Worker | null = null;
  private readonly pending = new Map<number, Pending>();
  private readonly inFlight = new Set<Promise<unknown>>();
  private nextId = 1;
  private closed = false;

  constructor(private readonly options: AuditThreadOptions) {}

  async insertBatch(records: AuditRecord[]): Promise<void> {
    await this.post({ records });
  }

  /** Deletes up to `limit` of the oldest records older than `time`; resolves with how many. */
  pruneBefore(time: number, limit: number): Promise<number> {
    return this.post({ pruneBefore: time, limit }) as Promise<number>;
  }

  /** Runs a SELECT (prepared once per text in the thread); resolves with its rows. */
  select<Row>(sql: string, params: (string | number)[]): Promise<Row[]> {
    return this.post({ select: sql, params }) as Promise<Row[]>;
  }

  /** Waits for jobs in flight, then stops the thread. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.allSettled([...this.inFlight]);
    const worker = this.worker;
    this.worker = null;
    await worker?.terminate();
  }

  private post(job: AuditJob): Promise<unknown> {
    if (this.closed) return Promise.reject(new Error('the audit store is closed'));
    const worker = this.worker ?? this.start();
    const id = this.nextId++;
    const done = new Promise<unknown>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.postMessage({ id, ...job });
    });
    this.inFlight.add(done);
    const forget = () => this.inFlight.delete(done);
    done.then(forget, forget);
    return done;
  }

  private start(): Worker {
    const worker = new Worker(new URL('./sqlite-audit-worker.js', import.meta.url), { workerData: this.options });
    worker.on('message', ({ id, result, error }: { id: number; result?: unknown; error?: string }) => {
      const p = this.pending.get(id);
      if (!p) return;
      this.pending.delete(id);
      if (error === undefined) p.resolve(result);
      else p.reject(new Error(error));
    });
    const fail = (err: Error) => {
      if (this.worker === worker) this.worker = null;
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`audit thread exited (${code})`)));
    this.worker = worker;
    return worker;
  }
}
