import assert from 'node:assert/strict';
import { test } from 'node:test';
import { collectAuditRecords, type AuditPageOf } from '../src/cli/audit-pages.js';

type R = { id: string };
/** Pages as a bounded scan returns them: short, empty, then full, each with a cursor but the last. */
const PAGES: AuditPageOf<R>[] = [
  { records: [{ id: 'r9' }], next_cursor: 'c1' },
  { records: [], next_cursor: 'c2' },
  { records: [{ id: 'r5' }, { id: 'r4' }], next_cursor: 'c3' },
  { records: [{ id: 'r2' }, { id: 'r1' }], next_cursor: '' },
];
const fetcher = (asked: string[]) => async (cursor: string) => {
  asked.push(cursor);
  return PAGES[asked.length - 1]!;
};

test('follows cursors past short and empty pages until it has what it wants', async () => {
  const asked: string[] = [];
  assert.deepEqual(await collectAuditRecords(fetcher(asked), 3), [{ id: 'r9' }, { id: 'r5' }, { id: 'r4' }]);
  assert.deepEqual(asked, ['', 'c1', 'c2']);
});

test('stops at the end when there are fewer records than wanted', async () => {
  assert.deepEqual((await collectAuditRecords(fetcher([]), 50)).map((r) => r.id), ['r9', 'r5', 'r4', 'r2', 'r1']);
});

test('stops before a known record, whatever the count (following a tail)', async () => {
  const asked: string[] = [];
  assert.deepEqual((await collectAuditRecords(fetcher(asked), 1, 'r4')).map((r) => r.id), ['r9', 'r5']);
  assert.equal(asked.length, 3);
});
