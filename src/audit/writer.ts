/**
 * Batched, lossless audit writing. Requests enqueue a record and move on; a timer writes batches to the store in one
 * transaction each. If the store fails, records stay queued and are retried with back-off; past the hard limit they
 * are appended to a spill file in the data dir (replayed at the next start), so nothing is dropped silently.
 * `accepting` tells the gateway whether to keep serving (fail-closed mode stops new work while audit is unhealthy).
 *
 * Durability (CZ_GATEWAY_AUDIT_DURABILITY): `batch` writes a record within a flush interval of its answer, so a
 * SIGKILL loses the records of about the last two intervals (one queued, one being written). `sync` hands each record back as a promise that resolves once it is
 * durable (committed, or appended and fsynced to the spill file when the store is failing), and the exchange ends
 * the response only then: group commit, one write for every record that arrived while the previous one ran.
 */
import { closeSync, fdatasyncSync, openSync, writeSync } from 'node:fs';
import { open, readFile, rename, rm } from 'node:fs/promises';
import type { Logger } from '../log.js';
import type { AuditRecord, AuditStore } from '../store/types.js';

export interface AuditWriterOptions {
  store: AuditStore;
  batchSize: number;
  flushIntervalMs: number;
  /** Soft limit: above it the writer reports itself unhealthy. Twice this is the hard limit before spilling to disk. */
  queueMax: number;
  failureMode: 'closed' | 'open';
  spillFile: string;
  logger: Logger;
  /** Default `batch`. */
  durability?: AuditDurability;
}

export type AuditDurability = 'batch' | 'sync';

const MAX_RETRY_DELAY_MS = 5_000;
/** Spilling is logged at most once per interval, with the count since the last line (not one line per record). */
const SPILL_LOG_INTERVAL_MS = 5_000;

/** A request whose record has begun: it can be cut off (answered and finished) when the gateway stops. */
export interface OpenRequest {
  cutOff(): void;
}

export class AuditWriter {
  /** Records waiting to be written, oldest first. */
  private queue: AuditRecord[] = [];
  /**
   * The batch being written, out of the queue while it is: spilling takes from the queue only, so a record is in
   * exactly one place (queue, this batch, the store, the spill file). Back at the queue's head if the write fails.
   */
  private inFlight: AuditRecord[] = [];
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> | null = null;
  private consecutiveFailures = 0;
  private spillChain: Promise<void> = Promise.resolve();
  private spilled = 0;
  private spilledUnlogged = 0;
  private lastSpillLog = 0;
  /** Closing: no more timers; close() writes what is queued. */
  private closing = false;
  /** Closed: nothing will write the queue any more. */
  private closed = false;
  /** Requests whose records have begun and are not queued yet, by record id. */
  private readonly open = new Map<string, OpenRequest>();
  /** Sync durability: the answers waiting for their record to be durable, by record id. */
  private readonly waiters = new Map<string, () => void>();
  /** A spill file replay under way (at start, or after the store recovered). */
  private replaying: Promise<number> | null = null;
  /** True in sync durability: a response ends only once its record is durable. */
  readonly sync: boolean;

  constructor(private readonly options: AuditWriterOptions) {
    this.sync = options.durability === 'sync';
  }

  get pending(): number {
    return this.queue.length + this.inFlight.length;
  }

  get healthy(): boolean {
    return this.consecutiveFailures === 0 && this.pending < this.options.queueMax;
  }

  /** False when new requests must be refused: fail-closed mode and audit unhealthy. */
  get accepting(): boolean {
    return this.options.failureMode === 'open' || this.healthy;
  }

  /** A request's record begins; it is expected back through `enqueue`, or its request is cut off at close. */
  begin(id: string, request: OpenRequest): void {
    this.open.set(id, request);
  }

  /** Cuts off every request still open (each finishes, queuing its record); returns how many there were. */
  cutOffOpen(): number {
    const requests = [...this.open.values()];
    for (const request of requests) request.cutOff();
    return requests.length;
  }

  /**
   * Queues a finished request's record. In sync durability, returns a promise that resolves once the record is
   * durable (it never rejects: a record that cannot be made durable now stays queued, and the promise waits for it).
   */
  enqueue(record: AuditRecord): Promise<void> | undefined {
    this.open.delete(record.id);
    if (this.closed) {
      // After close nothing writes the queue: straight to the spill file (synchronously, so durable on return),
      // which the next start replays.
      this.spillNow([record]);
      return undefined;
    }
    this.queue.push(record);
    let durable: Promise<void> | undefined;
    if (this.sync) {
      durable = new Promise<void>((resolve) => this.waiters.set(record.id, resolve));
      // The store is failing: the answer waits for a durable copy in the spill file, not for the store's recovery.
      if (this.consecutiveFailures > 0) this.spill([record], true);
    }
    const over = this.pending - this.options.queueMax * 2;
    if (over > 0) this.spill(this.queue.splice(0, Math.min(over, this.queue.length)), false);
    if (this.consecutiveFailures === 0 && (this.sync || this.queue.length >= this.options.batchSize)) {
      // Sync: write now; records that arrive while this write runs go in the next one (group commit).
      if (this.sync && !this.flushing && !this.closing) this.runFlush();
      else this.schedule(0);
    } else this.schedule(this.retryDelay());
    return durable;
  }

  /** Writes everything queued now (and anything queued meanwhile). Rejects only if the store fails. */
  async flush(): Promise<void> {
    while (this.flushing) await this.flushing;
    if (this.queue.length === 0) return;
    this.flushing = this.drain().finally(() => {
      this.flushing = null;
    });
    await this.flushing;
  }

  /**
   * Replays spilled records into the store: at start (an earlier run spilled them), and again whenever the store
   * recovers from failing (this run spilled them). The file is renamed while it
   * is replayed, so a crash mid-replay leaves it to be replayed again (inserts are idempotent on id). A store that
   * fails now (a full disk) does not stop the start: the file stays for the next start, and the writer's health
   * (CZ_GATEWAY_AUDIT_FAILURE_MODE) decides whether requests are served meanwhile.
   */
  replaySpill(): Promise<number> {
    this.replaying ??= this.replaySpillFiles().finally(() => {
      this.replaying = null;
    });
    return this.replaying;
  }

  private async replaySpillFiles(): Promise<number> {
    const replaying = `${this.options.spillFile}.replaying`;
    try {
      let total = await this.replayFile(replaying);
      // In the spill chain: an append already under way lands before the rename, and the next ones in a new file.
      const renamed = this.spillChain.then(() => rename(this.options.spillFile, replaying)).then(
        () => true,
        () => false,
      );
      this.spillChain = renamed.then(() => undefined);
      if (!(await renamed)) return total;
      total += await this.replayFile(replaying);
      return total;
    } catch (err) {
      this.options.logger.error('audit: the spill file could not be replayed now; it is kept and replayed at the next start', {
        file: replaying,
        error: (err as Error).message,
      });
      return 0;
    }
  }

  private async replayFile(file: string): Promise<number> {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch {
      return 0;
    }
    const records = text
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => JSON.parse(line) as AuditRecord);
    for (let i = 0; i < records.length; i += this.options.batchSize) {
      await this.options.store.insertBatch(records.slice(i, i + this.options.batchSize));
    }
    await rm(file);
    this.options.logger.warn(`audit: replayed ${records.length} records from the spill file`, { file: this.options.spillFile });
    return records.length;
  }

  /** Stops the timer and writes everything. If the store keeps failing, the rest goes to the spill file. */
  async close(attempts = 5): Promise<void> {
    this.cutOffOpen();
    this.closing = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    for (let i = 0; i < attempts && this.queue.length > 0; i++) {
      try {
        await this.flush();
      } catch {
        await new Promise((r) => setTimeout(r, Math.min(100 * 2 ** i, 1_000)));
      }
    }
    if (this.queue.length > 0) this.spill(this.queue.splice(0), false);
    this.logSpill(true);
    this.closed = true;
    await this.spillChain;
    await this.replaying;
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      this.inFlight = this.queue.splice(0, this.options.batchSize);
      try {
        await this.options.store.insertBatch(this.inFlight);
      } catch (err) {
        // Not written: back to the head of the queue, in order, ahead of what came meanwhile.
        this.queue.unshift(...this.inFlight);
        // Sync: the answers waiting on these records get durable copies in the spill file now; the records stay
        // queued for the store (replay is idempotent on id, so a record both spilled and written is stored once).
        if (this.waiters.size > 0) this.spill(this.inFlight.filter((r) => this.waiters.has(r.id)), true);
        this.inFlight = [];
        this.consecutiveFailures++;
        this.options.logger.error('audit: writing to the store failed; records kept queued and retried', {
          error: (err as Error).message,
          queued: this.queue.length,
          failures: this.consecutiveFailures,
          failure_mode: this.options.failureMode,
        });
        throw err;
      }
      if (this.waiters.size > 0) this.settle(this.inFlight);
      this.inFlight = [];
      if (this.consecutiveFailures > 0) {
        this.options.logger.warn('audit: store recovered', { after_failures: this.consecutiveFailures });
        this.consecutiveFailures = 0;
        // What was spilled while it failed goes to the store now, not at the next start.
        void this.replaySpill();
      }
    }
  }

  private retryDelay(): number {
    if (this.consecutiveFailures === 0) return this.options.flushIntervalMs;
    return Math.min(this.options.flushIntervalMs * 2 ** this.consecutiveFailures, MAX_RETRY_DELAY_MS);
  }

  /** Resolves the answers waiting on these records (sync durability): they are durable now. */
  private settle(records: AuditRecord[]): void {
    for (const record of records) {
      const resolve = this.waiters.get(record.id);
      if (resolve) {
        this.waiters.delete(record.id);
        resolve();
      }
    }
  }

  private schedule(delayMs: number): void {
    if (this.timer || this.closing) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.runFlush();
    }, delayMs);
    this.timer.unref();
  }

  /** A flush that reschedules itself while records remain (after a failure, with back-off). */
  private runFlush(): void {
    this.flush().then(
      () => {
        if (this.queue.length > 0) this.schedule(this.retryDelay());
      },
      () => this.schedule(this.retryDelay()),
    );
  }

  private logSpill(force: boolean): void {
    const now = Date.now();
    if (this.spilledUnlogged === 0 || (!force && now - this.lastSpillLog < SPILL_LOG_INTERVAL_MS)) return;
    this.options.logger.error(`audit: queue over its limit, ${this.spilledUnlogged} records written to the spill file since the last report`, {
      file: this.options.spillFile,
      spilled_total: this.spilled,
    });
    this.spilledUnlogged = 0;
    this.lastSpillLog = now;
  }

  /** Appends records to the spill file synchronously (only once closed: the process may be about to exit). */
  private spillNow(records: AuditRecord[]): void {
    try {
      const fd = openSync(this.options.spillFile, 'a', 0o600);
      try {
        writeSync(fd, spillLines(records));
        fdatasyncSync(fd);
      } finally {
        closeSync(fd);
      }
      this.spilled += records.length;
    } catch (err) {
      this.options.logger.error('audit: cannot write the spill file; records are lost', { error: (err as Error).message, records: records.length });
    }
  }

  /**
   * Appends records to the spill file (fsynced: it is the copy of last resort), in order with earlier appends.
   * `copies`: the records stay queued too, and only the answers waiting on them are released once the copy is
   * durable; a copy that fails leaves them waiting for the store. Records moved out of the queue release their
   * answers either way (a failed append is logged as a loss: nothing else holds them).
   */
  private spill(records: AuditRecord[], copies: boolean): void {
    if (records.length === 0) return;
    if (!copies) {
      this.spilled += records.length;
      this.spilledUnlogged += records.length;
      this.logSpill(false);
    }
    const lines = spillLines(records);
    this.spillChain = this.spillChain
      .then(() => appendDurably(this.options.spillFile, lines))
      .then(
        () => this.settle(records),
        (err: Error) => {
          if (!copies) this.settle(records);
          this.options.logger.error(copies ? 'audit: cannot write the spill file; answers wait for the store' : 'audit: cannot write the spill file; records are lost', {
            error: err.message,
            records: records.length,
          });
        },
      );
  }
}

function spillLines(records: AuditRecord[]): string {
  return records.map((r) => JSON.stringify(r)).join('\n') + '\n';
}

async function appendDurably(file: string, text: string): Promise<void> {
  const handle = await open(file, 'a', 0o600);
  try {
    await handle.writeFile(text);
    await handle.datasync();
  } finally {
    await handle.close();
  }
}
