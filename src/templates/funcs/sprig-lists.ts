// Sprig list functions (list.go, numeric.go's until/seq).

import { FuncError } from '../errors.js';
import { GoInt, deepEqual, goTypeName, isTrue, kindOf, nilSlice, withGoType } from '../values.js';
import { toInt64 } from './cast.js';
import { type FuncTable, def, defVariadic } from './types.js';

/** reflect.Kind's name, used in Sprig's "Cannot X on type Y" errors. */
export function reflectKindName(v: unknown): string {
  const k = kindOf(v);
  if (k === 'int' || k === 'uint') return goTypeName(v);
  if (k === 'float') return 'float64';
  return k;
}

/** Sprig checks reflect.TypeOf(list).Kind(); a nil list makes Go dereference a nil Type and panic. */
function requireList(v: unknown, what: string): unknown[] {
  if (v === null || v === undefined) throw new FuncError('runtime error: invalid memory address or nil pointer dereference');
  if (kindOf(v) !== 'slice') throw new FuncError(`Cannot ${what} on type ${reflectKindName(v)}`);
  return v as unknown[];
}

function first(list: unknown): unknown {
  const l = requireList(list, 'find first');
  return l.length === 0 ? null : l[0];
}

function last(list: unknown): unknown {
  const l = requireList(list, 'find last');
  return l.length === 0 ? null : l[l.length - 1];
}

function rest(list: unknown): unknown[] {
  const l = requireList(list, 'find rest');
  return l.length === 0 ? nilSlice() : l.slice(1);
}

function initial(list: unknown): unknown[] {
  const l = requireList(list, 'find initial');
  return l.length === 0 ? nilSlice() : l.slice(0, -1);
}

/** Sprig's empty(): nil, false, 0, "" and empty collections. */
export function empty(v: unknown): boolean {
  return kindOf(v) === 'func' ? false : !isTrue(v);
}

function uniq(list: unknown): unknown[] {
  const out: unknown[] = [];
  for (const item of requireList(list, 'find uniq')) if (!out.some((o) => deepEqual(item, o))) out.push(item);
  return out;
}

function has(needle: unknown, haystack: unknown): boolean {
  if (haystack === null) return false;
  return requireList(haystack, 'find has').some((item) => deepEqual(needle, item));
}

/** Sprig's slice (which replaces text/template's builtin slice): list[start:end]. */
function slice(list: unknown, ...indices: unknown[]): unknown {
  if (list !== null && kindOf(list) !== 'slice') {
    throw new FuncError(`list should be type of slice or array but ${reflectKindName(list)}`);
  }
  const l = requireList(list, 'slice');
  if (l.length === 0) return null;
  const start = indices.length > 0 ? Number(toInt64(indices[0])) : 0;
  const end = indices.length > 1 ? Number(toInt64(indices[1])) : l.length;
  if (start < 0 || end > l.length || start > end) throw new FuncError('reflect.Value.Slice: slice index out of bounds');
  return withGoType(l.slice(start, end), goTypeName(l));
}

function concat(...lists: unknown[]): unknown[] {
  const out: unknown[] = [];
  for (const l of lists) {
    if (kindOf(l) !== 'slice') throw new FuncError(`Cannot concat type ${reflectKindName(l)} as list`);
    out.push(...(l as unknown[]));
  }
  return out.length === 0 ? nilSlice() : out;
}

function chunk(size: number, list: unknown): unknown[] {
  const l = requireList(list, 'chunk');
  if (size <= 0) throw new FuncError('runtime error: chunk size must be positive');
  const out: unknown[] = [];
  for (let i = 0; i < l.length; i += size) out.push(l.slice(i, i + size));
  return withGoType(out, '[][]interface {}');
}

function ints(values: number[]): unknown[] {
  return withGoType(values.map((v) => new GoInt(BigInt(v))), '[]int');
}

/** Sprig's untilStep: start, start+step, ... up to (not including) stop. */
function untilStep(start: number, stop: number, step: number): number[] {
  const v: number[] = [];
  if (stop < start) {
    if (step >= 0) return v;
    for (let i = start; i > stop; i += step) v.push(i);
    return v;
  }
  if (step <= 0) return v;
  for (let i = start; i < stop; i += step) v.push(i);
  return v;
}

function seq(...params: number[]): string {
  let start: number;
  let end: number;
  let step: number;
  switch (params.length) {
    case 1:
      start = 1;
      end = params[0]!;
      step = end < start ? -1 : 1;
      return untilStep(start, end + step, step).join(' ');
    case 2:
      [start, end] = params as [number, number];
      step = end < start ? -1 : 1;
      return untilStep(start, end + step, step).join(' ');
    case 3: {
      [start, step, end] = params as [number, number, number];
      let increment = 1;
      if (end < start) {
        increment = -1;
        if (step > 0) return '';
      }
      return untilStep(start, end + increment, step).join(' ');
    }
    default:
      return '';
  }
}

const mustAndPlain = (name: string, fn: ReturnType<typeof def>): FuncTable => ({
  [name]: fn,
  ['must' + name[0]!.toUpperCase() + name.slice(1)]: fn,
});

export const SPRIG_LISTS: FuncTable = {
  list: defVariadic([], 'any', (...v: unknown[]) => v),
  tuple: defVariadic([], 'any', (...v: unknown[]) => v),
  ...mustAndPlain('append', def(['any', 'any'], (l: unknown, v: unknown) => [...requireList(l, 'push'), v])),
  ...mustAndPlain('push', def(['any', 'any'], (l: unknown, v: unknown) => [...requireList(l, 'push'), v])),
  ...mustAndPlain('prepend', def(['any', 'any'], (l: unknown, v: unknown) => [v, ...requireList(l, 'prepend')])),
  ...mustAndPlain('first', def(['any'], first)),
  ...mustAndPlain('last', def(['any'], last)),
  ...mustAndPlain('rest', def(['any'], rest)),
  ...mustAndPlain('initial', def(['any'], initial)),
  ...mustAndPlain('reverse', def(['any'], (l: unknown) => [...requireList(l, 'find reverse')].reverse())),
  ...mustAndPlain('compact', def(['any'], (l: unknown) => requireList(l, 'compact').filter((e) => !empty(e)))),
  ...mustAndPlain('uniq', def(['any'], uniq)),
  ...mustAndPlain('without', defVariadic(['any'], 'any', (l: unknown, ...omit: unknown[]) =>
    requireList(l, 'find without').filter((e) => !omit.some((o) => deepEqual(e, o))))),
  ...mustAndPlain('has', def(['any', 'any'], has)),
  ...mustAndPlain('slice', defVariadic(['any'], 'any', slice)),
  ...mustAndPlain('chunk', def(['int', 'any'], chunk)),
  concat: defVariadic([], 'any', concat),
  until: def(['int'], (count: number) => ints(untilStep(0, count, count < 0 ? -1 : 1))),
  untilStep: def(['int', 'int', 'int'], (a: number, b: number, c: number) => ints(untilStep(a, b, c))),
  seq: defVariadic([], 'int', seq),
};
