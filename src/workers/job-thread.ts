/**
 * A worker thread that runs jobs for the main thread (the audit writer and reader, the PII scan of large prompts).
 * Main side: `JobThread` posts `{ id, job }`, starts the thread on first use and again after it died; each job's
 * promise resolves with the thread's answer, or rejects if the thread fails or dies with it pending.
 * Worker side: `serveJobs(run)` answers each job with `run`'s result (and its transfer list) or its error.
 */
import { parentPort, Worker, type TransferListItem } from 'node:worker_threads';

interface Pending {
  resolve(result: unknown): void;
  reject(err: Error): void;
}

export class JobThread<Job> {
  private worker: Worker | null = null;
  private readonly pending = new Map<number, Pending>();
  private readonly inFlight = new Set<Promise<unknown>>();
  private nextId = 1;
  private closed = false;

  /** `idle`: the thread does not keep the process alive while no job is pending. */
  constructor(
    private readonly script: URL,
    private readonly workerData: unknown,
    private readonly name: string,
    private readonly idle: 'ref' | 'unref' = 'ref',
  ) {}

  /** Jobs posted and not yet answered. */
  get load(): number {
    return this.pending.size;
  }

  post(job: Job, transfer: readonly TransferListItem[] = []): Promise<unknown> {
    if (this.closed) return Promise.reject(new Error(`the ${this.name} is closed`));
    const worker = this.worker ?? this.start();
    const id = this.nextId++;
    const done = new Promise<unknown>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      if (this.idle === 'unref' && this.pending.size === 1) worker.ref();
      worker.postMessage({ id, job }, transfer);
    });
    this.inFlight.add(done);
    const forget = () => this.inFlight.delete(done);
    done.then(forget, forget);
    return done;
  }

  /** Waits for jobs in flight, then stops the thread. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.allSettled([...this.inFlight]);
    const worker = this.worker;
    this.worker = null;
    await worker?.terminate();
  }

  private settled(): void {
    if (this.idle === 'unref' && this.pending.size === 0) this.worker?.unref();
  }

  private start(): Worker {
    const worker = new Worker(this.script, { workerData: this.workerData });
    worker.on('message', ({ id, result, error }: { id: number; result?: unknown; error?: string }) => {
      const p = this.pending.get(id);
      if (!p) return;
      this.pending.delete(id);
      this.settled();
      if (error === undefined) p.resolve(result);
      else p.reject(new Error(error));
    });
    const fail = (err: Error) => {
      if (this.worker === worker) this.worker = null;
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`${this.name} exited (${code})`)));
    if (this.idle === 'unref') worker.unref();
    this.worker = worker;
    return worker;
  }
}

/** A job's answer, with what to transfer rather than copy. */
export interface JobResult {
  result: unknown;
  transfer?: TransferListItem[];
}

/** In a worker thread: answers every job posted by a JobThread. */
export function serveJobs<Job>(run: (job: Job) => JobResult): void {
  parentPort!.on('message', ({ id, job }: { id: number; job: Job }) => {
    try {
      const { result, transfer } = run(job);
      parentPort!.postMessage({ id, result }, transfer ?? []);
    } catch (err) {
      parentPort!.postMessage({ id, error: (err as Error).message });
    }
  });
}
