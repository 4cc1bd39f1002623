/**
 * The live policy set: stored policies compiled into one immutable snapshot. Every change swaps the snapshot, so the
 * next request sees it and a request in flight keeps the snapshot it started with. Policies are compiled one at a
 * time and kept: a change compiles only the policy it touches, and a reload (a change made by another process)
 * recompiles only the policies whose stored document differs from the one compiled. Changes apply one at a time, in
 * the order they were asked for.
 */
import {
  compilePolicy,
  ENGINE_UNAVAILABLE,
  snapshotOf,
  validatePolicy,
  type CompiledPolicy,
  type Decision,
  type EvalRequest,
  type PolicySnapshot,
} from '../policy/index.js';
import { generateId } from '../keys/secrets.js';
import type { PolicyRecord, PolicyStore } from '../store/types.js';

export class PolicyValidationError extends Error {
  constructor(readonly errors: { path: string; message: string }[]) {
    super(`invalid policy: ${errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`);
    this.name = 'PolicyValidationError';
  }
}

const ENGINE_UNAVAILABLE_DECISION: Decision = {
  decision: 'deny',
  reason_code: ENGINE_UNAVAILABLE,
  policy: null,
  policy_id: null,
  rule: null,
  effect: null,
  reason: 'the policy engine failed on this request; denied (fail closed)',
  warnings: [],
  audit_full_request: false,
};

/** A policy of the live set, in store order (created_at, id). `text`: its document as stored, to spot changes. */
interface LivePolicy {
  id: string;
  createdAt: number;
  text: string;
  compiled: CompiledPolicy;
}

/**
 * What the live set does with a request: `observe` (no policy: allowed and audited), `strict_no_policy` (no policy,
 * CZ_GATEWAY_STRICT_POLICY: denied), `enforce` (the policies decide).
 */
export type PolicyMode = 'observe' | 'strict_no_policy' | 'enforce';

export class PolicyRegistry {
  private current: PolicySnapshot;
  private live: LivePolicy[] = [];
  private changes: Promise<unknown> = Promise.resolve();
  private modeListener: ((mode: PolicyMode, previous: PolicyMode) => void) | null = null;

  constructor(
    private readonly store: PolicyStore,
    private readonly strict: boolean,
  ) {
    this.current = snapshotOf([], { strict });
  }

  get snapshot(): PolicySnapshot {
    return this.current;
  }

  get mode(): PolicyMode {
    return this.current.policyCount > 0 ? 'enforce' : this.strict ? 'strict_no_policy' : 'observe';
  }

  /** `listener` hears each later change of mode: the first policy created, the last one deleted, here or elsewhere. */
  onModeChange(listener: (mode: PolicyMode, previous: PolicyMode) => void): void {
    this.modeListener = listener;
  }

  /** Evaluates against the current snapshot; if evaluation itself fails, the answer is deny (fail closed). */
  decide(request: EvalRequest): Decision {
    try {
      return this.current.evaluate(request);
    } catch {
      return ENGINE_UNAVAILABLE_DECISION;
    }
  }

  /** Reloads from the store; compiles only the policies not compiled before in their stored form. */
  load(): Promise<void> {
    return this.serially(() => this.reload());
  }

  list(): Promise<PolicyRecord[]> {
    return this.store.list();
  }

  get(id: string): Promise<PolicyRecord | null> {
    return this.store.get(id);
  }

  async create(document: unknown, now: number): Promise<PolicyRecord> {
    const policy = checked(document);
    return this.serially(async () => {
      const record: PolicyRecord = { id: generateId('pol'), name: policy.name, document, created_at: now, updated_at: now };
      await this.store.insert(record);
      const added = livePolicy(record, JSON.stringify(document));
      const at = this.live.findIndex((p) => storeOrder(added, p) < 0);
      this.replace(at < 0 ? [...this.live, added] : [...this.live.slice(0, at), added, ...this.live.slice(at)]);
      return record;
    });
  }

  async update(id: string, document: unknown, now: number): Promise<PolicyRecord | null> {
    const policy = checked(document);
    return this.serially(async () => {
      const record = await this.store.update(id, policy.name, document, now);
      if (record) {
        const at = this.live.findIndex((p) => p.id === id);
        // Not compiled yet (created by another process since the last reload): a reload puts it in its place.
        if (at < 0) await this.reload();
        else {
          const updated = livePolicy(record, JSON.stringify(record.document));
          this.replace(this.live.map((p, i) => (i === at ? updated : p)));
        }
      }
      return record;
    });
  }

  delete(id: string): Promise<boolean> {
    return this.serially(async () => {
      const deleted = await this.store.delete(id);
      if (deleted) this.replace(this.live.filter((p) => p.id !== id));
      return deleted;
    });
  }

  private async reload(): Promise<void> {
    const records = await this.store.list();
    const known = new Map(this.live.map((p) => [p.id, p]));
    this.replace(
      records.map((record) => {
        const text = JSON.stringify(record.document);
        const same = known.get(record.id);
        return same && same.text === text ? same : livePolicy(record, text);
      }),
    );
  }

  private replace(live: LivePolicy[]): void {
    const previous = this.mode;
    this.live = live;
    this.current = snapshotOf(
      live.map((p) => p.compiled),
      { strict: this.strict },
      this.current,
    );
    if (this.mode !== previous) this.modeListener?.(this.mode, previous);
  }

  /** Runs `work` after every change asked for before it, so two changes never interleave their store and swap steps. */
  private serially<T>(work: () => Promise<T>): Promise<T> {
    const run = this.changes.then(work, work);
    this.changes = run.catch(() => undefined);
    return run;
  }
}

function livePolicy(record: PolicyRecord, text: string): LivePolicy {
  return { id: record.id, createdAt: record.created_at, text, compiled: compilePolicy({ id: record.id, document: checked(record.document) }) };
}

/** The store's list order: created_at, then id. */
function storeOrder(a: LivePolicy, b: LivePolicy): number {
  return a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

function checked(document: unknown) {
  const result = validatePolicy(document);
  if (!result.ok) throw new PolicyValidationError(result.errors);
  return result.policy;
}
