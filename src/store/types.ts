/**
 * The persistence boundary. Everything the gateway keeps (keys, policies, audit) goes through a Store;
 * SQLite is the embedded default, PostgreSQL the scale-out implementation. Methods are async so both fit.
 * Times are epoch milliseconds here; the HTTP layer turns them into ISO strings.
 */

export interface ApiKeyRecord {
  id: string; // "key_..." public identifier, safe to log
  name: string;
  /** First characters of the secret (e.g. "cz_live_AbCd") so people can recognise a key; not enough to use it. */
  prefix: string;
  /** SHA-256 hex of the full secret. The secret itself is never stored. */
  hash: string;
  attributes: Record<string, string>;
  created_at: number;
  expires_at: number | null;
  revoked_at: number | null;
}

export interface PolicyRecord {
  id: string; // "pol_..."
  name: string;
  /** The policy JSON as the user sent it (validated before it is stored). */
  document: unknown;
  created_at: number;
  updated_at: number;
}

export type AuditDecision = 'allow' | 'deny';

export interface AuditRecord {
  id: string; // "req_..." — also the request id returned to the client in x-request-id
  time: number; // when the request arrived
  key_id: string | null;
  agent_id: string | null;
  provider: string | null;
  method: string;
  route: string; // path as requested, without query string
  action: string | null;
  resource: string | null;
  model: string | null;
  decision: AuditDecision;
  reason_code: string;
  policy: string | null; // deciding policy name
  rule: string | null; // deciding rule id or index
  status: number;
  latency_ms: number;
  upstream_latency_ms: number | null;
  streamed: boolean;
  client_aborted: boolean;
  prompt_tokens: number | null;
  completion_tokens: number | null;
  total_tokens: number | null;
  error_message: string | null;
  /** Free-form structured details (tool-call decisions, warnings, ...), stored as JSON. */
  details: Record<string, unknown> | null;
}

export interface AuditQuery {
  provider?: string;
  model?: string;
  key_id?: string;
  agent_id?: string;
  /** The path as requested (AuditRecord.route), e.g. "/mistral/v1/chat/completions". */
  route?: string;
  action?: string;
  decision?: AuditDecision;
  status?: number;
  since?: number; // inclusive, epoch ms
  until?: number; // exclusive, epoch ms
  limit: number; // 1..1000
  cursor?: string; // opaque, from a previous page's next_cursor
}

export interface AuditPage {
  records: AuditRecord[]; // newest first (time desc; records of the same millisecond, the last written first)
  next_cursor: string; // "" at the end
}

export interface KeyStore {
  insert(key: ApiKeyRecord): Promise<void>;
  get(id: string): Promise<ApiKeyRecord | null>;
  findByHash(hash: string): Promise<ApiKeyRecord | null>;
  list(): Promise<ApiKeyRecord[]>; // oldest first
  /** Keys inserted or changed after keys revision `revision` (Revisions.keys), in no particular order. */
  changedSince(revision: number): Promise<ApiKeyRecord[]>;
  /** Marks the key revoked at `at`; returns the updated record, or null when no such key. */
  revoke(id: string, at: number): Promise<ApiKeyRecord | null>;
}

/** A policy insert or update would give a second policy the same name (names are unique: audit records name policies). */
export class PolicyNameTakenError extends Error {
  constructor(
    readonly policyName: string,
    /** The policy that holds the name. */
    readonly holderId: string,
  ) {
    super(`a policy named ${JSON.stringify(policyName)} already exists (${holderId})`);
    this.name = 'PolicyNameTakenError';
  }
}

export interface PolicyStore {
  /** Throws PolicyNameTakenError when another policy has the name. */
  insert(policy: PolicyRecord): Promise<void>;
  get(id: string): Promise<PolicyRecord | null>;
  list(): Promise<PolicyRecord[]>; // oldest first
  /** Replaces name/document/updated_at; returns the updated record, or null when no such policy. Throws
   * PolicyNameTakenError when another policy has the name. */
  update(id: string, name: string, document: unknown, updatedAt: number): Promise<PolicyRecord | null>;
  delete(id: string): Promise<boolean>;
}

export interface AuditStore {
  /** Writes all records in one transaction: either all are stored or the call rejects. Idempotent on id. */
  insertBatch(records: AuditRecord[]): Promise<void>;
  query(query: AuditQuery): Promise<AuditPage>;
  /** Total number of records (tests and health checks). */
  count(): Promise<number>;
  /**
   * Deletes up to `limit` of the oldest records older than `time` (epoch ms), in one short transaction off the
   * request path; returns how many it deleted (fewer than `limit`: nothing older is left). Retention calls it in a loop.
   */
  pruneBefore(time: number, limit: number): Promise<number>;
}

/** Counters that grow with every write to keys or policies, by any process sharing the store. */
export interface Revisions {
  keys: number;
  policies: number;
  /** Grows when a key is deleted (a change `changedSince` cannot list): reload every key. */
  keysRemoved: number;
}

export interface Store {
  readonly kind: 'sqlite' | 'postgres';
  readonly keys: KeyStore;
  readonly policies: PolicyStore;
  readonly audit: AuditStore;
  /** Cheap to call often: gateways poll it to pick up changes other processes made. */
  revisions(): Promise<Revisions>;
  close(): Promise<void>;
}
