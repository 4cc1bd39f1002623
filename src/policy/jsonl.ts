/**
 * `tollgate policy eval --jsonl`, one line at a time (the CLI wires stdin/stdout). Input line:
 *   {"policies": [<policy document>...], "request": {"action", "resource", ...}, "strict"?: boolean}
 * Output line: {"decision", "reason_code", "policy", "rule", "effect", "reason", "warnings", "audit_full_request"}.
 * A line that is not such an object answers {"error": "..."}; invalid policies answer a deny with reason_code
 * INVALID_POLICY and every validation error in `reason`. Compiled snapshots are cached by policies JSON.
 */
import { z } from 'zod';
import { compilePolicies } from './compile.js';
import { INVALID_POLICY } from './reason-codes.js';
import type { Decision, EvalRequest, PolicySnapshot } from './types.js';
import { validatePolicy } from './validate.js';

const RequestSchema = z.strictObject({
  action: z.string(),
  resource: z.string(),
  provider: z.string().optional(),
  body: z.record(z.string(), z.unknown()).optional(),
  key: z.strictObject({ id: z.string(), attributes: z.record(z.string(), z.string()).default({}) }).optional(),
  agent_id: z.string().optional(),
  /** arguments_invalid: fact tool.args_invalid; derived from arguments when absent (see toolArgumentsInvalid). */
  tool: z.strictObject({ name: z.string(), arguments: z.unknown(), arguments_invalid: z.boolean().optional() }).optional(),
  /** Epoch milliseconds or an ISO 8601 date-time. */
  now: z.union([z.number(), z.iso.datetime({ offset: true }).transform((s) => Date.parse(s))]).optional(),
});

const LineSchema = z.strictObject({
  policies: z.array(z.unknown()),
  request: RequestSchema,
  strict: z.boolean().optional(),
});

type Compiled = { snapshot: PolicySnapshot } | { invalid: string };

const CACHE_LIMIT = 64;
const cache = new Map<string, Compiled>();

export function evaluateJsonLine(line: string): string {
  let input: unknown;
  try {
    input = JSON.parse(line);
  } catch (error) {
    return JSON.stringify({ error: `invalid JSON: ${(error as Error).message}` });
  }
  const parsed = LineSchema.safeParse(input);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${formatPath(i.path)}: ${i.message}`);
    return JSON.stringify({ error: `invalid input line: ${problems.join('; ')}` });
  }
  const { policies, request, strict = false } = parsed.data;
  const compiled = compiledFor(policies, strict);
  const decision: Decision =
    'invalid' in compiled ? invalidPolicyDecision(compiled.invalid) : compiled.snapshot.evaluate(request as EvalRequest);
  const { decision: outcome, reason_code, policy, rule, effect, reason, warnings, audit_full_request } = decision;
  return JSON.stringify({ decision: outcome, reason_code, policy, rule, effect, reason, warnings, audit_full_request });
}

/** Bounded LRU by the policies' JSON text, so a stream of lines with the same policies compiles them once. */
function compiledFor(policies: unknown[], strict: boolean): Compiled {
  const key = `${strict ? 'strict' : 'observe'}:${JSON.stringify(policies)}`;
  let entry = cache.get(key);
  if (entry) {
    cache.delete(key);
  } else {
    entry = compile(policies, strict);
    if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value as string);
  }
  cache.set(key, entry);
  return entry;
}

function compile(policies: unknown[], strict: boolean): Compiled {
  const problems: string[] = [];
  const named = policies.flatMap((doc, i) => {
    const result = validatePolicy(doc);
    if (result.ok) return [{ id: `policies[${i}]`, document: result.policy }];
    for (const e of result.errors) problems.push(`${e.path.replace(/^\$/, `$.policies[${i}]`)}: ${e.message}`);
    return [];
  });
  if (problems.length > 0) return { invalid: problems.join('; ') };
  return { snapshot: compilePolicies(named, { strict }) };
}

function invalidPolicyDecision(problems: string): Decision {
  return {
    decision: 'deny',
    reason_code: INVALID_POLICY,
    policy: null,
    policy_id: null,
    rule: null,
    effect: null,
    reason: `invalid policy: ${problems}`,
    warnings: [],
    audit_full_request: false,
  };
}

function formatPath(path: PropertyKey[]): string {
  return path.reduce<string>((acc, p) => (typeof p === 'number' ? `${acc}[${p}]` : `${acc}.${String(p)}`), '$');
}
