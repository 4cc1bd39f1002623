/**
 * The main-thread side of the audit writer thread: posts batches and resolves when they are committed. If the
 * thread dies, pending batches reject (the AuditWriter keeps and retries them) and the next batch starts a new one.
 */
import { Worker } from 'node:worker_threads';
import type { AuditRecord } from './types.js';

interface Pending {
  resolve(): void;
  reject(err: Error): void;
}

export class AuditInsertThread {
  private worker: Worker | null = null;
  private readonly pending = new Map<number, Pending>();
  private readonly inFlight = new Set<Promise<void>>();
  private nextId = 1;
  private closed = false;

  constructor(
    private readonly file: string,
    private readonly busyTimeoutMs: number,
    private readonly fsyncCommits: boolean,
  ) {}

  insertBatch(records: AuditRecord[]): Promise<void> {
    if (this.closed) return Promise.reject(new Error('the audit store is closed'));
    const worker = this.worker ?? this.start();
    const id = this.nextId++;
    const done = new Promise<void>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.postMessage({ id, records });
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
    worker.on('message', ({ id, error }: { id: number; error?: string }) => {
      const p = this.pending.get(id);
      if (!p) return;
      this.pending.delete(id);
      if (error === undefined) p.resolve();
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
