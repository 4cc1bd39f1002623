/** Audit retention: old records deleted in bounded batches until none is left, at start and on each interval. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RETENTION_BATCH, startRetention } from '../src/audit/retention.js';
import { loadConfig } from '../src/config/config.js';
import { createLogger } from '../src/log.js';
import type { AuditStore } from '../src/store/types.js';

const DAY = 86_400_000;

/** Records as times only; pruneBefore as the SQLite store does it (oldest first, at most `limit`). */
function timesStore(times: number[]): AuditStore & { times: number[]; calls: number[] } {
  const store = {
    times: [...times].sort((a, b) => a - b),
    calls: [] as number[],
    async insertBatch() {},
    async query() {
      return { records: [], next_cursor: '' };
    },
    async count() {
      return store.times.length;
    },
    async pruneBefore(before: number, limit: number) {
      let n = 0;
      while (n < limit && n < store.times.length && store.times[n]! < before) n++;
      store.times.splice(0, n);
      store.calls.push(n);
      return n;
    },
  };
  return store;
}

test('a backlog is deleted in batches of RETENTION_BATCH until nothing older than the retention is left', async () => {
  const now = 100 * DAY;
  const old = Array.from({ length: RETENTION_BATCH * 2 + 5 }, (_, i) => now - 31 * DAY - i);
  const recent = [now - DAY, now - 29 * DAY];
  const store = timesStore([...old, ...recent]);
  const logs: string[] = [];
  const retention = startRetention(store, 30, createLogger('info', (l) => logs.push(l)), 3_600_000, () => now);
  await retention.runOnce();
  await retention.stop();
  assert.deepEqual(store.calls, [RETENTION_BATCH, RETENTION_BATCH, 5]);
  assert.deepEqual(store.times, recent.sort((a, b) => a - b));
  assert.ok(logs.some((l) => l.includes(`deleted ${old.length} records older than 30 days`)));
});

test('a failing delete is logged and tried again at the next pass', async () => {
  let fail = true;
  const store = timesStore([0]);
  const prune = store.pruneBefore;
  store.pruneBefore = async (before, limit) => {
    if (fail) throw new Error('disk I/O error');
    return prune(before, limit);
  };
  const logs: string[] = [];
  const retention = startRetention(store, 1, createLogger('info', (l) => logs.push(l)), 3_600_000, () => 10 * DAY);
  assert.equal(await retention.runOnce(), 0);
  assert.ok(logs.some((l) => l.includes('deleting old records failed')));
  fail = false;
  assert.equal(await retention.runOnce(), 1);
  await retention.stop();
});

test('CZ_GATEWAY_AUDIT_RETENTION_DAYS: unset keeps everything; a bad value is refused by name', async () => {
  assert.equal((await loadConfig({})).auditRetentionDays, null);
  assert.equal((await loadConfig({ CZ_GATEWAY_AUDIT_RETENTION_DAYS: '90' })).auditRetentionDays, 90);
  await assert.rejects(loadConfig({ CZ_GATEWAY_AUDIT_RETENTION_DAYS: '0' }), /CZ_GATEWAY_AUDIT_RETENTION_DAYS="0": must be an integer from 1 to 36500/);
});
