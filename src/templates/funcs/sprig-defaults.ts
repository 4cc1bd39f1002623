// Sprig defaults, JSON and reflection functions (defaults.go, reflect.go).

import { FuncError } from '../errors.js';
import { sprintf } from '../fmt.js';
import { fromGoJson, marshalJson } from '../json.js';
import { deepEqual, kindOf } from '../values.js';
import { empty, reflectKindName } from './sprig-lists.js';
import { type FuncTable, def, defVariadic } from './types.js';

const COMPACT = { escapeHTML: true, indent: '' };
const PRETTY = { escapeHTML: true, indent: '  ' };
const RAW = { escapeHTML: false, indent: '' };

/** Sprig's non-must JSON encoders swallow errors and return "". */
function orEmpty(encode: () => string): string {
  try {
    return encode();
  } catch (err) {
    if (err instanceof FuncError) return '';
    throw err;
  }
}

function mustFromJson(s: string): unknown {
  try {
    return fromGoJson(s);
  } catch (err) {
    throw new FuncError(err instanceof Error ? err.message : String(err));
  }
}

function typeOf(v: unknown): string {
  return sprintf('%T', [v]);
}

/** reflect.Value.Kind().String(); nil is "invalid". */
function kindName(v: unknown): string {
  return kindOf(v) === 'nil' ? 'invalid' : reflectKindName(v);
}

export const SPRIG_DEFAULTS: FuncTable = {
  default: defVariadic(['any'], 'any', (d: unknown, ...given: unknown[]) =>
    given.length === 0 || empty(given[0]) ? d : given[0]),
  empty: def(['any'], empty),
  coalesce: defVariadic([], 'any', (...v: unknown[]) => v.find((x) => !empty(x)) ?? null),
  all: defVariadic([], 'any', (...v: unknown[]) => v.every((x) => !empty(x))),
  any: defVariadic([], 'any', (...v: unknown[]) => v.some((x) => !empty(x))),
  ternary: def(['any', 'any', 'bool'], (vt: unknown, vf: unknown, cond: boolean) => (cond ? vt : vf)),
  fromJson: def(['string'], (s: string) => {
    try {
      return fromGoJson(s);
    } catch {
      return null;
    }
  }),
  mustFromJson: def(['string'], mustFromJson),
  toJson: def(['any'], (v: unknown) => orEmpty(() => marshalJson(v, COMPACT))),
  mustToJson: def(['any'], (v: unknown) => marshalJson(v, COMPACT)),
  toPrettyJson: def(['any'], (v: unknown) => orEmpty(() => marshalJson(v, PRETTY))),
  mustToPrettyJson: def(['any'], (v: unknown) => marshalJson(v, PRETTY)),
  toRawJson: def(['any'], (v: unknown) => marshalJson(v, RAW)),
  mustToRawJson: def(['any'], (v: unknown) => marshalJson(v, RAW)),
  typeOf: def(['any'], typeOf),
  typeIs: def(['string', 'any'], (target: string, v: unknown) => target === typeOf(v)),
  typeIsLike: def(['string', 'any'], (target: string, v: unknown) => {
    const t = typeOf(v);
    return target === t || '*' + target === t;
  }),
  kindOf: def(['any'], kindName),
  kindIs: def(['string', 'any'], (target: string, v: unknown) => target === kindName(v)),
  deepEqual: def(['any', 'any'], deepEqual),
};

