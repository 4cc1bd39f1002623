/**
 * The main-thread side of an audit thread (src/store/sqlite-audit-worker.ts): the writer, which commits batches
 * and prunes, and the reader, which runs audit queries on its own read-only connection, so neither an INSERT nor a
 * slow filtered scan ever runs on the request path's event loop. Jobs resolve with the thread's answer; if the thread
 * dies, pending jobs reject (the AuditWriter keeps and retries its batches) and the next job starts a new thread.
 */
import { JobThread } from '../workers/job-thread.js';
import type { AuditJob, AuditThreadOptions } from './sqlite-audit-worker.js';
import type { AuditRecord } from './types.js';

export class AuditThread {
  private readonly thread: JobThread<AuditJob>;

  constructor(options: AuditThreadOptions) {
    this.thread = new JobThread(new URL('./sqlite-audit-worker.js', import.meta.url), options, 'audit thread');
  }

  async insertBatch(records: AuditRecord[]): Promise<void> {
    await this.thread.post({ records });
  }

  /** Deletes up to `limit` of the oldest records older than `time`; resolves with how many. */
  pruneBefore(time: number, limit: number): Promise<number> {
    return this.thread.post({ pruneBefore: time, limit }) as Promise<number>;
  }

  /** Runs a SELECT (prepared once per text in the thread); resolves with its rows. */
  select<Row>(sql: string, params: (string | number)[]): Promise<Row[]> {
    return this.thread.post({ select: sql, params }) as Promise<Row[]>;
  }

  /** Waits for jobs in flight, then stops the thread. */
  close(): Promise<void> {
    return this.thread.close();
  }
}
