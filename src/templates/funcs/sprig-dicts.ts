// Sprig dictionary functions (dict.go). Where Go iterates a map in random order
// (keys, values) this engine uses sorted key order, so output is deterministic.

import { FuncError } from '../errors.js';
import {
  type GoMap, isGoMap, isNilContainer, kindOf, mapGet, mapHas, mapSet, newGoMap, nilMap, sameGoType, sortedKeys, withGoType,
} from '../values.js';
import { strval } from './sprig-strings.js';
import { type FuncTable, def, defVariadic } from './types.js';

function keysOf(m: GoMap | null): string[] {
  return m === null ? [] : sortedKeys(m);
}

function set(d: GoMap | null, key: string, value: unknown): GoMap {
  if (d === null || isNilContainer(d)) throw new FuncError('assignment to entry in nil map');
  mapSet(d, key, value);
  return d;
}

function unset(d: GoMap | null, key: string): GoMap {
  if (d === null) return nilMap();
  delete d[key];
  return d;
}

function dict(...v: unknown[]): GoMap {
  const m = newGoMap();
  for (let i = 0; i < v.length; i += 2) mapSet(m, strval(v[i]), i + 1 < v.length ? v[i + 1] : '');
  return m;
}

function pick(d: GoMap | null, ...keys: string[]): GoMap {
  const res = newGoMap();
  for (const k of keys) if (d !== null && mapHas(d, k)) mapSet(res, k, mapGet(d, k));
  return res;
}

function omit(d: GoMap | null, ...keys: string[]): GoMap {
  const res = newGoMap();
  for (const k of keysOf(d)) if (!keys.includes(k)) mapSet(res, k, mapGet(d!, k));
  return res;
}

/** Sprig's dig "a" "b" default $dict: type assertions that fail in Go panic, so they error here. */
function dig(...ps: unknown[]): unknown {
  if (ps.length < 3) throw new FuncError('dig needs at least three arguments');
  let d = ps[ps.length - 1];
  const def = ps[ps.length - 2];
  const ks = ps.slice(0, -2);
  for (const k of ks) {
    if (typeof k !== 'string') throw new FuncError(`interface conversion: interface {} is ${kindOf(k)}, not string`);
  }
  for (const k of ks as string[]) {
    if (!isGoMap(d)) throw new FuncError('interface conversion: interface {} is not map[string]interface {}');
    if (!mapHas(d, k)) return def;
    d = mapGet(d, k);
  }
  return d;
}

/** copystructure.Copy for the value model. */
function deepCopy(v: unknown): unknown {
  if (Array.isArray(v)) return isNilContainer(v) ? v : sameGoType(v, v.map(deepCopy));
  if (isGoMap(v)) {
    if (isNilContainer(v)) return v;
    const m = sameGoType(v, newGoMap());
    for (const k of sortedKeys(v)) mapSet(m, k, deepCopy(mapGet(v, k)));
    return m;
  }
  return v;
}

export const SPRIG_DICTS: FuncTable = {
  get: def(['map', 'string'], (d: GoMap | null, key: string) => (d !== null && mapHas(d, key) ? mapGet(d, key) : '')),
  set: def(['map', 'string', 'any'], set),
  unset: def(['map', 'string'], unset),
  hasKey: def(['map', 'string'], (d: GoMap | null, key: string) => d !== null && mapHas(d, key)),
  pluck: defVariadic(['string'], 'map', (key: string, ...ds: (GoMap | null)[]) =>
    ds.filter((d) => d !== null && mapHas(d, key)).map((d) => mapGet(d!, key))),
  keys: defVariadic([], 'map', (...ds: (GoMap | null)[]) => withGoType(ds.flatMap(keysOf), '[]string')),
  values: def(['map'], (d: GoMap | null) => keysOf(d).map((k) => mapGet(d!, k))),
  pick: defVariadic(['map'], 'string', pick),
  omit: defVariadic(['map'], 'string', omit),
  dict: defVariadic([], 'any', dict),
  dig: defVariadic([], 'any', dig),
  deepCopy: def(['any'], deepCopy),
  mustDeepCopy: def(['any'], deepCopy),
};
