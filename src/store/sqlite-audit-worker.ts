/**
 * Worker thread that writes audit batches to SQLite on its own connection, so the gateway's event loop never runs
 * an INSERT or a retention DELETE. Messages in: `{ id, records }` or `{ id, pruneBefore, limit }`; out: `{ id, changes }`
 * or `{ id, error }`.
 */
import Database from 'better-sqlite3';
import { parentPort, workerData } from 'node:worker_threads';
import { prepareAuditInsert, prepareAuditPrune } from './sqlite-audit.js';
import type { AuditRecord } from './types.js';

type Job = { id: number; records: AuditRecord[] } | { id: number; pruneBefore: number; limit: number };

const { file, busyTimeoutMs, fsyncCommits } = workerData as { file: string; busyTimeoutMs: number; fsyncCommits: boolean };
const db = new Database(file);
db.pragma(`busy_timeout = ${busyTimeoutMs}`);
db.pragma(fsyncCommits ? 'synchronous = FULL' : 'synchronous = NORMAL');
const insertAll = prepareAuditInsert(db);
const prune = prepareAuditPrune(db);

parentPort!.on('message', (job: Job) => {
  const { id } = job;
  try {
    if ('records' in job) {
      insertAll(job.records);
      parentPort!.postMessage({ id, changes: job.records.length });
    } else parentPort!.postMessage({ id, changes: prune(job.pruneBefore, job.limit) });
  } catch (err) {
    parentPort!.postMessage({ id, error: (err as Error).message });
  }
});
