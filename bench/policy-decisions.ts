/**
 * Policy engine micro-benchmark: decisions/s and median/p99 latency per decision for realistic random policy sets of
 * 10, 100 and 1,000 rules (seeded, so runs are comparable). Run: node dist/bench/policy-decisions.js
 */
import { pathToFileURL } from 'node:url';
import { compilePolicies, type EvalRequest, type NamedPolicy, type Rule } from '../src/policy/index.js';

const PROVIDERS = ['mistral', 'openai', 'deepseek', 'anthropic', 'groq'];
const MODELS = ['mistral-large-latest', 'mistral-medium-latest', 'mistral-small-latest', 'gpt-4o', 'gpt-4o-mini', 'deepseek-chat', 'claude-sonnet', 'llama-3.1-70b'];
const TOOLS = ['send_email', 'search_web', 'read_file', 'delete_file', 'delete_user', 'create_ticket', 'run_sql', 'get_weather'];
const TEAMS = ['payments', 'search', 'support', 'ml', 'growth', 'infra', 'legal', 'data', 'mobile', 'web'];
const KEYS = Array.from({ length: 50 }, (_, i) => ({ id: `key_${i.toString(16).padStart(4, '0')}`, attributes: { team: TEAMS[i % TEAMS.length] as string, env: i % 3 === 0 ? 'prod' : 'dev' } }));

/** mulberry32: a small seeded PRNG. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function generator(seed: number) {
  const random = prng(seed);
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
      return { effect, action, resource, ...(Object.keys(conditions).length ? { conditions } : {}) };
    }
    const resource = weighted([[0.4, `${provider}/*`], [0.4, `${provider}/${pick(MODELS)}`], [0.1, '*'], [0.1, `${provider}/${pick(MODELS).slice(0, 4)}*`]] as const);
    // Deny rules are targeted (they always carry a condition); allow rules are often plain grants.
    const extra = effect === 'deny' ? weighted([[0.8, 1], [0.2, 2]] as const) : weighted([[0.4, 0], [0.45, 1], [0.15, 2]] as const);
    for (let i = 0; i < extra; i++) {
      weighted<() => void>([
        [0.3, () => (conditions.model = sample(MODELS, 2 + Math.floor(random() * 2)))],
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
        [0.6, undefined],
        [0.2, { key_ids: sample(KEYS, 1 + Math.floor(random() * 3)).map((k) => k.id) }],
        [0.2, { key_attributes: { team: sample(TEAMS, 1 + Math.floor(random() * 2)) } }],
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
    const kind = weighted([[0.7, 'chat'], [0.2, 'tool'], [0.1, 'models']] as const);
    if (kind === 'models') return { action: 'llm:models.list', resource: `${provider}/*`, provider, key };
    if (kind === 'tool') {
      const name = pick(TOOLS);
      const to = random() < 0.7 ? 'alice@example.com' : 'mallory@evil.test';
      return { action: 'tool:call', resource: `${provider}/tools/${name}`, provider, key, tool: { name, arguments: { to, subject: text(5) } } };
    }
    const model = pick(MODELS);
    const messages = Array.from({ length: 1 + Math.floor(random() * 4) }, (_, i) => ({ role: i % 2 ? 'assistant' : 'user', content: text(20 + Math.floor(random() * 40)) }));
    const body = { model, messages, max_tokens: pick([256, 1024, 4096, 10000]), temperature: pick([0, 0.3, 0.7, 1.2]), stream: random() < 0.5 };
    return { action: 'llm:chat.completions', resource: `${provider}/${model}`, provider, key, body };
  }

  return { policies, request };
}

export interface BenchRow {
  rules: number;
  policies: number;
  decisionsPerSecond: number;
  medianMicros: number;
  p99Micros: number;
  allowShare: number;
}

export function benchPolicyDecisions(ruleCounts: readonly number[] = [10, 100, 1000], samples = 100_000): BenchRow[] {
  return ruleCounts.map((ruleCount) => {
    const gen = generator(ruleCount);
    const policies = gen.policies(ruleCount);
    const snapshot = compilePolicies(policies);
    const requests = Array.from({ length: 4096 }, gen.request);
    let allowed = 0;
    for (let i = 0; i < samples; i++) snapshot.evaluate(requests[i % requests.length] as EvalRequest); // warm-up

    const started = process.hrtime.bigint();
    for (let i = 0; i < samples; i++) if (snapshot.evaluate(requests[i % requests.length] as EvalRequest).decision === 'allow') allowed++;
    const elapsedNs = Number(process.hrtime.bigint() - started);

    const timings = new Float64Array(samples);
    for (let i = 0; i < samples; i++) {
      const request = requests[i % requests.length] as EvalRequest;
      const t0 = process.hrtime.bigint();
      snapshot.evaluate(request);
      timings[i] = Number(process.hrtime.bigint() - t0);
    }
    timings.sort();
    return {
      rules: snapshot.ruleCount,
      policies: snapshot.policyCount,
      decisionsPerSecond: Math.round(samples / (elapsedNs / 1e9)),
      medianMicros: (timings[Math.floor(samples / 2)] ?? 0) / 1000,
      p99Micros: (timings[Math.floor(samples * 0.99)] ?? 0) / 1000,
      allowShare: allowed / samples,
    };
  });
}

function printTable(rows: BenchRow[]): void {
  const header = ['rules', 'policies', 'decisions/s', 'median µs', 'p99 µs', 'allowed'];
  const lines = rows.map((r) => [
    String(r.rules),
    String(r.policies),
    r.decisionsPerSecond.toLocaleString('en-US'),
    r.medianMicros.toFixed(2),
    r.p99Micros.toFixed(2),
    `${(r.allowShare * 100).toFixed(0)}%`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] ?? '').length)));
  const format = (cells: string[]) => cells.map((c, i) => c.padStart(widths[i] ?? 0)).join('  ');
  console.log(format(header));
  for (const line of lines) console.log(format(line));
  console.log('(per-decision timings include ~0.05 µs of timer overhead)');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  printTable(benchPolicyDecisions());
}
