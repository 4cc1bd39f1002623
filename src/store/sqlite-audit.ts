/**
 * Audit records in SQLite (table audit_log, text that repeats stored once in audit_terms): batched idempotent inserts
 * and keyset-paginated newest-first queries.
 */
import type Database from 'better-sqlite3';
import { AUDIT_EQUALITY_FILTERS, planAuditQuery, toAuditPage, type AuditQueryPlan, type SequencedRecord } from './audit-query.js';
import type { AuditThread } from './audit-thread.js';
import type { AuditRecord, AuditStore } from './types.js';

type SqlValue = string | number | null;

/**
 * How each AuditRecord field is stored in audit_log (migration 4): as is, as a term (the id of its text in
 * audit_terms, for the text that repeats from record to record), or decision as 0/1. As a Record, a new field
 * without a column fails to compile.
 */
const STORAGE: Record<keyof AuditRecord, 'plain' | { term: string } | 'decision' | 'flag' | 'json'> = {
  id: 'plain',
  time: 'plain',
  key_id: { term: 'key_term' },
  agent_id: { term: 'agent_term' },
  provider: { term: 'provider_term' },
  method: { term: 'method_term' },
  route: { term: 'route_term' },
  action: { term: 'action_term' },
  resource: { term: 'resource_term' },
  model: { term: 'model_term' },
  decision: 'decision',
  reason_code: { term: 'reason_term' },
  policy: { term: 'policy_term' },
  rule: { term: 'rule_term' },
  status: 'plain',
  latency_ms: 'plain',
  upstream_latency_ms: 'plain',
  streamed: 'flag',
  client_aborted: 'flag',
  prompt_tokens: 'plain',
  completion_tokens: 'plain',
  total_tokens: 'plain',
  error_message: 'plain',
  details: 'json',
};
const FIELDS = Object.keys(STORAGE) as (keyof AuditRecord)[];
const columnOf = (field: keyof AuditRecord): string => {
  const how = STORAGE[field];
  return typeof how === 'object' ? how.term : field;
};
const INSERT_COLUMNS = FIELDS.map(columnOf).join(', ');

/** The SELECT list that reads a record back: terms decoded, seq for the cursor. */
const SELECT_LIST = [
  'seq',
  ...FIELDS.map((field) => {
    const how = STORAGE[field];
    if (typeof how === 'object') return `(SELECT text FROM audit_terms WHERE id = ${how.term}) AS ${field}`;
    return field;
  }),
].join(', ');

type AuditRow = Omit<AuditRecord, 'streamed' | 'client_aborted' | 'details' | 'decision'> & {
  seq: number;
  decision: number;
  streamed: number;
  client_aborted: number;
  details: string | null;
};

function fromRow({ seq, ...row }: AuditRow): SequencedRecord {
  return {
    seq,
    record: {
      ...row,
      decision: row.decision === 1 ? 'deny' : 'allow',
      streamed: row.streamed === 1,
      client_aborted: row.client_aborted === 1,
      details: row.details === null ? null : (JSON.parse(row.details) as Record<string, unknown>),
    },
  };
}

/** The equality filters' columns and how a value becomes a condition: terms are looked up, decision is 0/1. */
function equalityCondition(column: (typeof AUDIT_EQUALITY_FILTERS)[number], value: string | number): { sql: string; params: (string | number)[] } {
  const how = STORAGE[column];
  if (typeof how === 'object') return { sql: `${how.term} = (SELECT id FROM audit_terms WHERE text = ?)`, params: [value] };
  // Literals, not parameters: SQLite uses a partial index only when the query states its WHERE term, and a bound
  // parameter does not count. Both values come validated from planAuditQuery.
  if (column === 'decision') return { sql: `decision = ${value === 'deny' ? 1 : 0}`, params: [] };
  if (typeof value === 'number' && value >= 400) return { sql: `${column} = ? AND status >= 400`, params: [value] };
  return { sql: `${column} = ?`, params: [value] };
}

type FilterColumn = (typeof AUDIT_EQUALITY_FILTERS)[number];

/**
 * The index a plan reads, chosen here rather than by SQLite's planner: the planner cannot see the values behind the
 * term look-ups, and sampled statistics misjudge them. The rarest kind of row first: denials and failures (partial
 * indexes, alone or per key, model or action), then a key (the most numerous dimension), an action, a model, a
 * provider; else time alone. `covers`: the filters the index range itself applies (time bounds always are).
 * agent_id and route have no index of their own (one more index on every insert, for filters mostly used with
 * others): they are tested row by row within AUDIT_SCAN_BUDGET, like any filter the chosen range does not cover.
 */
function indexFor(plan: AuditQueryPlan): { name: string; covers: FilterColumn[] } {
  const has = (column: FilterColumn) => plan.equals.some((e) => e.column === column);
  const failed = plan.equals.some((e) => e.column === 'status' && typeof e.value === 'number' && e.value >= 400);
  if (plan.equals.some((e) => e.column === 'decision' && e.value === 'deny')) {
    if (has('key_id')) return { name: 'audit_log_key_denied', covers: ['key_id', 'decision'] };
    if (has('model')) return { name: 'audit_log_model_denied', covers: ['model', 'decision'] };
    if (has('action')) return { name: 'audit_log_action_denied', covers: ['action', 'decision'] };
    return { name: 'audit_log_denied', covers: ['decision'] };
  }
  if (failed) return has('key_id') ? { name: 'audit_log_key_failed', covers: ['key_id', 'status'] } : { name: 'audit_log_failed', covers: ['status'] };
  for (const [column, name] of [
    ['key_id', 'audit_log_key'],
    ['action', 'audit_log_action'],
    ['model', 'audit_log_model'],
    ['provider', 'audit_log_provider'],
  ] as const) {
    if (has(column)) return { name, covers: [column] };
  }
  return { name: 'audit_log_time', covers: [] };
}

/**
 * Index entries one page may read when some filter is not part of the index range: past them the page ends early,
 * with a cursor to go on from there, so a combination that matches few rows (or none) costs a few milliseconds per
 * page instead of a walk through every row of its most selective filter.
 */
export const AUDIT_SCAN_BUDGET = 5000;

/** Where a page's scan stops: the last index entry it may read. */
export interface ScanBound {
  time: number;
  seq: number;
}

function whereFor(plan: AuditQueryPlan, columns: readonly FilterColumn[] | null): { where: string[]; params: (string | number)[] } {
  const where: string[] = [];
  const params: (string | number)[] = [];
  for (const { column, value } of plan.equals) {
    if (columns && !columns.includes(column)) continue;
    const condition = equalityCondition(column, value);
    where.push(condition.sql);
    params.push(...condition.params);
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
    // A row value comparison: SQLite uses it as one range on the (…, time, seq) index. A cursor from before seq
    // existed names a record id: its seq, or 0 (every row of an earlier millisecond) if it has been pruned since.
    if ('seq' in plan.after) {
      where.push('(time, seq) < (?, ?)');
      params.push(plan.after.time, plan.after.seq);
    } else {
      where.push('(time, seq) < (?, COALESCE((SELECT seq FROM audit_log WHERE id = ?), 0))');
      params.push(plan.after.time, plan.after.id);
    }
  }
  return { where, params };
}

const whereClause = (where: string[]) => (where.length > 0 ? ` WHERE ${where.join(' AND ')}` : '');

/**
 * When a filter is tested row by row (not part of the index range), the query for the page's scan bound: the
 * AUDIT_SCAN_BUDGET-th entry of the range, if there is one. Null when the index range is the answer. Pure.
 */
export function buildAuditScanBound(plan: AuditQueryPlan): { sql: string; params: (string | number)[] } | null {
  const index = indexFor(plan);
  if (plan.equals.every((e) => index.covers.includes(e.column))) return null;
  const { where, params } = whereFor(plan, index.covers);
  return {
    sql: `SELECT time, seq FROM audit_log INDEXED BY ${index.name}${whereClause(where)} ORDER BY time DESC, seq DESC LIMIT 1 OFFSET ${AUDIT_SCAN_BUDGET - 1}`,
    params,
  };
}

/** The SELECT for a plan, within `bound` when its scan has one. Pure, so tests can EXPLAIN it against a real database. */
export function buildAuditSelect(plan: AuditQueryPlan, bound?: ScanBound): { sql: string; params: (string | number)[] } {
  const { where, params } = whereFor(plan, null);
  if (bound) {
    where.push('(time, seq) >= (?, ?)');
    params.push(bound.time, bound.seq);
  }
  params.push(plan.fetch);
  return {
    sql: `SELECT ${SELECT_LIST} FROM audit_log INDEXED BY ${indexFor(plan).name}${whereClause(where)} ORDER BY time DESC, seq DESC LIMIT ?`,
    params,
  };
}

/** Rows per multi-row INSERT: one statement per 50 rows costs measurably less per record than one per row. */
const ROWS_PER_INSERT = 50;

/** Deletes up to `limit` of the oldest records older than a time, walking the time index; returns how many. */
export function prepareAuditPrune(db: Database.Database): (before: number, limit: number) => number {
  const prune = db.prepare<[number, number]>('DELETE FROM audit_log WHERE seq IN (SELECT seq FROM audit_log WHERE time < ? ORDER BY time LIMIT ?)');
  return (before, limit) => prune.run(before, limit).changes;
}

/** Terms remembered per writer connection; past this many the memory starts over (terms can come from requests). */
const TERM_CACHE_LIMIT = 10_000;

/**
 * A function that writes a batch of records in one transaction (idempotent on id). Each text stored as a term is
 * looked up (or added) once and remembered; a failed transaction forgets them all, as terms it added are gone too.
 */
export function prepareAuditInsert(db: Database.Database): (records: AuditRecord[]) => void {
  const addTerm = db.prepare<[string]>('INSERT INTO audit_terms (text) VALUES (?) ON CONFLICT (text) DO NOTHING');
  const findTerm = db.prepare<[string], number>('SELECT id FROM audit_terms WHERE text = ?').pluck();
  const terms = new Map<string, number>();
  const termId = (text: string): number => {
    let id = terms.get(text);
    if (id === undefined) {
      addTerm.run(text);
      id = findTerm.get(text) as number;
      if (terms.size >= TERM_CACHE_LIMIT) terms.clear();
      terms.set(text, id);
    }
    return id;
  };
  const rowValues = (record: AuditRecord): SqlValue[] =>
    FIELDS.map((field) => {
      const how = STORAGE[field];
      const value = record[field];
      if (value === null || value === undefined) return null;
      if (typeof how === 'object') return termId(String(value));
      if (how === 'decision') return value === 'deny' ? 1 : 0;
      if (how === 'flag') return value ? 1 : 0;
      if (how === 'json') return JSON.stringify(value);
      return value as SqlValue;
    });
  const insertSql = (rows: number) =>
    `INSERT OR IGNORE INTO audit_log (${INSERT_COLUMNS}) VALUES ${Array(rows).fill(`(${FIELDS.map(() => '?').join(', ')})`).join(', ')}`;
  const insertMany = db.prepare<SqlValue[]>(insertSql(ROWS_PER_INSERT));
  const insertOne = db.prepare<SqlValue[]>(insertSql(1));
  const write = db.transaction((records: AuditRecord[]) => {
    let i = 0;
    for (; i + ROWS_PER_INSERT <= records.length; i += ROWS_PER_INSERT) {
      insertMany.run(...records.slice(i, i + ROWS_PER_INSERT).flatMap(rowValues));
    }
    for (; i < records.length; i++) insertOne.run(...rowValues(records[i]!));
  });
  return (records) => {
    try {
      write(records);
    } catch (err) {
      terms.clear();
      throw err;
    }
  };
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
      const scan = buildAuditScanBound(plan);
      const [bound] = scan ? await reader.select<ScanBound>(scan.sql, scan.params) : [];
      const { sql, params } = buildAuditSelect(plan, bound);
      const rows = await reader.select<AuditRow>(sql, params);
      return toAuditPage(rows.map(fromRow), plan, bound);
    },
    async count() {
      const [row] = await reader.select<{ n: number }>('SELECT COUNT(*) AS n FROM audit_log', []);
      return row?.n ?? 0;
    },
  };
}
