// Sprig numeric functions (numeric.go and the arithmetic in functions.go). Integer
// arithmetic is int64 with Go's wrap-around; conversions follow spf13/cast.

import { FuncError } from '../errors.js';
import { GoInt } from '../values.js';
import { atoi, octalToDecimal, toFloat64, toInt64 } from './cast.js';
import { type FuncTable, def, defVariadic } from './types.js';

const int64 = (v: bigint): GoInt => new GoInt(v, 'int64');

function divide(a: unknown, b: unknown, op: 'div' | 'mod'): GoInt {
  const x = toInt64(a);
  const y = toInt64(b);
  if (y === 0n) throw new FuncError('runtime error: integer divide by zero');
  return int64(op === 'div' ? x / y : x % y);
}

function extreme(pick: (a: bigint, b: bigint) => boolean) {
  return (a: unknown, ...rest: unknown[]): GoInt => {
    let best = toInt64(a);
    for (const b of rest) {
      const v = toInt64(b);
      if (pick(v, best)) best = v;
    }
    return int64(best);
  };
}

/** Sprig's round: ceil when the fractional part at `places` is >= roundOn (default .5), else floor. */
function round(a: unknown, places: number, ...roundOn: number[]): number {
  const on = roundOn.length > 0 ? roundOn[0]! : 0.5;
  const pow = Math.pow(10, places);
  const digit = pow * toFloat64(a);
  const frac = digit - Math.trunc(digit);
  return (frac >= on ? Math.ceil(digit) : Math.floor(digit)) / pow;
}

export const SPRIG_NUMBERS: FuncTable = {
  atoi: def(['string'], (s: string) => new GoInt(atoi(s))),
  int64: def(['any'], (v: unknown) => int64(toInt64(v))),
  int: def(['any'], (v: unknown) => new GoInt(toInt64(v))),
  float64: def(['any'], toFloat64),
  toDecimal: def(['any'], (v: unknown) => int64(octalToDecimal(v))),
  add1: def(['any'], (i: unknown) => int64(toInt64(i) + 1n)),
  add: defVariadic([], 'any', (...v: unknown[]) => int64(v.reduce<bigint>((sum, x) => sum + toInt64(x), 0n))),
  sub: def(['any', 'any'], (a: unknown, b: unknown) => int64(toInt64(a) - toInt64(b))),
  div: def(['any', 'any'], (a: unknown, b: unknown) => divide(a, b, 'div')),
  mod: def(['any', 'any'], (a: unknown, b: unknown) => divide(a, b, 'mod')),
  mul: defVariadic(['any'], 'any', (a: unknown, ...v: unknown[]) => int64(v.reduce<bigint>((p, x) => p * toInt64(x), toInt64(a)))),
  max: defVariadic(['any'], 'any', extreme((v, best) => v > best)),
  biggest: defVariadic(['any'], 'any', extreme((v, best) => v > best)),
  min: defVariadic(['any'], 'any', extreme((v, best) => v < best)),
  maxf: defVariadic(['any'], 'any', (a: unknown, ...v: unknown[]) => v.reduce<number>((m, x) => Math.max(m, toFloat64(x)), toFloat64(a))),
  minf: defVariadic(['any'], 'any', (a: unknown, ...v: unknown[]) => v.reduce<number>((m, x) => Math.min(m, toFloat64(x)), toFloat64(a))),
  floor: def(['any'], (a: unknown) => Math.floor(toFloat64(a))),
  ceil: def(['any'], (a: unknown) => Math.ceil(toFloat64(a))),
  round: defVariadic(['any', 'int'], 'float64', round),
};
