// Conversions with the semantics of github.com/spf13/cast (v1.5), which Sprig uses for
// int/int64/float64 and all integer arithmetic. Conversion errors yield 0, as in Sprig.

import { formatValue } from '../fmt.js';
import { parseFloat64, parseInt0 } from '../strconv.js';
import { GoInt, kindOf } from '../values.js';

const MIN_INT64 = -(2n ** 63n);
const MAX_INT64 = 2n ** 63n - 1n;

/** Go's int64(f): truncation; NaN and out-of-range values give the amd64 "integer indefinite". */
function floatToInt64(f: number): bigint {
  if (!Number.isFinite(f)) return MIN_INT64;
  const t = BigInt(Math.trunc(f));
  return t < MIN_INT64 || t > MAX_INT64 ? MIN_INT64 : t;
}

/** cast's trimZeroDecimal: "12.000" -> "12" so integer parsing accepts it. */
function trimZeroDecimal(s: string): string {
  let foundZero = false;
  for (let i = s.length; i > 0; i--) {
    const c = s[i - 1];
    if (c === '.') {
      if (foundZero) return s.slice(0, i - 1);
    } else if (c === '0') {
      foundZero = true;
    } else {
      return s;
    }
  }
  return s;
}

/** strconv.ParseFloat including Go's special spellings (inf, infinity, nan). */
function parseFloatString(s: string): number | null {
  const special = /^([+-]?)(inf|infinity|nan)$/i.exec(s);
  if (special) {
    if (special[2]!.toLowerCase() === 'nan') return special[1] === '' ? NaN : null;
    return special[1] === '-' ? -Infinity : Infinity;
  }
  return parseFloat64(s);
}

/** cast.ToInt64 (also cast.ToInt: Go's int is 64-bit). */
export function toInt64(v: unknown): bigint {
  switch (kindOf(v)) {
    case 'int':
    case 'uint':
      return BigInt.asIntN(64, v instanceof GoInt ? v.value : (v as bigint));
    case 'float': return floatToInt64(v as number);
    case 'string': return parseInt0(trimZeroDecimal(v as string)) ?? 0n;
    case 'bool': return v ? 1n : 0n;
    default: return 0n;
  }
}

/** cast.ToFloat64. */
export function toFloat64(v: unknown): number {
  switch (kindOf(v)) {
    case 'int':
    case 'uint':
      return Number(v instanceof GoInt ? v.value : (v as bigint));
    case 'float': return v as number;
    case 'string': return parseFloatString(v as string) ?? 0;
    case 'bool': return v ? 1 : 0;
    default: return 0;
  }
}

/** Sprig's toDecimal: the value printed with %v, parsed as an octal int64 (0 on error). */
export function octalToDecimal(v: unknown): bigint {
  const m = /^([+-]?)([0-7]+)$/.exec(formatValue(v));
  if (!m) return 0n;
  const n = BigInt('0o' + m[2]!);
  const signed = m[1] === '-' ? -n : n;
  return signed < MIN_INT64 || signed > MAX_INT64 ? 0n : signed;
}

/** strconv.Atoi: optional sign and decimal digits only; 0 on error (Sprig ignores the error). */
export function atoi(s: string): bigint {
  if (!/^[+-]?\d+$/.test(s)) return 0n;
  const n = BigInt(s);
  return n < MIN_INT64 || n > MAX_INT64 ? 0n : n;
}
