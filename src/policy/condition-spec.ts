/**
 * The condition-key grammar, parsed and checked once at validation time into ConditionSpecs that the compiler turns
 * into closures. A key is
 *   [not_][only_]<fact>[_<op>]     op: gt gte lt lte eq (numbers), contains detects (strings); none = match
 *   <fact>_exists                  true/false: whether the request has the fact at all
 *   [not_]time_of_day | [not_]weekday
 * A list value means any-of. docs/policies.md is the reference.
 */
import { DETECTOR_NAMES, isDetectorName } from './detectors.js';
import { BOOLEAN_FACTS, NUMBER_FACTS, STRING_FACTS, resolveFact, type Fact, type FactType } from './facts.js';
import { childPath, checkKnownKeys, describeType, isPlainObject, type Problems } from './problems.js';
import { WEEKDAYS, isTimeZone, parseClock, type ClockWindow } from './time-window.js';

export type FactOp = 'match' | 'gt' | 'gte' | 'lt' | 'lte' | 'eq' | 'contains' | 'detects';
export type Operand = string | number | boolean;

export interface WeekdaySet {
  days: number[]; // 0 = Sunday
  tz: string;
}

export type ConditionSpec =
  | { kind: 'fact'; key: string; fact: Fact; op: FactOp; negate: boolean; every: boolean; operands: Operand[] }
  | { kind: 'exists'; key: string; fact: Fact; expected: boolean }
  | { kind: 'clock'; key: string; negate: boolean; windows: ClockWindow[] }
  | { kind: 'weekday'; key: string; negate: boolean; sets: WeekdaySet[] };

const OP_SUFFIXES: readonly (readonly [string, FactOp | 'exists'])[] = [
  ['_gte', 'gte'],
  ['_gt', 'gt'],
  ['_lte', 'lte'],
  ['_lt', 'lt'],
  ['_eq', 'eq'],
  ['_contains', 'contains'],
  ['_detects', 'detects'],
  ['_exists', 'exists'],
];

const OPS_BY_TYPE: Record<FactType, readonly FactOp[]> = {
  number: ['match', 'gt', 'gte', 'lt', 'lte', 'eq'],
  string: ['match', 'contains', 'detects'],
  boolean: ['match'],
  any: ['match', 'gt', 'gte', 'lt', 'lte', 'eq', 'contains', 'detects'],
};

export const KNOWN_CONDITIONS =
  `numbers ${NUMBER_FACTS.join(', ')} (plain = equals, or suffix _gt, _gte, _lt, _lte, _eq); ` +
  `strings ${STRING_FACTS.join(', ')}, key.<attribute> (plain = glob match, or suffix _contains, _detects); ` +
  `booleans ${BOOLEAN_FACTS.join(', ')}; tool.args.<path> (any of those suffixes); time_of_day; weekday; ` +
  `any fact with suffix _exists; prefixes not_ and only_`;

export function parseCondition(key: string, value: unknown, path: string, problems: Problems): ConditionSpec | undefined {
  let rest = key;
  const negate = rest.startsWith('not_');
  if (negate) rest = rest.slice(4);
  const every = rest.startsWith('only_');
  if (every) rest = rest.slice(5);

  if (rest === 'time_of_day' || rest === 'weekday') {
    if (every) return fail(problems, path, `only_ does not apply to ${rest}`);
    return rest === 'time_of_day'
      ? clockCondition(key, negate, value, path, problems)
      : weekdayCondition(key, negate, value, path, problems);
  }

  const parsed = splitOperator(rest);
  if (!parsed) return fail(problems, path, `unknown condition ${JSON.stringify(key)}; known conditions: ${KNOWN_CONDITIONS}`);
  const { fact, op } = parsed;

  if (op === 'exists') {
    if (negate || every) return fail(problems, path, 'not_ and only_ do not apply to _exists; use true or false');
    if (typeof value !== 'boolean') return fail(problems, path, `must be true or false, got ${describeType(value)}`);
    return { kind: 'exists', key, fact, expected: value };
  }
  if (!OPS_BY_TYPE[fact.type].includes(op)) {
    const allowed = OPS_BY_TYPE[fact.type].map((o) => (o === 'match' ? 'no suffix' : `_${o}`)).join(', ');
    return fail(problems, path, `${fact.name} is a ${fact.type} fact; it takes ${allowed}, and _exists`);
  }
  const operands = parseOperands(value, fact, op, path, problems);
  return operands && { kind: 'fact', key, fact, op, negate, every, operands };
}

/** The longest reading wins: an operator suffix is split off only when what precedes it is a fact. */
function splitOperator(name: string): { fact: Fact; op: FactOp | 'exists' } | undefined {
  for (const [suffix, op] of OP_SUFFIXES) {
    if (!name.endsWith(suffix)) continue;
    const fact = resolveFact(name.slice(0, -suffix.length));
    if (fact) return { fact, op };
  }
  const fact = resolveFact(name);
  return fact && { fact, op: 'match' };
}

function parseOperands(value: unknown, fact: Fact, op: FactOp, path: string, problems: Problems): Operand[] | undefined {
  const expected = operandDescription(fact, op);
  const items = Array.isArray(value) ? value : [value];
  if (items.length === 0) return fail(problems, path, `must be ${expected} or a non-empty list of them, got an empty list`);
  const before = problems.count;
  items.forEach((item, i) => {
    const at = Array.isArray(value) ? childPath(path, i) : path;
    const problem = operandProblem(item, fact, op);
    if (problem) problems.add(at, `${problem}; expected ${expected}${Array.isArray(value) ? '' : ' or a non-empty list of them'}`);
  });
  return problems.count === before ? (items as Operand[]) : undefined;
}

function operandDescription(fact: Fact, op: FactOp): string {
  if (op === 'gt' || op === 'gte' || op === 'lt' || op === 'lte' || op === 'eq') return 'a number';
  if (op === 'contains') return 'a non-empty string';
  if (op === 'detects') return `a detector name (${DETECTOR_NAMES.join(', ')})`;
  if (fact.type === 'number') return 'a number';
  if (fact.type === 'boolean') return 'true or false';
  if (fact.type === 'string') return 'a non-empty string (exact or * ? glob)';
  return 'a non-empty string (exact or * ? glob), a number or a boolean';
}

function operandProblem(item: unknown, fact: Fact, op: FactOp): string | undefined {
  const wantsNumber = op !== 'match' ? op !== 'contains' && op !== 'detects' : fact.type === 'number';
  if (typeof item === 'number') {
    if (!Number.isFinite(item)) return 'not a finite number';
    return wantsNumber || (op === 'match' && fact.type === 'any') ? undefined : `got a number`;
  }
  if (typeof item === 'boolean') {
    return op === 'match' && (fact.type === 'boolean' || fact.type === 'any') ? undefined : 'got a boolean';
  }
  if (typeof item === 'string') {
    if (wantsNumber || (op === 'match' && fact.type === 'boolean')) return 'got a string';
    if (item === '') return 'an empty pattern can never match';
    if (op === 'detects' && !isDetectorName(item)) return `unknown detector ${JSON.stringify(item)}`;
    return undefined;
  }
  return `got ${describeType(item)}`;
}

function listOf(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [value];
}

function clockCondition(key: string, negate: boolean, value: unknown, path: string, problems: Problems): ConditionSpec | undefined {
  const items = listOf(value);
  if (items.length === 0) return fail(problems, path, 'must be a window object or a non-empty list of them');
  const windows: ClockWindow[] = [];
  items.forEach((item, i) => {
    const at = Array.isArray(value) ? childPath(path, i) : path;
    const window = clockWindow(item, at, problems);
    if (window) windows.push(window);
  });
  return windows.length === items.length ? { kind: 'clock', key, negate, windows } : undefined;
}

function clockWindow(item: unknown, path: string, problems: Problems): ClockWindow | undefined {
  if (!isPlainObject(item)) {
    return fail(problems, path, `must be an object {"after": "HH:MM", "before": "HH:MM", "tz": "<IANA zone>"}, got ${describeType(item)}`);
  }
  const before = problems.count;
  checkKnownKeys(item, ['after', 'before', 'tz'], path, problems);
  const clock = (field: 'after' | 'before'): number | null => {
    const text = item[field];
    if (text === undefined) return null;
    const minutes = typeof text === 'string' ? parseClock(text) : undefined;
    if (minutes === undefined) problems.add(childPath(path, field), 'must be a time "HH:MM" between 00:00 and 23:59');
    return minutes ?? null;
  };
  const after = clock('after');
  const until = clock('before');
  const tz = timeZone(item.tz, path, problems);
  if (item.after === undefined && item.before === undefined) problems.add(path, 'needs "after", "before" or both');
  if (after !== null && after === until) problems.add(path, '"after" and "before" must differ');
  return problems.count === before ? { after, before: until, tz } : undefined;
}

function timeZone(tz: unknown, path: string, problems: Problems): string {
  if (tz === undefined) return 'UTC';
  if (typeof tz !== 'string' || !isTimeZone(tz)) {
    problems.add(childPath(path, 'tz'), `unknown IANA time zone ${JSON.stringify(tz)} (e.g. "UTC", "Europe/Paris")`);
  }
  return String(tz);
}

function weekdayCondition(key: string, negate: boolean, value: unknown, path: string, problems: Problems): ConditionSpec | undefined {
  const items = listOf(value);
  if (items.length === 0) return fail(problems, path, 'must be a day name, a {"days", "tz"} object, or a non-empty list of them');
  const before = problems.count;
  const sets: WeekdaySet[] = [];
  items.forEach((item, i) => {
    const at = Array.isArray(value) ? childPath(path, i) : path;
    if (typeof item === 'string') {
      const day = weekdayNumber(item, at, problems);
      if (day !== undefined) sets.push({ days: [day], tz: 'UTC' });
    } else if (isPlainObject(item)) {
      checkKnownKeys(item, ['days', 'tz'], at, problems);
      const tz = timeZone(item.tz, at, problems);
      const days = listOf(item.days);
      if (item.days === undefined || days.length === 0) problems.add(childPath(at, 'days'), 'must name at least one day');
      const numbers = days.map((d, j) => weekdayNumber(d, Array.isArray(item.days) ? childPath(childPath(at, 'days'), j) : childPath(at, 'days'), problems));
      sets.push({ days: numbers.filter((d): d is number => d !== undefined), tz });
    } else {
      problems.add(at, `must be a day name or a {"days", "tz"} object, got ${describeType(item)}`);
    }
  });
  return problems.count === before ? { kind: 'weekday', key, negate, sets } : undefined;
}

function weekdayNumber(day: unknown, path: string, problems: Problems): number | undefined {
  const index = typeof day === 'string' ? (WEEKDAYS as readonly string[]).indexOf(day) : -1;
  if (index < 0) problems.add(path, `must be one of ${WEEKDAYS.join(', ')}`);
  return index < 0 ? undefined : index;
}

function fail(problems: Problems, path: string, message: string): undefined {
  problems.add(path, message);
  return undefined;
}
