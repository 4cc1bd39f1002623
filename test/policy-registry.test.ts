/**
 * The live policy set changes incrementally (a change compiles only the policy it touches; a reload recompiles only
 * what differs from the store). Whatever the sequence of changes, made here or by another process sharing the
 * store, the live snapshot must decide exactly as a snapshot compiled from scratch from the store's policies.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { PolicyRegistry, PolicyValidationError } from '../src/governance/policy-registry.js';
import { compilePolicies, type EvalRequest, type PolicyDocument } from '../src/policy/index.js';
import { openSqliteStore } from '../src/store/sqlite.js';
import { PolicyNameTakenError, type Store } from '../src/store/types.js';

const team = fc.constantFrom('a', 'b');
const model = fc.constantFrom('m1', 'm2');
const document: fc.Arbitrary<PolicyDocument> = fc.record({
  name: fc.constantFrom('p', 'q'),
  scope: fc.option(fc.record({ key_attributes: fc.record({ team }) }), { nil: undefined }),
  rules: fc.array(
    fc.record({
      effect: fc.constantFrom('allow', 'deny', 'warn'),
      action: fc.constantFrom('llm:chat.completions', 'tool:call'),
      resource: fc.constantFrom('x/*', 'x/m1', '*/tools/t', 'x/tools/t'),
      conditions: fc.option(fc.record({ model: model }), { nil: undefined }),
    }),
    { minLength: 1, maxLength: 3 },
  ),
}).map((doc) => JSON.parse(JSON.stringify(doc)) as PolicyDocument);

type Change =
  | { kind: 'create' | 'create elsewhere'; document: PolicyDocument; at: number }
  | { kind: 'update' | 'update elsewhere'; pick: number; document: PolicyDocument; at: number }
  | { kind: 'delete' | 'delete elsewhere'; pick: number }
  | { kind: 'reload' };

const at = fc.integer({ min: 1, max: 5 }); // few distinct times, so created_at ties are ordered by id
const change: fc.Arbitrary<Change> = fc.oneof(
  fc.record({ kind: fc.constantFrom('create' as const, 'create elsewhere' as const), document, at }),
  fc.record({ kind: fc.constantFrom('update' as const, 'update elsewhere' as const), pick: fc.nat(), document, at }),
  fc.record({ kind: fc.constantFrom('delete' as const, 'delete elsewhere' as const), pick: fc.nat() }),
  fc.constant({ kind: 'reload' as const }),
);

const requests: EvalRequest[] = [];
for (const resource of ['x/m1', 'x/m2', 'x/tools/t', 'y/tools/t']) {
  for (const teamName of ['a', 'b']) {
    const key = { id: 'k', attributes: { team: teamName } };
    const action = resource.includes('/tools/') ? 'tool:call' : 'llm:chat.completions';
    requests.push({ action, resource, key, body: { model: resource.slice(2) }, ...(action === 'tool:call' ? { tool: { name: 't', arguments: {} } } : {}) });
  }
}

async function withStore(body: (store: Store) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-registry-'));
  const store = await openSqliteStore(dir);
  try {
    await body(store);
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

let elsewhere = 0; // ids of policies created by "another process": never reused

/** Applies one change; one refused because its name is taken (names are unique) changes nothing, as the property checks. */
async function apply(registry: PolicyRegistry, store: Store, step: Change, ids: string[]): Promise<void> {
  try {
    await applyChange(registry, store, step, ids);
  } catch (err) {
    if (!(err instanceof PolicyNameTakenError)) throw err;
  }
}

async function applyChange(registry: PolicyRegistry, store: Store, step: Change, ids: string[]): Promise<void> {
  const pick = (n: number) => ids[n % ids.length];
  switch (step.kind) {
    case 'create':
      ids.push((await registry.create(step.document, step.at)).id);
      return;
    case 'create elsewhere': {
      const id = `pol_elsewhere_${elsewhere++}`;
      await store.policies.insert({ id, name: step.document.name, document: step.document, created_at: step.at, updated_at: step.at });
      ids.push(id);
      return;
    }
    case 'update':
    case 'update elsewhere': {
      const id = pick(step.pick);
      if (id === undefined) return;
      if (step.kind === 'update') await registry.update(id, step.document, step.at);
      else await store.policies.update(id, step.document.name, step.document, step.at);
      return;
    }
    case 'delete':
    case 'delete elsewhere': {
      const id = pick(step.pick);
      if (id === undefined) return;
      ids.splice(ids.indexOf(id), 1);
      if (step.kind === 'delete') await registry.delete(id);
      else await store.policies.delete(id);
      return;
    }
    case 'reload':
      await registry.load();
  }
}

describe('policy registry', () => {
  it('after any sequence of changes, a reload decides exactly as a fresh compile of the stored policies', async () => {
    await withStore(async (store) => {
      await fc.assert(
        fc.asyncProperty(fc.array(change, { maxLength: 12 }), async (changes) => {
          for (const record of await store.policies.list()) await store.policies.delete(record.id);
          const registry = new PolicyRegistry(store.policies, false);
          await registry.load();
          const ids: string[] = [];
          for (const step of changes) await apply(registry, store, step, ids);
          await registry.load();
          const stored = await store.policies.list();
          const fresh = compilePolicies(stored.map((r) => ({ id: r.id, document: r.document as PolicyDocument })));
          assert.equal(registry.snapshot.ruleCount, fresh.ruleCount);
          for (const req of requests) assert.deepEqual(registry.decide(req), fresh.evaluate(req));
        }),
        { numRuns: 150 },
      );
    });
  });

  it('local changes alone keep the live set equal to the store without any reload', async () => {
    await withStore(async (store) => {
      await fc.assert(
        fc.asyncProperty(fc.array(change.filter((c) => !c.kind.endsWith('elsewhere') && c.kind !== 'reload'), { maxLength: 12 }), async (changes) => {
          for (const record of await store.policies.list()) await store.policies.delete(record.id);
          const registry = new PolicyRegistry(store.policies, true);
          await registry.load();
          const ids: string[] = [];
          for (const step of changes) await apply(registry, store, step, ids);
          const stored = await store.policies.list();
          const fresh = compilePolicies(stored.map((r) => ({ id: r.id, document: r.document as PolicyDocument })), { strict: true });
          for (const req of requests) assert.deepEqual(registry.decide(req), fresh.evaluate(req));
        }),
        { numRuns: 150 },
      );
    });
  });

  it('changes asked for at once apply one after the other, and an invalid one changes nothing', async () => {
    await withStore(async (store) => {
      const registry = new PolicyRegistry(store.policies, false);
      await registry.load();
      const allow = { name: 'allow', rules: [{ effect: 'allow', action: '*', resource: '*' }] };
      const created = await Promise.all(Array.from({ length: 20 }, (_, i) => registry.create({ ...allow, name: `p${i}` }, 1000 + (i % 3))));
      await Promise.all(created.slice(0, 10).map((r) => registry.delete(r.id)));
      await assert.rejects(registry.create({ name: 'bad', rules: [{ effect: 'maybe' }] }, 2000), PolicyValidationError);
      assert.equal(registry.snapshot.policyCount, 10);
      assert.equal((await store.policies.list()).length, 10);
    });
  });
});
