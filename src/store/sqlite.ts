/**
 * The embedded Store: one SQLite file, `<dataDir>/tollgate.db`, in WAL mode so several processes (workers, the CLI)
 * can share it: readers never block the writer, and writers wait for each other up to the busy timeout.
 */
import { chmodSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { AuditThread } from './audit-thread.js';
import { sqliteAuditStore } from './sqlite-audit.js';
import { migrate } from './sqlite-schema.js';
import { PolicyNameTakenError, type ApiKeyRecord, type KeyStore, type PolicyRecord, type PolicyStore, type Revisions, type Store } from './types.js';

export const SQLITE_FILE_NAME = 'tollgate.db';
/** How long a write waits for another process's write to finish before failing with SQLITE_BUSY. */
const BUSY_TIMEOUT_MS = 5000;

export interface SqliteStoreOptions {
  /**
   * Audit commits fsynced before they return (`synchronous = FULL` on the audit connection): with sync audit
   * durability, a record that released an answer survives a power loss too, not only a crash of the process.
   */
  fsyncAuditCommits?: boolean;
}

export async function openSqliteStore(dataDir: string, options: SqliteStoreOptions = {}): Promise<Store> {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const file = join(dataDir, SQLITE_FILE_NAME);
  const db = new Database(file);
  try {
    // Keys, policies and the audit trail are private to the gateway; SQLite gives the WAL and shared-memory files
    // the database file's permissions, so this one chmod covers them.
    chmodSync(file, 0o600);
    // Busy timeout first: switching to WAL and migrating may have to wait for another process.
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    db.pragma('journal_mode = WAL');
    // Left by an earlier run with other permissions: made private too.
    for (const suffix of ['-wal', '-shm']) if (existsSync(file + suffix)) chmodSync(file + suffix, 0o600);
    // In WAL mode NORMAL is corruption-safe; a power loss may only drop the last commits.
    db.pragma('synchronous = NORMAL');
    migrate(db);
    const fsyncCommits = options.fsyncAuditCommits ?? false;
    const auditWriter = new AuditThread({ file, busyTimeoutMs: BUSY_TIMEOUT_MS, readonly: false, fsyncCommits });
    const auditReader = new AuditThread({ file, busyTimeoutMs: BUSY_TIMEOUT_MS, readonly: true, fsyncCommits });
    const revisionRows = db.prepare<[], { scope: string; revision: number }>('SELECT scope, revision FROM revisions');
    const store: Store = {
      kind: 'sqlite',
      keys: sqliteKeyStore(db),
      policies: sqlitePolicyStore(db),
      audit: sqliteAuditStore({ writer: auditWriter, reader: auditReader }),
      async revisions() {
        const out: Revisions = { keys: 0, policies: 0, keysRemoved: 0 };
        for (const row of revisionRows.all()) {
          if (row.scope === 'keys' || row.scope === 'policies') out[row.scope] = row.revision;
          else if (row.scope === 'keys_removed') out.keysRemoved = row.revision;
        }
        return out;
      },
      async close() {
        if (!db.open) return;
        await Promise.all([auditWriter.close(), auditReader.close()]);
        // SQLite's advice for a connection that has run for a while: refresh the planner statistics it found stale.
        db.pragma('optimize');
        db.close();
      },
    };
    return store;
  } catch (error) {
    db.close();
    throw error;
  }
}

type KeyRow = Omit<ApiKeyRecord, 'attributes'> & { attributes: string };

const KEY_COLUMNS = 'id, name, prefix, hash, attributes, created_at, expires_at, revoked_at';

function keyFromRow(row: KeyRow): ApiKeyRecord {
  return { ...row, attributes: JSON.parse(row.attributes) as Record<string, string> };
}

function sqliteKeyStore(db: Database.Database): KeyStore {
  const insert = db.prepare<KeyRow>(
    `INSERT INTO api_keys (${KEY_COLUMNS})
     VALUES (@id, @name, @prefix, @hash, @attributes, @created_at, @expires_at, @revoked_at)`,
  );
  const byId = db.prepare<[string], KeyRow>(`SELECT ${KEY_COLUMNS} FROM api_keys WHERE id = ?`);
  const byHash = db.prepare<[string], KeyRow>(`SELECT ${KEY_COLUMNS} FROM api_keys WHERE hash = ?`);
  const all = db.prepare<[], KeyRow>(`SELECT ${KEY_COLUMNS} FROM api_keys ORDER BY created_at, id`);
  const changed = db.prepare<[number], KeyRow>(`SELECT ${KEY_COLUMNS} FROM api_keys WHERE revision > ?`);
  // A key keeps its first revocation time: revoking again does not rewrite history.
  const revoke = db.prepare<[number, string], KeyRow>(
    `UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ? RETURNING ${KEY_COLUMNS}`,
  );

  return {
    async insert(key) {
      insert.run({ ...key, attributes: JSON.stringify(key.attributes) });
    },
    async get(id) {
      const row = byId.get(id);
      return row ? keyFromRow(row) : null;
    },
    async findByHash(hash) {
      const row = byHash.get(hash);
      return row ? keyFromRow(row) : null;
    },
    async list() {
      return all.all().map(keyFromRow);
    },
    async changedSince(revision) {
      return changed.all(revision).map(keyFromRow);
    },
    async revoke(id, at) {
      const row = revoke.get(at, id);
      return row ? keyFromRow(row) : null;
    },
  };
}

type PolicyRow = Omit<PolicyRecord, 'document'> & { document: string };

const POLICY_COLUMNS = 'id, name, document, created_at, updated_at';

function policyFromRow(row: PolicyRow): PolicyRecord {
  return { ...row, document: JSON.parse(row.document) as unknown };
}

function sqlitePolicyStore(db: Database.Database): PolicyStore {
  const insert = db.prepare<PolicyRow>(
    `INSERT INTO policies (${POLICY_COLUMNS}) VALUES (@id, @name, @document, @created_at, @updated_at)`,
  );
  const byId = db.prepare<[string], PolicyRow>(`SELECT ${POLICY_COLUMNS} FROM policies WHERE id = ?`);
  const all = db.prepare<[], PolicyRow>(`SELECT ${POLICY_COLUMNS} FROM policies ORDER BY created_at, id`);
  const update = db.prepare<[string, string, number, string], PolicyRow>(
    `UPDATE policies SET name = ?, document = ?, updated_at = ? WHERE id = ? RETURNING ${POLICY_COLUMNS}`,
  );
  const remove = db.prepare<[string]>('DELETE FROM policies WHERE id = ?');
  const holderOf = db.prepare<[string], string>('SELECT id FROM policies WHERE name = ?').pluck();
  /** Runs a write; the unique index on name (migration 5) refusing it becomes PolicyNameTakenError naming the holder. */
  const nameChecked = <T>(name: string, write: () => T): T => {
    try {
      return write();
    } catch (err) {
      const holder = (err as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE' ? holderOf.get(name) : undefined;
      if (holder !== undefined) throw new PolicyNameTakenError(name, holder);
      throw err;
    }
  };

  return {
    async insert(policy) {
      nameChecked(policy.name, () => insert.run({ ...policy, document: JSON.stringify(policy.document) }));
    },
    async get(id) {
      const row = byId.get(id);
      return row ? policyFromRow(row) : null;
    },
    async list() {
      return all.all().map(policyFromRow);
    },
    async update(id, name, document, updatedAt) {
      const row = nameChecked(name, () => update.get(name, JSON.stringify(document), updatedAt, id));
      return row ? policyFromRow(row) : null;
    },
    async delete(id) {
      return remove.run(id).changes > 0;
    },
  };
}
