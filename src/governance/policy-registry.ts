/**
 * The live policy set: stored policies compiled into one immutable snapshot. Every change recompiles and swaps the
 * snapshot, so the next request sees it and a request in flight keeps the snapshot it started with.
 */
import { compilePolicies, ENGINE_UNAVAILABLE, validatePolicy, type Decision, type EvalRequest, type PolicySnapshot } from '../policy/index.js';
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

export class PolicyRegistry {
  private current: PolicySnapshot;

  constructor(
    private readonly store: PolicyStore,
    private readonly strict: boolean,
  ) {
    this.current = compilePolicies([], { strict });
  }

  get snapshot(): PolicySnapshot {
    return this.current;
  }

  /** Evaluates against the current snapshot; if evaluation itself fails, the answer is deny (fail closed). */
  decide(request: EvalRequest): Decision {
    try {
      return this.current.evaluate(request);
    } catch {
      return ENGINE_UNAVAILABLE_DECISION;
    }
  }

  async load(): Promise<void> {
    const records = await this.store.list();
    this.current = compilePolicies(
      records.map((r) => ({ id: r.id, document: checked(r.document) })),
      { strict: this.strict },
    );
  }

  list(): Promise<PolicyRecord[]> {
    return this.store.list();
  }

  get(id: string): Promise<PolicyRecord | null> {
    return this.store.get(id);
  }

  async create(document: unknown, now: number): Promise<PolicyRecord> {
    const policy = checked(document);
    const record: PolicyRecord = { id: generateId('pol'), name: policy.name, document, created_at: now, updated_at: now };
    await this.store.insert(record);
    await this.load();
    return record;
  }

  async update(id: string, document: unknown, now: number): Promise<PolicyRecord | null> {
    const policy = checked(document);
    const record = await this.store.update(id, policy.name, document, now);
    if (record) await this.load();
    return record;
  }

  async delete(id: string): Promise<boolean> {
    const deleted = await this.store.delete(id);
    if (deleted) await this.load();
    return deleted;
  }
}

function checked(document: unknown) {
  const result = validatePolicy(document);
  if (!result.ok) throw new PolicyValidationError(result.errors);
  return result.policy;
}
