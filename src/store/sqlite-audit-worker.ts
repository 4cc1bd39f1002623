/**
 * A worker thread with its own SQLite connection for the audit table, so the gateway's event loop never runs an
 * audit statement: the writer thread commits batches and prunes (retention); the reader thread, on a read-only
 * connection (WAL: it never blocks the writer, nor the writer it), runs the audit queries.
 * Jobs: `AuditJob`, served by src/workers/job-thread.ts.
 */
import Database from 'better-sqlite3';
import { parentPort, workerData } from 'node:worker_threads';
import { serveJobs } from '../workers/job-thread.js';
import { prepareAuditInsert, prepareAuditPrune } from './sqlite-audit.js';
import type { AuditRecord } from './types.js';

export interface AuditThreadOptions {
  file: string;
  busyTimeoutMs: number;
  /** The reader: a read-only connection that only runs SELECTs. */
  readonly: boolean;
  /** Commits fsynced before they return (sync audit durability). */
  fsyncCommits: boolean;
}

export type AuditJob = { records: AuditRecord[] } | { pruneBefore: number; limit: number } | { select: string; params: (string | number)[] };

const options = workerData as AuditThreadOptions | undefined;
if (parentPort && options) serve(options);

function serve({ file, busyTimeoutMs, readonly, fsyncCommits }: AuditThreadOptions): void {
  const db = new Database(file, { readonly, fileMustExist: true });
  db.pragma(`busy_timeout = ${busyTimeoutMs}`);
  if (!readonly) db.pragma(fsyncCommits ? 'synchronous = FULL' : 'synchronous = NORMAL');
  const insertAll = readonly ? null : prepareAuditInsert(db);
  const prune = readonly ? null : prepareAuditPrune(db);
  const selects = new Map<string, Database.Statement<(string | number)[]>>();
  const run = (job: AuditJob): unknown => {
    if ('select' in job) {
      let statement = selects.get(job.select);
      if (!statement) selects.set(job.select, (statement = db.prepare<(string | number)[]>(job.select)));
      return statement.all(...job.params);
    }
    if (!insertAll || !prune) throw new Error('the audit reader thread does not write');
    if ('records' in job) {
      insertAll(job.records);
      return job.records.length;
    }
    return prune(job.pruneBefore, job.limit);
  };
  serveJobs<AuditJob>((job) => ({ result: run(job) }));
}
