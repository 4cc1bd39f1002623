/**
 * The SQLite schema as an append-only list of migrations. Never edit a released migration: add the next version.
 * Times are integer epoch ms, booleans 0/1, structured values JSON text.
 */
import type Database from 'better-sqlite3';

interface Migration {
  version: number;
  name: string;
  sql: string;
}

const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'keys, policies, audit',
    sql: `
      CREATE TABLE api_keys (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        prefix TEXT NOT NULL,
        hash TEXT NOT NULL UNIQUE,
        attributes TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        expires_at INTEGER,
        revoked_at INTEGER
      );

      CREATE TABLE policies (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        document TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      );

      CREATE TABLE audit_records (
        id TEXT PRIMARY KEY,
        time INTEGER NOT NULL,
        key_id TEXT,
        agent_id TEXT,
        provider TEXT,
        method TEXT NOT NULL,
        route TEXT NOT NULL,
        action TEXT,
        resource TEXT,
        model TEXT,
        decision TEXT NOT NULL,
        reason_code TEXT NOT NULL,
        policy TEXT,
        rule TEXT,
        status INTEGER NOT NULL,
        latency_ms INTEGER NOT NULL,
        upstream_latency_ms INTEGER,
        streamed INTEGER NOT NULL,
        client_aborted INTEGER NOT NULL,
        prompt_tokens INTEGER,
        completion_tokens INTEGER,
        total_tokens INTEGER,
        error_message TEXT,
        details TEXT
      );
      -- Newest-first pages: each filter leads an index that continues with (time, id), so a filtered page is an
      -- index range scanned backwards, with no sort.
      CREATE INDEX audit_time ON audit_records (time, id);
      CREATE INDEX audit_provider_time ON audit_records (provider, time, id);
      CREATE INDEX audit_model_time ON audit_records (model, time, id);
      CREATE INDEX audit_key_time ON audit_records (key_id, time, id);
      -- Denials and failures are the rare rows people look for: partial indexes serve those queries and cost nothing
      -- when the common row (an allowed 2xx) is inserted. Queries for allows or 2xx scan audit_time, where most rows match.
      CREATE INDEX audit_denied_time ON audit_records (time, id) WHERE decision = 'deny';
      CREATE INDEX audit_failed_status_time ON audit_records (status, time, id) WHERE status >= 400;
    `,
  },
  {
    version: 2,
    name: 'change revisions of keys and policies',
    // Every write to keys or policies, by any process sharing the file, bumps a revision that gateways poll.
    sql: `
      CREATE TABLE revisions (scope TEXT PRIMARY KEY, revision INTEGER NOT NULL);
      INSERT INTO revisions (scope, revision) VALUES ('keys', 0), ('policies', 0);
      CREATE TRIGGER api_keys_insert AFTER INSERT ON api_keys BEGIN UPDATE revisions SET revision = revision + 1 WHERE scope = 'keys'; END;
      CREATE TRIGGER api_keys_update AFTER UPDATE ON api_keys BEGIN UPDATE revisions SET revision = revision + 1 WHERE scope = 'keys'; END;
      CREATE TRIGGER api_keys_delete AFTER DELETE ON api_keys BEGIN UPDATE revisions SET revision = revision + 1 WHERE scope = 'keys'; END;
      CREATE TRIGGER policies_insert AFTER INSERT ON policies BEGIN UPDATE revisions SET revision = revision + 1 WHERE scope = 'policies'; END;
      CREATE TRIGGER policies_update AFTER UPDATE ON policies BEGIN UPDATE revisions SET revision = revision + 1 WHERE scope = 'policies'; END;
      CREATE TRIGGER policies_delete AFTER DELETE ON policies BEGIN UPDATE revisions SET revision = revision + 1 WHERE scope = 'policies'; END;
    `,
  },
  {
    version: 3,
    name: 'per-key revisions, for incremental key sync',
    // Each key row carries the keys revision of its last write, so a gateway reloads only the keys changed since the
    // revision it has. A deleted row cannot be listed that way: deletes also bump 'keys_removed', which means reload all.
    // The update trigger names the columns it watches, so its own write of `revision` does not fire it again.
    sql: `
      ALTER TABLE api_keys ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;
      CREATE INDEX api_keys_revision ON api_keys (revision);
      INSERT INTO revisions (scope, revision) VALUES ('keys_removed', 0);
      DROP TRIGGER api_keys_insert;
      DROP TRIGGER api_keys_update;
      DROP TRIGGER api_keys_delete;
      CREATE TRIGGER api_keys_insert AFTER INSERT ON api_keys BEGIN UPDATE revisions SET revision = revision + 1 WHERE scope = 'keys'; UPDATE api_keys SET revision = (SELECT revision FROM revisions WHERE scope = 'keys') WHERE rowid = NEW.rowid; END;
      CREATE TRIGGER api_keys_update AFTER UPDATE OF id, name, prefix, hash, attributes, created_at, expires_at, revoked_at ON api_keys BEGIN UPDATE revisions SET revision = revision + 1 WHERE scope = 'keys'; UPDATE api_keys SET revision = (SELECT revision FROM revisions WHERE scope = 'keys') WHERE rowid = NEW.rowid; END;
      CREATE TRIGGER api_keys_delete AFTER DELETE ON api_keys BEGIN UPDATE revisions SET revision = revision + 1 WHERE scope IN ('keys', 'keys_removed'); END;
    `,
  },
];

export const LATEST_SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]?.version ?? 0;

/**
 * Applies pending migrations in one IMMEDIATE transaction: it takes the write lock before reading what is applied,
 * so processes opening the same file at once apply each migration exactly once.
 */
export function migrate(db: Database.Database): void {
  const applyPending = db.transaction(() => {
    db.exec(
      'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)',
    );
    const applied = new Set(db.prepare('SELECT version FROM schema_migrations').pluck().all() as number[]);
    const newest = Math.max(0, ...applied);
    if (newest > LATEST_SCHEMA_VERSION) {
      throw new Error(
        `database schema version ${newest} is newer than this Tollgate supports (${LATEST_SCHEMA_VERSION}); upgrade Tollgate`,
      );
    }
    const record = db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)');
    for (const migration of MIGRATIONS) {
      if (applied.has(migration.version)) continue;
      db.exec(migration.sql);
      record.run(migration.version, migration.name, Date.now());
    }
  });
  applyPending.immediate();
}
