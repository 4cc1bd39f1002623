import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { InvalidAuditQueryError, InvalidCursorError, encodeCursor, planAuditQuery } from '../src/store/audit-query.js';
import { AuditThread } from '../src/store/audit-thread.js';
import { AUDIT_SCAN_BUDGET, buildAuditScanBound, buildAuditSelect } from '../src/store/sqlite-audit.js';
import { LATEST_SCHEMA_VERSION, migrate } from '../src/store/sqlite-schema.js';
import { openSqliteStore, SQLITE_FILE_NAME } from '../src/store/sqlite.js';
import { PolicyNameTakenError, type ApiKeyRecord, type AuditQuery, type AuditRecord, type PolicyRecord, type Store } from '../src/store/types.js';

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'tollgate-store-'));
}

/** Runs `body` against a fresh store in its own directory, then closes it and removes the directory. */
async function withStore(body: (store: Store, dir: string) => Promise<void>): Promise<void> {
  const dir = tempDir();
  const store = await openSqliteStore(dir);
  try {
    await body(store, dir);
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

function apiKey(id: string, overrides: Partial<ApiKeyRecord> = {}): ApiKeyRecord {
  return {
    id,
    name: `name of ${id}`,
    prefix: 'cz_live_AbCd',
    hash: `hash-${id}`,
    attributes: { team: 'search', env: 'prod' },
    created_at: 1_700_000_000_000,
    expires_at: null,
    revoked_at: null,
    ...overrides,
  };
}

function auditRecord(id: string, time: number, overrides: Partial<AuditRecord> = {}): AuditRecord {
  return {
    id,
    time,
    key_id: 'key_a',
    agent_id: null,
    provider: 'mistral',
    method: 'POST',
    route: '/mistral/v1/chat/completions',
    action: 'llm:chat.completions',
    resource: 'mistral/mistral-large-latest',
    model: 'mistral-large-latest',
    decision: 'allow',
    reason_code: 'policy_allow',
    policy: 'mistral-usage-policy',
    rule: '0',
    status: 200,
    latency_ms: 120,
    upstream_latency_ms: 100,
    streamed: false,
    client_aborted: false,
    prompt_tokens: 10,
    completion_tokens: 20,
    total_tokens: 30,
    error_message: null,
    details: null,
    ...overrides,
  };
}

/** The order the store promises: time desc, then the last written first (`records` in the order they were written). */
function newestFirst(records: AuditRecord[]): AuditRecord[] {
  const written = new Map(records.map((r, i) => [r, i]));
  return [...records].sort((a, b) => b.time - a.time || written.get(b)! - written.get(a)!);
}

const ids = (records: AuditRecord[]) => records.map((r) => r.id);

/** Follows next_cursor until the end, returning every page's ids. */
async function walkPages(store: Store, query: AuditQuery): Promise<string[][]> {
  const pages: string[][] = [];
  let cursor = '';
  do {
    const page = await store.audit.query({ ...query, cursor });
    pages.push(ids(page.records));
    cursor = page.next_cursor;
  } while (cursor !== '');
  return pages;
}

test('keys: insert, get, find by hash, list oldest first, revoke', () =>
  withStore(async (store) => {
    const newer = apiKey('key_b', { created_at: 1_700_000_000_500, expires_at: 1_800_000_000_000 });
    const older = apiKey('key_a');
    await store.keys.insert(newer);
    await store.keys.insert(older);

    assert.deepEqual(await store.keys.get('key_b'), newer);
    assert.deepEqual(await store.keys.findByHash('hash-key_a'), older);
    assert.equal(await store.keys.findByHash('hash-unknown'), null);
    assert.equal(await store.keys.get('key_unknown'), null);
    assert.deepEqual(await store.keys.list(), [older, newer]);

    await assert.rejects(store.keys.insert(apiKey('key_c', { hash: 'hash-key_a' })), /UNIQUE/);

    assert.deepEqual(await store.keys.revoke('key_a', 1_750_000_000_000), { ...older, revoked_at: 1_750_000_000_000 });
    // Revoking again keeps the first revocation time.
    assert.equal((await store.keys.revoke('key_a', 1_760_000_000_000))?.revoked_at, 1_750_000_000_000);
    assert.equal((await store.keys.findByHash('hash-key_a'))?.revoked_at, 1_750_000_000_000);
    assert.equal(await store.keys.revoke('key_unknown', 1), null);
  }));

test('policies: insert, get, list oldest first, update, delete', () =>
  withStore(async (store) => {
    const document = { name: 'p1', rules: [{ effect: 'allow', action: 'llm:*', resource: '*' }] };
    const first: PolicyRecord = { id: 'pol_1', name: 'p1', document, created_at: 1000, updated_at: 1000 };
    const second: PolicyRecord = { id: 'pol_2', name: 'p2', document: { name: 'p2', rules: [] }, created_at: 2000, updated_at: 2000 };
    await store.policies.insert(second);
    await store.policies.insert(first);

    assert.deepEqual(await store.policies.get('pol_1'), first);
    assert.equal(await store.policies.get('pol_unknown'), null);
    assert.deepEqual(await store.policies.list(), [first, second]);

    const renamed = { name: 'p1-renamed', rules: [] };
    const updated = await store.policies.update('pol_1', 'p1-renamed', renamed, 3000);
    assert.deepEqual(updated, { ...first, name: 'p1-renamed', document: renamed, updated_at: 3000 });
    assert.deepEqual(await store.policies.get('pol_1'), updated);
    assert.equal(await store.policies.update('pol_unknown', 'x', {}, 1), null);

    assert.equal(await store.policies.delete('pol_1'), true);
    assert.equal(await store.policies.delete('pol_1'), false);
    assert.deepEqual(await store.policies.list(), [second]);
  }));

test('audit: a batch round-trips every field and inserting it again adds nothing', () =>
  withStore(async (store) => {
    const batch = [
      auditRecord('req_1', 1000),
      auditRecord('req_2', 2000, {
        key_id: null,
        agent_id: 'agent-7',
        provider: null,
        action: null,
        resource: null,
        model: null,
        decision: 'deny',
        reason_code: 'policy_deny',
        status: 403,
        upstream_latency_ms: null,
        streamed: true,
        client_aborted: true,
        prompt_tokens: null,
        completion_tokens: null,
        total_tokens: null,
        error_message: 'denied by rule 1',
        details: { tool_calls: [{ name: 'search', decision: 'deny' }], warnings: [] },
      }),
    ];
    await store.audit.insertBatch(batch);
    await store.audit.insertBatch(batch);
    // A retried batch overlapping new records stores only the new ones.
    await store.audit.insertBatch([batch[1]!, auditRecord('req_3', 3000)]);

    assert.equal(await store.audit.count(), 3);
    const page = await store.audit.query({ limit: 10 });
    assert.deepEqual(page.records, newestFirst([...batch, auditRecord('req_3', 3000)]));
    assert.equal(page.next_cursor, '');
  }));

test('audit: every filter, alone and combined', () =>
  withStore(async (store) => {
    const records = [
      auditRecord('req_a', 1000),
      auditRecord('req_b', 2000, { provider: 'openai', model: 'gpt-4o', key_id: 'key_b' }),
      auditRecord('req_c', 3000, { decision: 'deny', status: 403 }),
      auditRecord('req_d', 4000, { provider: 'openai', model: 'gpt-4o', status: 502 }),
      auditRecord('req_e', 5000, { key_id: 'key_b', decision: 'deny', status: 403 }),
    ];
    await store.audit.insertBatch(records);
    const matching = async (query: Omit<AuditQuery, 'limit'>) => ids((await store.audit.query({ ...query, limit: 100 })).records);

    assert.deepEqual(await matching({}), ['req_e', 'req_d', 'req_c', 'req_b', 'req_a']);
    assert.deepEqual(await matching({ provider: 'openai' }), ['req_d', 'req_b']);
    assert.deepEqual(await matching({ model: 'gpt-4o' }), ['req_d', 'req_b']);
    assert.deepEqual(await matching({ key_id: 'key_b' }), ['req_e', 'req_b']);
    assert.deepEqual(await matching({ decision: 'deny' }), ['req_e', 'req_c']);
    assert.deepEqual(await matching({ status: 403 }), ['req_e', 'req_c']);
    assert.deepEqual(await matching({ since: 3000 }), ['req_e', 'req_d', 'req_c'], 'since is inclusive');
    assert.deepEqual(await matching({ until: 3000 }), ['req_b', 'req_a'], 'until is exclusive');
    assert.deepEqual(await matching({ since: 2000, until: 5000, provider: 'mistral' }), ['req_c']);
    assert.deepEqual(await matching({ key_id: 'key_b', decision: 'deny', status: 403 }), ['req_e']);
    assert.deepEqual(await matching({ provider: 'deepseek' }), []);
  }));

test('audit: pagination walks every record once, in order, across rows sharing a millisecond', () =>
  withStore(async (store) => {
    // 5 milliseconds x 5 records; ids inserted in an order unrelated to their sort order.
    const records: AuditRecord[] = [];
    for (const suffix of ['m', 'c', 'x', 'a', 'q']) {
      for (let ms = 0; ms < 5; ms++) {
        records.push(auditRecord(`req_${suffix}${ms}`, 10_000 + ms, { decision: ms % 2 === 0 ? 'allow' : 'deny' }));
      }
    }
    await store.audit.insertBatch(records);

    const pages = await walkPages(store, { limit: 4 });
    assert.deepEqual(pages.map((p) => p.length), [4, 4, 4, 4, 4, 4, 1]);
    assert.deepEqual(pages.flat(), ids(newestFirst(records)));

    // An exact multiple of the page size ends without an empty extra page.
    assert.deepEqual((await walkPages(store, { limit: 5 })).map((p) => p.length), [5, 5, 5, 5, 5]);

    const denied = records.filter((r) => r.decision === 'deny');
    assert.deepEqual((await walkPages(store, { decision: 'deny', limit: 3 })).flat(), ids(newestFirst(denied)));
  }));

test('audit: a filter the index range does not apply is scanned in bounded steps, and paging still finds every match', () =>
  withStore(async (store) => {
    // 12,500 records of one key; 7 of them tool calls, spread out; a model it never used.
    const records: AuditRecord[] = [];
    const toolCalls = new Set([3, 4, 2_000, 6_001, 9_999, 12_000, 12_499]);
    for (let i = 0; i < 12_500; i++) {
      records.push(auditRecord(`req_${String(i).padStart(5, '0')}`, 100_000 + i, toolCalls.has(i) ? { action: 'tool:call' } : {}));
    }
    for (let i = 0; i < records.length; i += 2500) await store.audit.insertBatch(records.slice(i, i + 2500));

    const pages = await walkPages(store, { key_id: 'key_a', action: 'tool:call', limit: 5 });
    assert.deepEqual(pages.flat(), ids(newestFirst(records.filter((r) => r.action === 'tool:call'))));
    // Each page reads at most AUDIT_SCAN_BUDGET index entries, so it may stop short of the limit, even with none.
    assert.ok(pages.length >= Math.ceil(records.length / AUDIT_SCAN_BUDGET), `pages: ${pages.map((p) => p.length)}`);
    assert.ok(pages.some((p) => p.length < 5 && p.length > 0) || pages.some((p) => p.length === 0));

    const none = await walkPages(store, { key_id: 'key_a', model: 'never-used', limit: 50 });
    assert.deepEqual(none.flat(), []);
    assert.equal(none.length, Math.ceil(records.length / AUDIT_SCAN_BUDGET), 'one bounded step per budget of entries, then the end');

    // A filter the index applies itself needs no bound: the page is full and the walk ends where the matches do.
    const byKey = await store.audit.query({ key_id: 'key_a', limit: 1000 });
    assert.equal(byKey.records.length, 1000);
  }));

test('audit: a malformed cursor or query is rejected naming the parameter', () =>
  withStore(async (store) => {
    await store.audit.insertBatch([auditRecord('req_1', 1000)]);
    const notCursors = [
      'not a cursor!',
      Buffer.from('plain text').toString('base64url'),
      Buffer.from(JSON.stringify({ time: 1, id: 'req_1' })).toString('base64url'),
      Buffer.from(JSON.stringify([-1, 'req_1'])).toString('base64url'),
      Buffer.from(JSON.stringify([1, ''])).toString('base64url'),
    ];
    for (const cursor of notCursors) {
      await assert.rejects(store.audit.query({ limit: 10, cursor }), (error: unknown) => {
        assert.ok(error instanceof InvalidCursorError, `cursor ${cursor}`);
        assert.equal(error.param, 'cursor');
        assert.match(error.message, /cursor/);
        return true;
      });
    }
    for (const [query, param] of [
      [{ limit: 0 }, 'limit'],
      [{ limit: 1001 }, 'limit'],
      [{ limit: 1.5 }, 'limit'],
      [{ limit: 10, decision: 'maybe' }, 'decision'],
      [{ limit: 10, since: -5 }, 'since'],
    ] as const) {
      await assert.rejects(store.audit.query(query as AuditQuery), (error: unknown) => {
        assert.ok(error instanceof InvalidAuditQueryError && !(error instanceof InvalidCursorError));
        assert.equal(error.param, param);
        return true;
      });
    }
    // A well-formed cursor past the end is simply an empty page.
    for (const position of [{ time: 0, id: 'req_0' }, { time: 0, seq: 0 }]) {
      assert.deepEqual(await store.audit.query({ limit: 10, cursor: encodeCursor(position) }), { records: [], next_cursor: '' });
    }
  }));

test('policy names are unique in the store: an insert or a rename onto a taken name is PolicyNameTakenError naming the holder', () =>
  withStore(async (store) => {
    await store.policies.insert({ id: 'pol_a', name: 'shared', document: { name: 'shared' }, created_at: 1, updated_at: 1 });
    await store.policies.insert({ id: 'pol_b', name: 'other', document: { name: 'other' }, created_at: 2, updated_at: 2 });
    const taken = (error: unknown) => error instanceof PolicyNameTakenError && error.policyName === 'shared' && error.holderId === 'pol_a';
    await assert.rejects(store.policies.insert({ id: 'pol_c', name: 'shared', document: { name: 'shared' }, created_at: 3, updated_at: 3 }), taken);
    await assert.rejects(store.policies.update('pol_b', 'shared', { name: 'shared' }, 4), taken);
    assert.deepEqual((await store.policies.list()).map((p) => [p.id, p.name]), [['pol_a', 'shared'], ['pol_b', 'other']]);
  }));

test('migration 5 (unique policy names) keeps the oldest holder of a shared name and renames the later ones "<name> (<id>)"', async () => {
  const dir = tempDir();
  try {
    const old = new Database(join(dir, SQLITE_FILE_NAME));
    migrate(old, 4);
    const insert = old.prepare('INSERT INTO policies (id, name, document, created_at, updated_at) VALUES (?, ?, ?, ?, ?)');
    const doc = (name: string) => JSON.stringify({ name, rules: [{ effect: 'allow', action: 'llm:*', resource: '*' }] });
    insert.run('pol_2', 'dup', doc('dup'), 100, 100);
    insert.run('pol_1', 'dup', doc('dup'), 100, 100); // same time: the smaller id is the older
    insert.run('pol_0', 'dup', doc('dup'), 200, 200);
    insert.run('pol_9', 'alone', doc('alone'), 50, 50);
    old.close();

    const store = await openSqliteStore(dir);
    try {
      const policies = await store.policies.list();
      assert.deepEqual(
        policies.map((p) => [p.id, p.name, (p.document as { name: string }).name]),
        [['pol_9', 'alone', 'alone'], ['pol_1', 'dup', 'dup'], ['pol_2', 'dup (pol_2)', 'dup (pol_2)'], ['pol_0', 'dup (pol_0)', 'dup (pol_0)']],
      );
      assert.deepEqual((policies[2]!.document as { rules: unknown }).rules, [{ effect: 'allow', action: 'llm:*', resource: '*' }]);
      await assert.rejects(store.policies.insert({ id: 'pol_x', name: 'dup', document: { name: 'dup' }, created_at: 300, updated_at: 300 }), PolicyNameTakenError);
    } finally {
      await store.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('migration 4 (compact audit log) keeps every record written before it, and their old cursors still page', async () => {
  const dir = tempDir();
  try {
    const file = join(dir, SQLITE_FILE_NAME);
    const old = new Database(file);
    migrate(old, 3);
    const written: AuditRecord[] = [];
    for (let i = 0; i < 30; i++) {
      written.push(
        auditRecord(`req_${String(i).padStart(2, '0')}`, 5_000 + Math.floor(i / 3), {
          key_id: i % 4 === 0 ? null : `key_${i % 3}`,
          agent_id: i % 5 === 0 ? 'agent-x' : null,
          decision: i % 3 === 0 ? 'deny' : 'allow',
          status: i % 3 === 0 ? 403 : 200,
          model: i % 2 ? 'mistral-small-latest' : 'mistral-large-latest',
          streamed: i % 2 === 0,
          error_message: i % 3 === 0 ? `denied ${i}` : null,
          details: i % 7 === 0 ? { pii: { email: i } } : null,
        }),
      );
    }
    const columns = Object.keys(written[0]!);
    const insert = old.prepare(`INSERT INTO audit_records (${columns.join(', ')}) VALUES (${columns.map((c) => `@${c}`).join(', ')})`);
    for (const r of written) insert.run({ ...r, streamed: r.streamed ? 1 : 0, client_aborted: r.client_aborted ? 1 : 0, details: r.details && JSON.stringify(r.details) });
    // A cursor a client got from the old schema: after the 10th record, newest first ((time desc, id desc) then).
    const oldOrder = [...written].sort((a, b) => b.time - a.time || (a.id < b.id ? 1 : -1));
    const oldCursor = encodeCursor({ time: oldOrder[9]!.time, id: oldOrder[9]!.id });
    old.close();

    const store = await openSqliteStore(dir);
    try {
      // Migrated rows were written in (time, id) order, so the new order matches the old one.
      assert.deepEqual((await store.audit.query({ limit: 100 })).records, oldOrder);
      assert.deepEqual((await store.audit.query({ limit: 100, cursor: oldCursor })).records, oldOrder.slice(10));
      assert.deepEqual((await store.audit.query({ limit: 100, key_id: 'key_1', decision: 'deny' })).records, oldOrder.filter((r) => r.key_id === 'key_1' && r.decision === 'deny'));
      const view = new Database(file, { readonly: true });
      try {
        assert.equal((view.prepare("SELECT COUNT(*) AS n FROM audit_records WHERE model = 'mistral-small-latest'").get() as { n: number }).n, 15);
      } finally {
        view.close();
      }
    } finally {
      await store.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('audit: a filtered newest-first page reads an index without sorting', () =>
  withStore(async (_store, dir) => {
    const db = new Database(join(dir, SQLITE_FILE_NAME), { readonly: true });
    try {
      const explain = (query: AuditQuery) => {
        const plan = planAuditQuery(query);
        const bound = buildAuditScanBound(plan);
        return [buildAuditSelect(plan, { time: 1, seq: 1 }), ...(bound ? [bound] : [])]
          .map(({ sql, params }) => (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as { detail: string }[]).map((row) => row.detail).join('\n'))
          .join('\n');
      };
      const cursor = encodeCursor({ time: 5000, seq: 42 });
      const legacyCursor = encodeCursor({ time: 5000, id: 'req_x' });
      for (const [query, index] of [
        [{ limit: 50 }, 'audit_log_time'],
        [{ limit: 50, since: 1000, until: 9000, cursor }, 'audit_log_time'],
        [{ limit: 50, cursor: legacyCursor }, 'audit_log_time'],
        [{ limit: 50, provider: 'mistral', cursor }, 'audit_log_provider'],
        [{ limit: 50, model: 'gpt-4o', since: 1000 }, 'audit_log_model'],
        [{ limit: 50, key_id: 'key_a', cursor }, 'audit_log_key'],
        [{ limit: 50, action: 'tool:call', cursor }, 'audit_log_action'],
        [{ limit: 50, decision: 'deny', cursor }, 'audit_log_denied'],
        [{ limit: 50, status: 403, cursor }, 'audit_log_failed'],
        [{ limit: 50, key_id: 'key_a', decision: 'deny', status: 403 }, 'audit_log_key_denied'],
        [{ limit: 50, model: 'm', decision: 'deny', cursor }, 'audit_log_model_denied'],
        [{ limit: 50, action: 'tool:call', decision: 'deny', provider: 'p' }, 'audit_log_action_denied'],
        [{ limit: 50, key_id: 'key_a', status: 502, since: 1000 }, 'audit_log_key_failed'],
        [{ limit: 50, key_id: 'key_a', action: 'tool:call', model: 'm', decision: 'allow' }, 'audit_log_key'],
        [{ limit: 50, action: 'tool:call', model: 'm', status: 200 }, 'audit_log_action'],
        [{ limit: 50, provider: 'p', model: 'm', until: 9000 }, 'audit_log_model'],
        // agent_id and route have no index: tested row by row on the range of the other filters (bounded scan).
        [{ limit: 50, agent_id: 'agent-x', cursor }, 'audit_log_time'],
        [{ limit: 50, agent_id: 'agent-x', key_id: 'key_a' }, 'audit_log_key'],
        [{ limit: 50, route: '/mistral/v1/models', decision: 'deny' }, 'audit_log_denied'],
      ] as const) {
        const plan = explain(query);
        assert.match(plan, new RegExp(`USING (COVERING )?INDEX ${index}\\b`), plan);
        assert.doesNotMatch(plan, /TEMP B-TREE/, plan);
      }
    } finally {
      db.close();
    }
  }));

test('audit: 10,000 records in batches of 500', (t) =>
  withStore(async (store) => {
    const started = performance.now();
    for (let batch = 0; batch < 20; batch++) {
      const records = Array.from({ length: 500 }, (_, i) =>
        auditRecord(`req_${batch}_${i}`, 1_700_000_000_000 + batch * 500 + i, { details: { batch } }),
      );
      await store.audit.insertBatch(records);
    }
    t.diagnostic(`inserted 10,000 audit records in ${(performance.now() - started).toFixed(0)} ms`);
    assert.equal(await store.audit.count(), 10_000);
  }));

test('data persists across close and reopen; migrations run once; a closed store rejects calls', async () => {
  const dir = tempDir();
  try {
    const first = await openSqliteStore(join(dir, 'nested', 'data'));
    await first.keys.insert(apiKey('key_a'));
    await first.policies.insert({ id: 'pol_1', name: 'p1', document: { name: 'p1' }, created_at: 1, updated_at: 1 });
    await first.audit.insertBatch([auditRecord('req_1', 1000)]);
    await first.close();
    await assert.rejects(first.keys.list());
    await assert.rejects(first.audit.insertBatch([auditRecord('req_2', 2000)]));

    const second = await openSqliteStore(join(dir, 'nested', 'data'));
    try {
      assert.deepEqual(await second.keys.list(), [apiKey('key_a')]);
      assert.equal((await second.policies.get('pol_1'))?.name, 'p1');
      assert.deepEqual(ids((await second.audit.query({ limit: 10 })).records), ['req_1']);
    } finally {
      await second.close();
    }

    const db = new Database(join(dir, 'nested', 'data', SQLITE_FILE_NAME));
    try {
      const versions = db.prepare('SELECT version FROM schema_migrations ORDER BY version').pluck().all();
      assert.deepEqual(versions, Array.from({ length: LATEST_SCHEMA_VERSION }, (_, i) => i + 1));
      assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
      // A database migrated by a newer Tollgate is refused rather than misread.
      db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(
        LATEST_SCHEMA_VERSION + 1,
        'from the future',
        Date.now(),
      );
    } finally {
      db.close();
    }
    await assert.rejects(openSqliteStore(join(dir, 'nested', 'data')), /newer than this Tollgate supports/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('pruneBefore deletes the oldest records older than a time, at most `limit` per call, on the writer thread', async () => {
  await withStore(async (store) => {
    await store.audit.insertBatch(Array.from({ length: 25 }, (_, i) => auditRecord(`r${String(i).padStart(2, '0')}`, 1_000 + i)));
    assert.equal(await store.audit.pruneBefore(1_020, 8), 8);
    assert.equal(await store.audit.count(), 17);
    assert.equal(await store.audit.pruneBefore(1_020, 8), 8);
    assert.equal(await store.audit.pruneBefore(1_020, 8), 4, 'fewer than the limit: nothing older is left');
    assert.equal(await store.audit.pruneBefore(1_020, 8), 0);
    const left = (await store.audit.query({ limit: 100 })).records.map((r) => r.time);
    assert.deepEqual(left, [1_024, 1_023, 1_022, 1_021, 1_020], 'records at or after the time stay');
  });
});

test('audit queries run on a read-only connection of their own (a thread, not the event loop)', async () => {
  const dir = tempDir();
  try {
    const store = await openSqliteStore(dir);
    await store.audit.insertBatch([auditRecord('q1', 1_000)]);
    const reader = new AuditThread({ file: join(dir, SQLITE_FILE_NAME), busyTimeoutMs: 100, readonly: true, fsyncCommits: false });
    assert.deepEqual(await reader.select('SELECT id FROM audit_records', []), [{ id: 'q1' }]);
    await assert.rejects(reader.select("DELETE FROM audit_log WHERE id = 'q1' RETURNING id", []), /readonly/);
    await assert.rejects(reader.insertBatch([auditRecord('q2', 2_000)]), /does not write/);
    await reader.close();
    assert.equal(await store.audit.count(), 1);
    await store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
