/**
 * ConditionSpecs compiled into closures: `test` answers during evaluation; `explain` words the condition for the
 * decision reason and only runs for the rule that decided. Every condition is false when its fact is missing — the
 * negated (not_) forms included — except `<fact>_exists`. One exception, for fail-closed tool governance: when a tool
 * call's arguments are invalid (tool.args_invalid), every `tool.args.<path>` condition, whatever its form, holds in a
 * deny rule and is false in any other rule.
 */
import type { ConditionSpec, FactOp, Operand } from './condition-spec.js';
import type { DetectorName } from './detectors.js';
import type { EvalContext } from './eval-context.js';
import { compileAnyOf, foldCase } from './glob.js';
import { formatClock, inClockWindow, WEEKDAYS, type ClockWindow } from './time-window.js';

export interface CompiledCondition {
  /** Relative cost: a rule tests its conditions cheapest first. */
  cost: number;
  test(ctx: EvalContext): boolean;
  explain(ctx: EvalContext): string;
}

export interface ConditionOptions {
  /** The policy compares tool names case-insensitively (tool.name and tools patterns are folded). */
  foldToolNames: boolean;
  /** The rule is a deny: tool.args.<path> conditions hold on invalid arguments. */
  failClosed: boolean;
}

type Predicate = (value: unknown, ctx: EvalContext) => boolean;

export function compileCondition(spec: ConditionSpec, options: ConditionOptions): CompiledCondition {
  const compiled = compileSpec(spec, options);
  const onToolArgument = (spec.kind === 'fact' || spec.kind === 'exists') && spec.fact.toolArgument === true;
  return onToolArgument ? guardToolArgument(spec.fact.name, compiled, options.failClosed) : compiled;
}

function compileSpec(spec: ConditionSpec, options: ConditionOptions): CompiledCondition {
  switch (spec.kind) {
    case 'fact':
      return compileFactCondition(spec, options);
    case 'exists': {
      const { fact, expected } = spec;
      return {
        cost: fact.cost,
        test: (ctx) => (fact.read(ctx) !== undefined) === expected,
        explain: () => `${fact.name} is ${expected ? 'present' : 'missing'}`,
      };
    }
    case 'clock':
      return compileClockCondition(spec.windows, spec.negate);
    case 'weekday':
      return compileWeekdayCondition(spec.sets, spec.negate);
  }
}

/** A tool.args.<path> condition: decided by the rule's effect alone when the arguments are invalid. */
function guardToolArgument(name: string, condition: CompiledCondition, failClosed: boolean): CompiledCondition {
  const { test, explain } = condition;
  return {
    cost: condition.cost,
    test: (ctx) => (ctx.toolArgsInvalid() === true ? failClosed : test(ctx)),
    explain: (ctx) =>
      ctx.toolArgsInvalid() === true ? `${name} unreadable: the tool arguments are not a JSON object (fail closed)` : explain(ctx),
  };
}

function compileFactCondition(spec: Extract<ConditionSpec, { kind: 'fact' }>, options: ConditionOptions): CompiledCondition {
  const { fact, negate, every, op } = spec;
  // Case-insensitive tool names: fold the patterns once here and read the value folded (once per evaluation).
  const fold = options.foldToolNames && fact.readFolded !== undefined && op === 'match';
  const operands = fold ? spec.operands.map((o) => (typeof o === 'string' ? foldCase(o) : o)) : spec.operands;
  const predicate = compilePredicate(op, operands);
  const read = fold && fact.readFolded ? fact.readFolded : fact.read;
  const holds = (value: unknown, ctx: EvalContext): boolean => {
    if (!Array.isArray(value)) return predicate(value, ctx);
    if (every) {
      for (const v of value) if (!predicate(v, ctx)) return false;
      return true;
    }
    for (const v of value) if (predicate(v, ctx)) return true;
    return false;
  };
  return {
    cost: fact.cost + (op === 'detects' ? 5 : 0),
    test: (ctx) => {
      const value = read(ctx);
      if (value === undefined) return false;
      return holds(value, ctx) !== negate;
    },
    explain: (ctx) => {
      const value = fact.read(ctx);
      const subject = fact.sensitive ? fact.name : `${fact.name} ${render(value)}`;
      const quantifier = Array.isArray(value) ? `: ${every ? 'every' : 'some'} value` : '';
      const text = `${subject}${quantifier} ${VERBS[op]} ${renderOperands(spec.operands)}${fold ? ' (ignoring case)' : ''}`;
      return negate ? `not (${text})` : text;
    },
  };
}

const VERBS: Record<FactOp, string> = {
  match: 'matches',
  gt: '>',
  gte: '>=',
  lt: '<',
  lte: '<=',
  eq: '=',
  contains: 'contains',
  detects: 'detects',
};

function compilePredicate(op: FactOp, operands: Operand[]): Predicate {
  const numbers = operands.filter((o): o is number => typeof o === 'number');
  const strings = operands.filter((o): o is string => typeof o === 'string');
  switch (op) {
    // Any-of thresholds reduce to the loosest one.
    case 'gt': {
      const t = Math.min(...numbers);
      return (v) => typeof v === 'number' && v > t;
    }
    case 'gte': {
      const t = Math.min(...numbers);
      return (v) => typeof v === 'number' && v >= t;
    }
    case 'lt': {
      const t = Math.max(...numbers);
      return (v) => typeof v === 'number' && v < t;
    }
    case 'lte': {
      const t = Math.max(...numbers);
      return (v) => typeof v === 'number' && v <= t;
    }
    case 'eq': {
      const set = new Set(numbers);
      return (v) => typeof v === 'number' && set.has(v);
    }
    case 'contains': {
      const needles = strings.map((s) => s.toLowerCase());
      return (v, ctx) => {
        if (typeof v !== 'string') return false;
        const haystack = ctx.lower(v);
        for (const needle of needles) if (haystack.includes(needle)) return true;
        return false;
      };
    }
    case 'detects': {
      const detectors = strings as DetectorName[];
      return (v, ctx) => {
        if (typeof v !== 'string') return false;
        for (const d of detectors) if (ctx.detects(d, v)) return true;
        return false;
      };
    }
    case 'match': {
      const matchString = compileAnyOf(strings);
      const scalars = new Set<unknown>(operands.filter((o) => typeof o !== 'string'));
      if (scalars.size === 0) return (v) => typeof v === 'string' && matchString(v);
      return (v) => (typeof v === 'string' ? matchString(v) : scalars.has(v));
    }
  }
}

function compileClockCondition(windows: ClockWindow[], negate: boolean): CompiledCondition {
  const inside = (ctx: EvalContext, w: ClockWindow): boolean | undefined => {
    const time = ctx.localTime(w.tz);
    return time && inClockWindow(time.minuteOfDay, w);
  };
  const describe = (ctx: EvalContext, w: ClockWindow): string => {
    const time = ctx.localTime(w.tz);
    const range = `${w.after === null ? '00:00' : formatClock(w.after)}-${w.before === null ? '24:00' : formatClock(w.before)}`;
    return `time ${time ? formatClock(time.minuteOfDay) : '?'} ${w.tz} ${inside(ctx, w) ? 'within' : 'outside'} ${range}`;
  };
  return {
    cost: 3,
    test: (ctx) => {
      let any = false;
      for (const w of windows) {
        const result = inside(ctx, w);
        if (result === undefined) return false;
        if (result) any = true;
      }
      return any !== negate;
    },
    explain: (ctx) => windows.map((w) => describe(ctx, w)).join(negate ? ' and ' : ' or '),
  };
}

function compileWeekdayCondition(sets: { days: number[]; tz: string }[], negate: boolean): CompiledCondition {
  const weekday = (ctx: EvalContext, tz: string) => ctx.localTime(tz)?.weekday;
  return {
    cost: 3,
    test: (ctx) => {
      let any = false;
      for (const set of sets) {
        const day = weekday(ctx, set.tz);
        if (day === undefined) return false;
        if (set.days.includes(day)) any = true;
      }
      return any !== negate;
    },
    explain: (ctx) =>
      sets
        .map((set) => {
          const day = weekday(ctx, set.tz);
          const name = day === undefined ? '?' : WEEKDAYS[day];
          const verb = day !== undefined && set.days.includes(day) ? 'is one of' : 'is not one of';
          return `weekday ${name} ${set.tz} ${verb} [${set.days.map((d) => WEEKDAYS[d]).join(', ')}]`;
        })
        .join(negate ? ' and ' : ' or '),
  };
}

/** A value for a reason text: single-line, at most `max` characters. */
export function render(value: unknown, max = 80): string {
  let text: string;
  if (Array.isArray(value)) text = `[${value.map((v) => render(v, max)).join(', ')}]`;
  else if (typeof value === 'string') text = value;
  else if (value === undefined) text = '(missing)';
  else text = JSON.stringify(value) ?? String(value);
  text = text.replace(/[\u0000-\u001f\u007f]+/g, ' ');
  return text.length > max ? `${text.slice(0, max - 3)}...` : text;
}

function renderOperands(operands: Operand[]): string {
  return operands.length === 1 ? render(operands[0]) : `one of ${render(operands)}`;
}
