/**
 * The backend-neutral half of audit queries: validating an AuditQuery, the opaque keyset cursor, and turning the
 * rows a backend fetched (limit + 1 of them) into a page. SQLite and PostgreSQL only differ in how they run the plan.
 */
import { z } from 'zod';
import type { AuditPage, AuditQuery, AuditRecord } from './types.js';

/** A query parameter the caller got wrong; the HTTP layer answers 400 naming `param`. */
export class InvalidAuditQueryError extends Error {
  constructor(
    readonly param: string,
    message: string,
  ) {
    super(message);
    this.name = 'InvalidAuditQueryError';
  }
}

export class InvalidCursorError extends InvalidAuditQueryError {
  constructor(reason: string) {
    super('cursor', `Invalid cursor: ${reason}. Pass the next_cursor of a previous page unchanged.`);
    this.name = 'InvalidCursorError';
  }
}

/**
 * Where the previous page ended: the last row's sort key, its time and its write sequence (the order records were
 * stored in). The next page starts strictly after it. Cursors issued before the sequence existed name the last
 * record's id instead (`{time, id}`); the backend finds its sequence.
 */
export type AuditPosition = { time: number; seq: number } | { time: number; id: string };

const positionSchema = z.tuple([z.number().int().nonnegative(), z.union([z.number().int().nonnegative(), z.string().min(1)])]);

export function encodeCursor(position: AuditPosition): string {
  return Buffer.from(JSON.stringify([position.time, 'seq' in position ? position.seq : position.id]), 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string): AuditPosition {
  // Node's base64url decoder skips characters outside the alphabet, so check the alphabet first.
  if (!/^[A-Za-z0-9_-]+$/.test(cursor)) throw new InvalidCursorError('not base64url');
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new InvalidCursorError('not a cursor issued by this gateway');
  }
  const parsed = positionSchema.safeParse(decoded);
  if (!parsed.success) throw new InvalidCursorError('not a cursor issued by this gateway');
  const [time, after] = parsed.data;
  return typeof after === 'number' ? { time, seq: after } : { time, id: after };
}

export const MAX_AUDIT_PAGE_SIZE = 1000;

const filterText = z.string().min(1);
const epochMs = z.number().int().nonnegative();

const auditQuerySchema = z.object({
  provider: filterText.optional(),
  model: filterText.optional(),
  key_id: filterText.optional(),
  agent_id: filterText.optional(),
  route: filterText.optional(),
  action: filterText.optional(),
  decision: z.enum(['allow', 'deny']).optional(),
  status: z.number().int().min(0).max(999).optional(),
  since: epochMs.optional(),
  until: epochMs.optional(),
  limit: z.number().int().min(1).max(MAX_AUDIT_PAGE_SIZE),
  cursor: z.string().optional(),
});

/** Columns filtered by equality, in the order a backend adds them to its WHERE clause. */
export const AUDIT_EQUALITY_FILTERS = ['provider', 'model', 'key_id', 'agent_id', 'route', 'action', 'decision', 'status'] as const;

export interface AuditQueryPlan {
  equals: { column: (typeof AUDIT_EQUALITY_FILTERS)[number]; value: string | number }[];
  since: number | undefined; // time >= since
  until: number | undefined; // time < until
  after: AuditPosition | undefined; // (time, seq) < (after.time, after.seq)
  /** Rows to fetch: one more than the page size, to know whether another page follows. */
  fetch: number;
  limit: number;
}

/** Validates a query and reduces it to what a backend needs. An empty cursor means the first page. */
export function planAuditQuery(query: AuditQuery): AuditQueryPlan {
  const parsed = auditQuerySchema.safeParse(query);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const param = String(issue?.path[0] ?? 'query');
    throw new InvalidAuditQueryError(param, `Invalid ${param}: ${issue?.message ?? 'invalid value'}`);
  }
  const q = parsed.data;
  const equals: AuditQueryPlan['equals'] = [];
  for (const column of AUDIT_EQUALITY_FILTERS) {
    const value = q[column];
    if (value !== undefined) equals.push({ column, value });
  }
  return {
    equals,
    since: q.since,
    until: q.until,
    after: q.cursor ? decodeCursor(q.cursor) : undefined,
    fetch: q.limit + 1,
    limit: q.limit,
  };
}

/** A fetched record with its write sequence, the second half of the page order. */
export interface SequencedRecord {
  record: AuditRecord;
  seq: number;
}

/**
 * Builds the page from rows fetched newest first under `plan` (at most plan.fetch of them). `scannedTo`: where the
 * backend's scan stopped, when it read only part of the range (a bounded scan): a page short of the limit then still
 * has a cursor, as more matching rows may lie past that point; it may even be empty.
 */
export function toAuditPage(rows: SequencedRecord[], plan: AuditQueryPlan, scannedTo?: { time: number; seq: number }): AuditPage {
  const records = rows.slice(0, plan.limit).map((r) => r.record);
  if (rows.length > plan.limit) {
    const last = rows[plan.limit - 1]!;
    return { records, next_cursor: encodeCursor({ time: last.record.time, seq: last.seq }) };
  }
  return { records, next_cursor: scannedTo ? encodeCursor(scannedTo) : '' };
}
