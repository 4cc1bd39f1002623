/**
 * The main-thread side of the audit writer thread: posts batches and resolves when they are committed. If the
 * thread dies, pending batches reject (the AuditWriter keeps and retries them) and the next batch starts a new one.
 */
import { Worker } from 'node:worker_threads';
import type { AuditRecord } from './types.js';

interface Pending {
  resolve(changes: number): void;
  reject(err: Error): void;
}

export class AuditInsertThread {
  private worker: Worker | null = null;
  private readonly pending = new Map<number, Pending>();
  private readonly inFlight = new Set<Promise<number>>();
  private nextId = 1;
  private closed = false;

  constructor(
    private readonly file: string,
    private readonly busyTimeoutMs: number,
    private readonly fsyncCommits: boolean,
  ) {}

  async insertBatch(records: AuditRecord[]): Promise<void> {
    await this.post({ records });
  }

  /** Deletes up to `limit` of the oldest records older than `time`; resolves with how many. */
  pruneBefore(time: number, limit: number): Promise<number> {
    return this.post({ pruneBefore: time, limit });
  }

  private post(job: { records: AuditRecord[] } | { pruneBefore: number; limit: number }): Promise<number> {
    if (this.closed) return Promise.reject(new Error('the audit store is closed'));
    const worker = this.worker ?? this.start();
    const id = this.nextId++;
    const done = new Promise<number>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.postMessage({ id, ...job });
    });
    this.inFlight.add(done);
    const forget = () => this.inFlight.delete(done);
    done.then(forget, forget);
    return done;
  }

  /** Waits for batches in flight, then stops the thread. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.allSettled([...this.inFlight]);
    const worker = this.worker;
    this.worker = null;
    await worker?.terminate();
  }

  private start(): Worker {
    const worker = new Worker(new URL('./sqlite-audit-worker.js', import.meta.url), {
      workerData: { file: this.file, busyTimeoutMs: this.busyTimeoutMs, fsyncCommits: this.fsyncCommits },
    });
    worker.on('message', ({ id, changes, error }: { id: number; changes?: number; error?: string }) => {
      const p = this.pending.get(id);
      if (!p) return;
      this.pending.delete(id);
      if (error === undefined) p.resolve(changes ?? 0);
      else p.reject(new Error(error));
    });
    const fail = (err: Error) => {
      if (this.worker === worker) this.worker = null;
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`audit writer thread exited (${code})`)));
    this.worker = worker;
    return worker;
  }
}
