/**
 * Audit records in SQLite: batched idempotent inserts and keyset-paginated newest-first queries.
 */
import type Database from 'better-sqlite3';
import { planAuditQuery, toAuditPage, type AuditQueryPlan } from './audit-query.js';
import type { AuditThread } from './audit-thread.js';
import type { AuditRecord, AuditStore } from './types.js';

/** Every AuditRecord field is a column of the same name; as a Record, a new field without a column fails to compile. */
const AUDIT_FIELDS: Record<keyof AuditRecord, true> = {
  id: true,
  time: true,
  key_id: true,
  agent_id: true,
  provider: true,
  method: true,
  route: true,
  action: true,
  resource: true,
  model: true,
  decision: true,
  reason_code: true,
  policy: true,
  rule: true,
  status: true,
  latency_ms: true,
  upstream_latency_ms: true,
  streamed: true,
  client_aborted: true,
  prompt_tokens: true,
  completion_tokens: true,
  total_tokens: true,
  error_message: true,
  details: true,
};
const COLUMNS = Object.keys(AUDIT_FIELDS);
const COLUMN_LIST = COLUMNS.join(', ');

type AuditRow = Omit<AuditRecord, 'streamed' | 'client_aborted' | 'details'> & {
  streamed: number;
  client_aborted: number;
  details: string | null;
};

type SqlValue = string | number | null;

/** One record's values in COLUMNS order, as SQLite stores them. */
function rowValues(record: AuditRecord): SqlValue[] {
  const row: SqlValue[] = [];
  for (const column of COLUMNS as (keyof AuditRecord)[]) {
    const value = record[column];
    if (typeof value === 'boolean') row.push(value ? 1 : 0);
    else if (column === 'details') row.push(value === null ? null : JSON.stringify(value));
    else row.push(value as SqlValue);
  }
  return row;
}

function fromRow(row: AuditRow): AuditRecord {
  return {
    ...row,
    streamed: row.streamed === 1,
    client_aborted: row.client_aborted === 1,
    details: row.details === null ? null : (JSON.parse(row.details) as Record<string, unknown>),
  };
}

/** The SELECT for a plan. Pure, so tests can EXPLAIN it against a real database. */
export function buildAuditSelect(plan: AuditQueryPlan): { sql: string; params: (string | number)[] } {
  const where: string[] = [];
  const params: (string | number)[] = [];
  for (const { column, value } of plan.equals) {
    where.push(`${column} = ?`);
    params.push(value);
    // The partial indexes' own terms, as literals: SQLite uses a partial index only when the query states its WHERE
    // term, and a bound parameter does not count. Both values come validated from planAuditQuery.
    if (column === 'decision' && value === 'deny') where.push(`decision = 'deny'`);
    if (column === 'status' && typeof value === 'number' && value >= 400) where.push('status >= 400');
  }
  if (plan.since !== undefined) {
    where.push('time >= ?');
    params.push(plan.since);
  }
  if (plan.until !== undefined) {
    where.push('time < ?');
    params.push(plan.until);
  }
  if (plan.after) {
    // A row value comparison: SQLite uses it as one range on the (…, time, id) index.
    where.push('(time, id) < (?, ?)');
    params.push(plan.after.time, plan.after.id);
  }
  params.push(plan.fetch);
  const whereClause = where.length > 0 ? ` WHERE ${where.join(' AND ')}` : '';
  return {
    sql: `SELECT ${COLUMN_LIST} FROM audit_records${whereClause} ORDER BY time DESC, id DESC LIMIT ?`,
    params,
  };
}

/** Rows per multi-row INSERT: one statement per 50 rows costs measurably less per record than one per row. */
const ROWS_PER_INSERT = 50;

/** Deletes up to `limit` of the oldest records older than a time, walking the time index; returns how many. */
export function prepareAuditPrune(db: Database.Database): (before: number, limit: number) => number {
  const prune = db.prepare<[number, number]>(
    'DELETE FROM audit_records WHERE rowid IN (SELECT rowid FROM audit_records WHERE time < ? ORDER BY time LIMIT ?)',
  );
  return (before, limit) => prune.run(before, limit).changes;
}

/** A function that writes a batch of records in one transaction (idempotent on id). */
export function prepareAuditInsert(db: Database.Database): (records: AuditRecord[]) => void {
  const insertSql = (rows: number) =>
    `INSERT OR IGNORE INTO audit_records (${COLUMN_LIST}) VALUES ${Array(rows).fill(`(${COLUMNS.map(() => '?').join(', ')})`).join(', ')}`;
  const insertMany = db.prepare<SqlValue[]>(insertSql(ROWS_PER_INSERT));
  const insertOne = db.prepare<SqlValue[]>(insertSql(1));
  return db.transaction((records: AuditRecord[]) => {
    let i = 0;
    for (; i + ROWS_PER_INSERT <= records.length; i += ROWS_PER_INSERT) {
      insertMany.run(...records.slice(i, i + ROWS_PER_INSERT).flatMap(rowValues));
    }
    for (; i < records.length; i++) insertOne.run(...rowValues(records[i]!));
  });
}

/** The audit threads a SQLite audit store runs on (src/store/audit-thread.ts). */
export interface AuditThreads {
  writer: Pick<AuditThread, 'insertBatch' | 'pruneBefore'>;
  reader: Pick<AuditThread, 'select'>;
}

/**
 * Batches are written and old records pruned on the writer thread, queries run on the reader thread: the request
 * path's event loop only builds the SELECT (pure, src/store/audit-query.ts) and maps the rows.
 */
export function sqliteAuditStore({ writer, reader }: AuditThreads): AuditStore {
  return {
    insertBatch: (records) => writer.insertBatch(records),
    pruneBefore: (time, limit) => writer.pruneBefore(time, limit),
    async query(query) {
      const plan = planAuditQuery(query);
      const { sql, params } = buildAuditSelect(plan);
      const rows = await reader.select<AuditRow>(sql, params);
      return toAuditPage(rows.map(fromRow), plan);
    },
    async count() {
      const [row] = await reader.select<{ n: number }>('SELECT COUNT(*) AS n FROM audit_records', []);
      return row?.n ?? 0;
    },
  };
}
