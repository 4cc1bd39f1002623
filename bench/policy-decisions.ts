/**
 * Policy engine micro-benchmark: decisions/s and median/p99 latency per decision for random policy sets of 10 to
 * 10,000 rules (seeded, so runs are comparable), in two shapes:
 *  - "org": the population grows with the rule set, as in a deployment that size: a 10,000-rule set is ~1,300
 *    policies for 1,000 keys in 100 teams, 50 agents and 28 tools; most policies are scoped to a team or to keys.
 *  - "dense": the same 50 keys, 10 teams and 8 tools whatever the size, and most policies global: at 10,000 rules a
 *    tool call has ~100 rules on its own resource. A stress case, not a deployment.
 * Run: node dist/bench/policy-decisions.js
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { PolicyRegistry } from '../src/governance/policy-registry.js';
import { openSqliteStore } from '../src/store/sqlite.js';
import { compilePolicies, type EvalRequest, type NamedPolicy, type Rule } from '../src/policy/index.js';
import { mulberry32 } from '../src/fake-mistral/random.js';

const PROVIDERS = ['mistral', 'openai', 'deepseek', 'anthropic', 'groq'];
const MODELS = ['mistral-large-latest', 'mistral-medium-latest', 'mistral-small-latest', 'gpt-4o', 'gpt-4o-mini', 'deepseek-chat', 'claude-sonnet', 'llama-3.1-70b'];
const BASE_TOOLS = ['send_email', 'search_web', 'read_file', 'delete_file', 'delete_user', 'create_ticket', 'run_sql', 'get_weather'];
const BASE_TEAMS = ['payments', 'search', 'support', 'ml', 'growth', 'infra', 'legal', 'data', 'mobile', 'web'];

export type Shape = 'org' | 'dense';

/** Who sends requests and what policies talk about, for a rule set of `rules` rules in the given shape. */
function population(shape: Shape, rules: number) {
  const grow = shape === 'org';
  const teams = [...BASE_TEAMS, ...Array.from({ length: grow ? Math.max(0, Math.round(rules / 100) - 10) : 0 }, (_, i) => `team-${i}`)];
  const tools = [...BASE_TOOLS, ...Array.from({ length: grow ? Math.round(rules / 500) : 0 }, (_, i) => `tool_${i}`)];
  const keyCount = grow ? Math.max(50, Math.round(rules / 10)) : 50;
  const keys = Array.from({ length: keyCount }, (_, i) => ({
    id: `key_${i.toString(16).padStart(4, '0')}`,
    attributes: { team: teams[i % teams.length] as string, env: i % 3 === 0 ? 'prod' : 'dev' },
  }));
  const agents = Array.from({ length: grow ? Math.max(5, Math.round(rules / 200)) : 5 }, (_, i) => `agent-${i}`);
  // Share of policies that apply to every key, to some keys by id, to some teams.
  const scopes = grow ? ([0.2, 0.4, 0.4] as const) : ([0.6, 0.2, 0.2] as const);
  return { teams, tools, keys, agents, scopes };
}

export function generator(seed: number, shape: Shape = 'dense', size = seed) {
  const random = mulberry32(seed);
  const { teams: TEAMS, tools: TOOLS, keys: KEYS, agents: AGENTS, scopes: SCOPES } = population(shape, size);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const weighted = <T>(choices: readonly (readonly [number, T])[]): T => {
    let r = random();
    for (const [weight, value] of choices) if ((r -= weight) < 0) return value;
    return (choices[choices.length - 1] as readonly [number, T])[1];
  };
  const sample = <T>(items: readonly T[], n: number): T[] => [...items].sort(() => random() - 0.5).slice(0, n);

  function rule(): Rule {
    const effect = weighted([[0.55, 'allow'], [0.3, 'deny'], [0.08, 'warn'], [0.07, 'audit']] as const);
    const action = weighted([
      [0.55, 'llm:chat.completions'],
      [0.1, 'llm:completions'],
      [0.05, 'llm:models.list'],
      [0.05, 'llm:embeddings'],
      [0.2, 'tool:call'],
      [0.05, 'llm:*'],
    ] as const);
    const provider = pick(PROVIDERS);
    const conditions: Record<string, unknown> = {};
    if (action === 'tool:call') {
      const resource = weighted([[0.5, `${provider}/tools/${pick(TOOLS)}`], [0.2, `${provider}/tools/delete_*`], [0.3, `*/tools/${pick(TOOLS)}`]] as const);
      if (resource.endsWith('send_email') && random() < 0.5) conditions['not_only_tool.args.to'] = '*@example.com';
      if (random() < 0.2 || (effect === 'deny' && Object.keys(conditions).length === 0)) conditions['key.env'] = 'prod';
      if (random() < 0.1) conditions.agent_id = sample(AGENTS, 1 + Math.floor(random() * 2));
      return { effect, action, resource, ...(Object.keys(conditions).length ? { conditions } : {}) };
    }
    const resource = weighted([[0.4, `${provider}/*`], [0.4, `${provider}/${pick(MODELS)}`], [0.1, '*'], [0.1, `${provider}/${pick(MODELS).slice(0, 4)}*`]] as const);
    // Deny rules are targeted (they always carry a condition); allow rules are often plain grants.
    const extra = effect === 'deny' ? weighted([[0.8, 1], [0.2, 2]] as const) : weighted([[0.4, 0], [0.45, 1], [0.15, 2]] as const);
    for (let i = 0; i < extra; i++) {
      weighted<() => void>([
        [0.25, () => (conditions.model = sample(MODELS, 2 + Math.floor(random() * 2)))],
        [0.05, () => (conditions.agent_id = sample(AGENTS, 1 + Math.floor(random() * 2)))],
        [0.25, () => (conditions.max_tokens_gt = pick([1024, 4096, 8192, 16384]))],
        [0.1, () => (conditions.temperature_lte = pick([0.2, 0.7, 1]))],
        [0.1, () => (conditions['key.env'] = pick(['prod', 'dev']))],
        [0.07, () => (conditions.stream = random() < 0.5)],
        [0.07, () => (conditions.prompt_chars_gt = pick([2000, 10000, 50000]))],
        [0.05, () => (conditions.prompt_contains = ['ignore previous instructions'])],
        [0.03, () => (conditions.prompt_detects = [pick(['email', 'credit_card', 'api_key'])])],
        [0.03, () => (conditions.time_of_day = { after: '08:00', before: '20:00', tz: pick(['UTC', 'Europe/Paris']) })],
      ])();
    }
    return { effect, action, resource, ...(Object.keys(conditions).length ? { conditions } : {}) };
  }

  function policies(ruleCount: number): NamedPolicy[] {
    const out: NamedPolicy[] = [];
    for (let made = 0; made < ruleCount; ) {
      const size = Math.min(ruleCount - made, 5 + Math.floor(random() * 6));
      const scope = weighted([
        [SCOPES[0], undefined],
        [SCOPES[1], { key_ids: sample(KEYS, 1 + Math.floor(random() * 3)).map((k) => k.id) }],
        [SCOPES[2], { key_attributes: { team: sample(TEAMS, 1 + Math.floor(random() * 2)) } }],
      ] as const);
      const rules = Array.from({ length: size }, rule);
      out.push({ id: `pol_${out.length}`, document: { name: `policy-${out.length}`, ...(scope ? { scope } : {}), rules } });
      made += size;
    }
    return out;
  }

  const words = 'the quick brown fox jumps over a lazy dog while we summarise quarterly revenue and explain regularization'.split(' ');
  const text = (n: number) => Array.from({ length: n }, () => pick(words)).join(' ');

  /** Requests carry no `now`: like the gateway, evaluation uses the current time. */
  function request(): EvalRequest {
    const key = pick(KEYS);
    const provider = pick(PROVIDERS);
    const agent = random() < 0.6 ? { agent_id: pick(AGENTS) } : {};
    const kind = weighted([[0.7, 'chat'], [0.2, 'tool'], [0.1, 'models']] as const);
    if (kind === 'models') return { action: 'llm:models.list', resource: `${provider}/*`, provider, key, ...agent };
    if (kind === 'tool') {
      const name = pick(TOOLS);
      const to = random() < 0.7 ? 'alice@example.com' : 'mallory@evil.test';
      return { action: 'tool:call', resource: `${provider}/tools/${name}`, provider, key, ...agent, tool: { name, arguments: { to, subject: text(5) } } };
    }
    const model = pick(MODELS);
    const messages = Array.from({ length: 1 + Math.floor(random() * 4) }, (_, i) => ({ role: i % 2 ? 'assistant' : 'user', content: text(20 + Math.floor(random() * 40)) }));
    const body = { model, messages, max_tokens: pick([256, 1024, 4096, 10000]), temperature: pick([0, 0.3, 0.7, 1.2]), stream: random() < 0.5 };
    return { action: 'llm:chat.completions', resource: `${provider}/${model}`, provider, key, ...agent, body };
  }

  return { policies, request };
}

export interface BenchRow {
  shape: Shape;
  rules: number;
  policies: number;
  decisionsPerSecond: number;
  medianMicros: number;
  p99Micros: number;
  /** Tool-call decisions alone: the requests with the most rules on their resource. */
  toolMedianMicros: number;
  /** Allowed decisions alone: they test every candidate deny rule (a deny can stop at the first match). */
  allowedMedianMicros: number;
  allowedP99Micros: number;
  allowShare: number;
}

export const DEFAULT_SETS: readonly (readonly [Shape, number])[] = [
  ['org', 10],
  ['org', 100],
  ['org', 1000],
  ['org', 10_000],
  ['dense', 1000],
  ['dense', 10_000],
];

export function benchPolicyDecisions(sets: readonly (readonly [Shape, number])[] = DEFAULT_SETS, samples = 100_000): BenchRow[] {
  return sets.map(([shape, ruleCount]) => {
    const gen = generator(ruleCount, shape);
    const snapshot = compilePolicies(gen.policies(ruleCount));
    const requests = Array.from({ length: 4096 }, gen.request);
    let allowed = 0;
    for (let i = 0; i < samples; i++) snapshot.evaluate(requests[i % requests.length] as EvalRequest); // warm-up

    const started = process.hrtime.bigint();
    for (let i = 0; i < samples; i++) if (snapshot.evaluate(requests[i % requests.length] as EvalRequest).decision === 'allow') allowed++;
    const elapsedNs = Number(process.hrtime.bigint() - started);

    const timings = new Float64Array(samples);
    const toolTimings: number[] = [];
    const allowedTimings: number[] = [];
    for (let i = 0; i < samples; i++) {
      const request = requests[i % requests.length] as EvalRequest;
      const t0 = process.hrtime.bigint();
      const outcome = snapshot.evaluate(request).decision;
      timings[i] = Number(process.hrtime.bigint() - t0);
      if (request.action === 'tool:call') toolTimings.push(timings[i] as number);
      if (outcome === 'allow') allowedTimings.push(timings[i] as number);
    }
    timings.sort();
    toolTimings.sort((a, b) => a - b);
    allowedTimings.sort((a, b) => a - b);
    return {
      shape,
      rules: snapshot.ruleCount,
      policies: snapshot.policyCount,
      decisionsPerSecond: Math.round(samples / (elapsedNs / 1e9)),
      medianMicros: (timings[Math.floor(samples / 2)] ?? 0) / 1000,
      p99Micros: (timings[Math.floor(samples * 0.99)] ?? 0) / 1000,
      toolMedianMicros: (toolTimings[Math.floor(toolTimings.length / 2)] ?? 0) / 1000,
      allowedMedianMicros: (allowedTimings[Math.floor(allowedTimings.length / 2)] ?? 0) / 1000,
      allowedP99Micros: (allowedTimings[Math.floor(allowedTimings.length * 0.99)] ?? 0) / 1000,
      allowShare: allowed / samples,
    };
  });
}

export interface ChangeRow {
  rules: number;
  /** Creating one policy through the registry (store write, compile, snapshot swap), median. */
  changeMillis: number;
  /** The decisions right after a change rebuild the candidate groups they use: the extra cost of the first ones. */
  firstDecisionsMillis: number;
  /** Compiling the whole set from scratch, as every change did before policies were compiled one at a time. */
  fullCompileMillis: number;
}

/** What one policy change costs at each rule-set size ("org" shape), against a SQLite store in a temporary directory. */
export async function benchPolicyChange(ruleCounts: readonly number[] = [100, 10_000], changes = 15): Promise<ChangeRow[]> {
  const rows: ChangeRow[] = [];
  for (const ruleCount of ruleCounts) {
    const dir = mkdtempSync(join(tmpdir(), 'tollgate-bench-policies-'));
    const store = await openSqliteStore(dir);
    try {
      const gen = generator(ruleCount, 'org');
      const policies = gen.policies(ruleCount);
      for (const [i, p] of policies.entries()) {
        await store.policies.insert({ id: p.id, name: p.document.name, document: p.document, created_at: i, updated_at: i });
      }
      const registry = new PolicyRegistry(store.policies, false);
      const t0 = performance.now();
      await registry.load();
      const fullCompileMillis = performance.now() - t0;
      const requests = Array.from({ length: 512 }, gen.request);
      const steady = () => {
        const started = performance.now();
        for (const request of requests) registry.decide(request);
        return performance.now() - started;
      };
      steady();
      const changeTimes: number[] = [];
      const firstTimes: number[] = [];
      for (let i = 0; i < changes; i++) {
        const [extra] = generator(ruleCount + i + 1, 'org', ruleCount).policies(8);
        const started = performance.now();
        await registry.create(extra?.document, 1e12 + i);
        changeTimes.push(performance.now() - started);
        const first = steady();
        firstTimes.push(first - steady());
      }
      const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
      rows.push({ rules: registry.snapshot.ruleCount, changeMillis: median(changeTimes), firstDecisionsMillis: median(firstTimes), fullCompileMillis });
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return rows;
}

function printTable(rows: BenchRow[]): void {
  const header = ['shape', 'rules', 'policies', 'decisions/s', 'median µs', 'p99 µs', 'tool call median µs', 'allowed', 'allowed median µs', 'allowed p99 µs'];
  const lines = rows.map((r) => [
    r.shape,
    String(r.rules),
    String(r.policies),
    r.decisionsPerSecond.toLocaleString('en-US'),
    r.medianMicros.toFixed(2),
    r.p99Micros.toFixed(2),
    r.toolMedianMicros.toFixed(2),
    `${(r.allowShare * 100).toFixed(0)}%`,
    r.allowedMedianMicros.toFixed(2),
    r.allowedP99Micros.toFixed(2),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] ?? '').length)));
  const format = (cells: string[]) => cells.map((c, i) => c.padStart(widths[i] ?? 0)).join('  ');
  console.log(format(header));
  for (const line of lines) console.log(format(line));
  console.log('(per-decision timings include ~0.05 µs of timer overhead)');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  printTable(benchPolicyDecisions());
  console.log('');
  console.log('policy change ("org" shape): create one policy   median ms   first decisions after, extra ms   full compile ms');
  for (const row of await benchPolicyChange()) {
    console.log(`  ${String(row.rules).padStart(6)} rules ${row.changeMillis.toFixed(2).padStart(33)} ${row.firstDecisionsMillis.toFixed(2).padStart(33)} ${row.fullCompileMillis.toFixed(1).padStart(17)}`);
  }
}
