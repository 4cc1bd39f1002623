// How template functions are described: the Go parameter types decide how arguments are
// checked and converted, exactly as text/template does through reflection.

import { FuncError } from '../errors.js';

/**
 * Go parameter types, and the JS type the implementation receives:
 *   any     interface{}              unknown (nil and missing values arrive as null)
 *   value   reflect.Value (builtins) unknown (missing stays undefined, JSON null stays null)
 *   string  string                   string
 *   int     int                      number
 *   float64 float64                  number
 *   bool    bool                     boolean
 *   map     map[string]interface{}   GoMap, or null for a nil map
 */
export type ParamType = 'any' | 'value' | 'string' | 'int' | 'float64' | 'bool' | 'map';

export const GO_PARAM_NAMES: Record<ParamType, string> = {
  any: 'interface {}',
  value: 'reflect.Value',
  string: 'string',
  int: 'int',
  float64: 'float64',
  bool: 'bool',
  map: 'map[string]interface {}',
};

export interface GoFunc {
  params: readonly ParamType[];
  /** Element type of a trailing variadic parameter, or null. */
  variadic: ParamType | null;
  impl: (...args: never[]) => unknown;
  /** `and`/`or` are evaluated lazily by the executor (Go's short-circuit special case). */
  shortCircuit?: 'and' | 'or';
}

export type FuncTable = Record<string, GoFunc>;

export function def(params: readonly ParamType[], impl: (...args: never[]) => unknown): GoFunc {
  return { params, variadic: null, impl };
}

export function defVariadic(
  params: readonly ParamType[],
  variadic: ParamType,
  impl: (...args: never[]) => unknown,
): GoFunc {
  return { params, variadic, impl };
}

/** A Sprig function that exists in Go (so templates parse) but is not implemented here. */
export function unsupported(name: string, why: string): GoFunc {
  return defVariadic([], 'any', () => {
    throw new FuncError(`${name} is not supported by this engine (${why})`);
  });
}
