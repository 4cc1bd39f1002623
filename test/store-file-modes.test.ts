/** The data directory's files hold keys, policies and the audit trail: private to the gateway's user (0600). */
import assert from 'node:assert/strict';
import { chmodSync, existsSync, statSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { startRecord } from '../src/audit/record.js';
import { AuditWriter } from '../src/audit/writer.js';
import { resolveAdminToken } from '../src/admin/token.js';
import { createLogger } from '../src/log.js';
import { openSqliteStore } from '../src/store/sqlite.js';

const mode = (file: string) => statSync(file).mode & 0o777;

test('database, WAL, shared memory, spill file and admin token are created 0600, and made so when found wider', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'tollgate-modes-'));
  try {
    const store = await openSqliteStore(dir);
    await store.audit.insertBatch([startRecord('GET', '/x', Date.now())]);
    for (const name of ['tollgate.db', 'tollgate.db-wal', 'tollgate.db-shm']) {
      const file = path.join(dir, name);
      assert.ok(existsSync(file), name);
      assert.equal(mode(file).toString(8), '600', name);
    }
    await resolveAdminToken(dir, undefined);
    assert.equal(mode(path.join(dir, 'admin-token')).toString(8), '600');

    const spillFile = path.join(dir, 'audit-spill.jsonl');
    const failing = { insertBatch: () => Promise.reject(new Error('down')), query: store.audit.query, count: store.audit.count, pruneBefore: store.audit.pruneBefore };
    const writer = new AuditWriter({ store: failing, batchSize: 10, flushIntervalMs: 3_600_000, queueMax: 1, failureMode: 'open', spillFile, logger: createLogger('error', () => undefined) });
    for (let i = 0; i < 5; i++) writer.enqueue(startRecord('GET', '/y', Date.now()));
    await writer.close(1);
    assert.equal(mode(spillFile).toString(8), '600');
    await store.close();

    // A database left world-readable by an older version is made private at the next open.
    chmodSync(path.join(dir, 'tollgate.db'), 0o644);
    writeFileSync(path.join(dir, 'tollgate.db-wal'), '');
    chmodSync(path.join(dir, 'tollgate.db-wal'), 0o644);
    const reopened = await openSqliteStore(dir);
    assert.equal(mode(path.join(dir, 'tollgate.db')).toString(8), '600');
    assert.equal(mode(path.join(dir, 'tollgate.db-wal')).toString(8), '600');
    await reopened.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
