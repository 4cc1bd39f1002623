/**
 * Worker thread that writes audit batches to SQLite on its own connection, so the gateway's event loop never runs
 * an INSERT. Messages in: `{ id, records }`; out: `{ id }` or `{ id, error }`.
 */
import Database from 'better-sqlite3';
import { parentPort, workerData } from 'node:worker_threads';
import { prepareAuditInsert } from './sqlite-audit.js';
import type { AuditRecord } from './types.js';

interface Job {
  id: number;
  records: AuditRecord[];
}

const { file, busyTimeoutMs, fsyncCommits } = workerData as { file: string; busyTimeoutMs: number; fsyncCommits: boolean };
const db = new Database(file);
db.pragma(`busy_timeout = ${busyTimeoutMs}`);
db.pragma(fsyncCommits ? 'synchronous = FULL' : 'synchronous = NORMAL');
const insertAll = prepareAuditInsert(db);

parentPort!.on('message', ({ id, records }: Job) => {
  try {
    insertAll(records);
    parentPort!.postMessage({ id });
  } catch (err) {
    parentPort!.postMessage({ id, error: (err as Error).message });
  }
});
