/**
 * Policy validation: every problem of a document, each with its JSON path. A document that passes has been parsed
 * into a CheckedPolicy, the form the compiler consumes, so the engine can evaluate everything validation accepts.
 */
import { parseCondition, type ConditionSpec } from './condition-spec.js';
import { childPath, checkKnownKeys, describeType, isPlainObject, Problems } from './problems.js';
import { EFFECTS, TOOL_NAME_MODES, type Effect, type PolicyDocument, type ValidationError, type ValidationResult } from './types.js';

export interface CheckedRule {
  index: number;
  /** The rule's id, else its index as a string. */
  label: string;
  description: string | undefined;
  effect: Effect;
  action: string[] | null;
  notAction: string[] | null;
  resource: string[] | null;
  notResource: string[] | null;
  conditions: ConditionSpec[];
}

export interface CheckedScope {
  keyIds: string[] | null;
  keyAttributes: [attribute: string, patterns: string[]][];
}

export interface CheckedPolicy {
  document: PolicyDocument;
  scope: CheckedScope | null;
  /** tool_names is "case_insensitive" (the default). */
  foldToolNames: boolean;
  rules: CheckedRule[];
}

export type CheckResult = { ok: true; policy: CheckedPolicy } | { ok: false; errors: ValidationError[] };

/** Characters an action can contain (besides the wildcards * and ?). */
export const ACTION_CHARACTERS = 'letters, digits, . _ - : /';
const ACTION_PATTERN = /^[A-Za-z0-9._:/*?-]+$/;
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f]/;

const POLICY_FIELDS = ['name', 'description', 'scope', 'tool_names', 'rules'] as const;
const RULE_FIELDS = ['id', 'description', 'effect', 'action', 'not_action', 'resource', 'not_resource', 'conditions'] as const;
const SCOPE_FIELDS = ['key_ids', 'key_attributes'] as const;

export function validatePolicy(doc: unknown): ValidationResult {
  const result = checkPolicy(doc);
  return result.ok ? { ok: true, policy: result.policy.document } : result;
}

export function checkPolicy(doc: unknown): CheckResult {
  const problems = new Problems();
  if (!isPlainObject(doc)) {
    problems.add('$', `a policy must be a JSON object, got ${describeType(doc)}`);
    return { ok: false, errors: problems.list };
  }
  checkKnownKeys(doc, POLICY_FIELDS, '$', problems);
  if (typeof doc.name !== 'string' || doc.name.trim() === '') problems.add('$.name', 'required: a non-empty string');
  optionalString(doc, 'description', '$', problems);
  const scope = doc.scope === undefined ? null : checkScope(doc.scope, '$.scope', problems);
  const toolNames = doc.tool_names;
  if (toolNames !== undefined && !(TOOL_NAME_MODES as readonly unknown[]).includes(toolNames)) {
    const got = typeof toolNames === 'string' ? JSON.stringify(toolNames) : describeType(toolNames);
    problems.add('$.tool_names', `must be "case_insensitive" (the default: tool names ignore case) or "exact", got ${got}`);
  }
  const rules = checkRules(doc.rules, problems);
  if (problems.count > 0) return { ok: false, errors: problems.list };
  const document = structuredClone(doc) as unknown as PolicyDocument;
  return { ok: true, policy: { document, scope, foldToolNames: toolNames !== 'exact', rules } };
}

function checkRules(value: unknown, problems: Problems): CheckedRule[] {
  if (!Array.isArray(value)) {
    problems.add('$.rules', `required: a non-empty list of rules, got ${describeType(value)}`);
    return [];
  }
  if (value.length === 0) problems.add('$.rules', 'must contain at least one rule');
  const rules: CheckedRule[] = [];
  const ids = new Map<string, number>();
  value.forEach((raw, index) => {
    const path = childPath('$.rules', index);
    const rule = checkRule(raw, index, path, problems);
    if (!rule) return;
    const first = ids.get(rule.label);
    if (first !== undefined) problems.add(`${path}.id`, `duplicate rule id ${JSON.stringify(rule.label)} (also rule ${first})`);
    ids.set(rule.label, index);
    rules.push(rule);
  });
  return rules;
}

function checkRule(raw: unknown, index: number, path: string, problems: Problems): CheckedRule | undefined {
  if (!isPlainObject(raw)) {
    problems.add(path, `a rule must be a JSON object, got ${describeType(raw)}`);
    return undefined;
  }
  checkKnownKeys(raw, RULE_FIELDS, path, problems);
  if (raw.id !== undefined && (typeof raw.id !== 'string' || raw.id === '')) {
    problems.add(`${path}.id`, 'must be a non-empty string');
  }
  optionalString(raw, 'description', path, problems);
  if (!(EFFECTS as readonly unknown[]).includes(raw.effect)) {
    problems.add(`${path}.effect`, `must be one of ${EFFECTS.join(', ')}`);
  }
  const action = patternList(raw, 'action', path, problems, actionProblem);
  const notAction = patternList(raw, 'not_action', path, problems, actionProblem);
  const resource = patternList(raw, 'resource', path, problems, resourceProblem);
  const notResource = patternList(raw, 'not_resource', path, problems, resourceProblem);
  if (raw.action === undefined && raw.not_action === undefined) problems.add(path, 'needs "action" or "not_action"');
  if (raw.resource === undefined && raw.not_resource === undefined) problems.add(path, 'needs "resource" or "not_resource"');
  const conditions = checkConditions(raw.conditions, `${path}.conditions`, problems);
  return {
    index,
    label: typeof raw.id === 'string' && raw.id !== '' ? raw.id : String(index),
    description: typeof raw.description === 'string' ? raw.description : undefined,
    effect: raw.effect as Effect,
    action,
    notAction,
    resource,
    notResource,
    conditions,
  };
}

function checkConditions(value: unknown, path: string, problems: Problems): ConditionSpec[] {
  if (value === undefined) return [];
  if (!isPlainObject(value)) {
    problems.add(path, `must be an object of condition key -> value, got ${describeType(value)}`);
    return [];
  }
  const specs: ConditionSpec[] = [];
  for (const [key, v] of Object.entries(value)) {
    const spec = parseCondition(key, v, childPath(path, key), problems);
    if (spec) specs.push(spec);
  }
  return specs;
}

function checkScope(value: unknown, path: string, problems: Problems): CheckedScope | null {
  if (!isPlainObject(value)) {
    problems.add(path, `must be an object with "key_ids" and/or "key_attributes", got ${describeType(value)}`);
    return null;
  }
  checkKnownKeys(value, SCOPE_FIELDS, path, problems);
  const keyIds = patternList(value, 'key_ids', path, problems, nonEmptyProblem);
  const keyAttributes: [string, string[]][] = [];
  const attributes = value.key_attributes;
  if (attributes !== undefined) {
    const at = `${path}.key_attributes`;
    if (!isPlainObject(attributes) || Object.keys(attributes).length === 0) {
      problems.add(at, 'must be a non-empty object of attribute -> pattern or list of patterns');
    } else {
      for (const name of Object.keys(attributes)) {
        const patterns = patternList(attributes, name, at, problems, nonEmptyProblem);
        if (patterns) keyAttributes.push([name, patterns]);
      }
    }
  }
  if (value.key_ids === undefined && value.key_attributes === undefined) {
    problems.add(path, 'needs "key_ids" and/or "key_attributes" (omit "scope" to apply the policy to every key)');
  }
  return { keyIds, keyAttributes };
}

type PatternProblem = (pattern: string) => string | undefined;

function actionProblem(pattern: string): string | undefined {
  if (pattern === '') return 'an empty pattern can never match';
  const bad = [...pattern].find((ch) => !ACTION_PATTERN.test(ch));
  return bad === undefined ? undefined : `${JSON.stringify(bad)} can never match: actions contain only ${ACTION_CHARACTERS}`;
}

function resourceProblem(pattern: string): string | undefined {
  if (pattern === '') return 'an empty pattern can never match';
  return CONTROL_CHARACTER.test(pattern) ? 'control characters can never match a resource' : undefined;
}

function nonEmptyProblem(pattern: string): string | undefined {
  return pattern === '' ? 'an empty pattern can never match' : undefined;
}

/** A pattern or non-empty list of patterns at obj[field]; null when absent or invalid (problems recorded). */
function patternList(
  obj: Record<string, unknown>,
  field: string,
  parent: string,
  problems: Problems,
  problemOf: PatternProblem,
): string[] | null {
  const value = obj[field];
  if (value === undefined) return null;
  const path = childPath(parent, field);
  if (Array.isArray(value) && value.length === 0) {
    problems.add(path, 'must be a pattern or a non-empty list of patterns, got an empty list');
    return null;
  }
  const items = Array.isArray(value) ? value : [value];
  const before = problems.count;
  items.forEach((item, i) => {
    const at = Array.isArray(value) ? childPath(path, i) : path;
    const problem = typeof item === 'string' ? problemOf(item) : `must be a string pattern, got ${describeType(item)}`;
    if (problem) problems.add(at, problem);
  });
  return problems.count === before ? (items as string[]) : null;
}

function optionalString(obj: Record<string, unknown>, field: string, parent: string, problems: Problems): void {
  if (obj[field] !== undefined && typeof obj[field] !== 'string') {
    problems.add(childPath(parent, field), `must be a string, got ${describeType(obj[field])}`);
  }
}
