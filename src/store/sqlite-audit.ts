/**
 * Audit records in SQLite: batched idempotent inserts and keyset-paginated newest-first queries.
 */
import type Database from 'better-sqlite3';
import { planAuditQuery, toAuditPage, type AuditQueryPlan } from './audit-query.js';
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

function toRow(record: AuditRecord): AuditRow {
  return {
    ...record,
    streamed: record.streamed ? 1 : 0,
    client_aborted: record.client_aborted ? 1 : 0,
    details: record.details === null ? null : JSON.stringify(record.details),
  };
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

/** A function that writes a batch of records in one transaction (idempotent on id). */
export function prepareAuditInsert(db: Database.Database): (records: AuditRecord[]) => void {
  const insert = db.prepare<AuditRow>(
    `INSERT OR IGNORE INTO audit_records (${COLUMN_LIST}) VALUES (${COLUMNS.map((c) => `@${c}`).join(', ')})`,
  );
  return db.transaction((records: AuditRecord[]) => {
    for (const record of records) insert.run(toRow(record));
  });
}

/**
 * Queries run on `db`; batches are written by `insertBatch`, which the store runs on a worker thread so the
 * request path never waits on SQLite.
 */
export function sqliteAuditStore(db: Database.Database, insertBatch: (records: AuditRecord[]) => Promise<void>): AuditStore {
  const countAll = db.prepare<[], number>('SELECT COUNT(*) FROM audit_records').pluck();
  // The SELECT depends on which filters are set (at most a few hundred shapes): prepare each shape once.
  const selects = new Map<string, Database.Statement<(string | number)[], AuditRow>>();

  return {
    insertBatch,
    async query(query) {
      const plan = planAuditQuery(query);
      const { sql, params } = buildAuditSelect(plan);
      let select = selects.get(sql);
      if (!select) {
        select = db.prepare<(string | number)[], AuditRow>(sql);
        selects.set(sql, select);
      }
      return toAuditPage(select.all(...params).map(fromRow), plan);
    },
    async count() {
      return countAll.get() ?? 0;
    },
  };
}
