// Go text/template's predefined functions (and, or, not, len, index, print*, html, js,
// urlquery, call) and comparisons (eq, ne, lt, le, gt, ge), with Go 1.24 semantics.

import { FuncError } from '../errors.js';
import { sprint, sprintf, sprintln } from '../fmt.js';
import { isPrint } from '../strconv.js';
import {
  GoInt, type GoMap, byteLength, compareGoStrings, goTypeName, isNilContainer, isTrue, kindOf, mapGet, mapLength,
  utf8Bytes,
} from '../values.js';
import { type FuncTable, def, defVariadic } from './types.js';

// ---------------------------------------------------------------- comparisons

type BasicKind = 'invalid' | 'bool' | 'int' | 'uint' | 'float' | 'string';

/** Go's basicKind: nil, maps, slices and funcs all fall in the invalid kind. */
function basicKind(v: unknown): BasicKind {
  const k = kindOf(v);
  if (k === 'bool' || k === 'int' || k === 'uint' || k === 'float' || k === 'string') return k;
  return 'invalid';
}

const errBadComparisonType = 'invalid type for comparison';
const errBadComparison = 'incompatible types for comparison';

function intValue(v: unknown): bigint {
  return v instanceof GoInt ? v.value : (v as bigint);
}

function isNilValue(v: unknown): boolean {
  if (v === undefined || v === null) return true;
  return typeof v === 'object' && isNilContainer(v);
}

function isComparableType(v: unknown): boolean {
  const k = kindOf(v);
  return k !== 'slice' && k !== 'map' && k !== 'func';
}

/** reflect kinds for canCompare: nil counts as Invalid. */
function reflectKind(v: unknown): string {
  const k = kindOf(v);
  return k === 'nil' ? 'invalid' : k;
}

function eq(arg1: unknown, ...arg2: unknown[]): boolean {
  if (arg1 === null) arg1 = undefined;
  if (arg1 !== undefined && !isComparableType(arg1)) {
    throw new FuncError(`uncomparable type ${goTypeName(arg1)}: ${sprint([arg1])}`);
  }
  if (arg2.length === 0) throw new FuncError('missing argument for comparison');
  const k1 = basicKind(arg1);
  for (let arg of arg2) {
    if (arg === null) arg = undefined;
    const k2 = basicKind(arg);
    let truth = false;
    if (k1 !== k2) {
      if ((k1 === 'int' && k2 === 'uint') || (k1 === 'uint' && k2 === 'int')) truth = intValue(arg1) === intValue(arg);
      else if (arg1 !== undefined && arg !== undefined) throw new FuncError(errBadComparison);
    } else {
      switch (k1) {
        case 'bool':
        case 'float':
        case 'string':
          truth = arg1 === arg;
          break;
        case 'int':
        case 'uint':
          truth = intValue(arg1) === intValue(arg);
          break;
        case 'invalid': {
          const r1 = reflectKind(arg1);
          const r2 = reflectKind(arg);
          if (r1 !== r2 && r1 !== 'invalid' && r2 !== 'invalid') {
            throw new FuncError(`non-comparable types ${goTypeName(arg1)}, ${goTypeName(arg)}`);
          }
          if (isNilValue(arg1) || isNilValue(arg)) truth = isNilValue(arg) === isNilValue(arg1);
          else if (!isComparableType(arg)) throw new FuncError(`non-comparable type ${goTypeName(arg)}`);
          else truth = arg1 === arg;
        }
      }
    }
    if (truth) return true;
  }
  return false;
}

function lt(arg1: unknown, arg2: unknown): boolean {
  const k1 = basicKind(arg1 === null ? undefined : arg1);
  if (k1 === 'invalid') throw new FuncError(errBadComparisonType);
  const k2 = basicKind(arg2 === null ? undefined : arg2);
  if (k2 === 'invalid') throw new FuncError(errBadComparisonType);
  const ints = (k1 === 'int' || k1 === 'uint') && (k2 === 'int' || k2 === 'uint');
  if (k1 !== k2 && !ints) throw new FuncError(errBadComparison);
  switch (k1) {
    case 'bool': throw new FuncError(errBadComparisonType);
    case 'float': return (arg1 as number) < (arg2 as number);
    case 'string': return compareGoStrings(arg1 as string, arg2 as string) < 0;
    default: return intValue(arg1) < intValue(arg2);
  }
}

function le(a: unknown, b: unknown): boolean {
  return lt(a, b) || eq(a, b);
}

// ---------------------------------------------------------------- len, index

function length(item: unknown): GoInt {
  switch (kindOf(item)) {
    case 'invalid': throw new FuncError('reflect: call of reflect.Value.Type on zero Value');
    case 'nil': throw new FuncError('len of nil pointer');
    case 'string': return new GoInt(BigInt(byteLength(item as string)));
    case 'slice': return new GoInt(BigInt((item as unknown[]).length));
    case 'map': return new GoInt(BigInt(mapLength(item as GoMap)));
    default: throw new FuncError(`len of type ${goTypeName(item)}`);
  }
}

function indexArg(index: unknown, cap: number): number {
  const k = kindOf(index);
  if (k === 'invalid' || k === 'nil') throw new FuncError('cannot index slice/array with nil');
  if (k !== 'int' && k !== 'uint') throw new FuncError(`cannot index slice/array with type ${goTypeName(index)}`);
  const x = intValue(index);
  if (x < 0n || x > BigInt(cap)) throw new FuncError(`index out of range: ${x}`);
  return Number(x);
}

function index(item: unknown, ...indexes: unknown[]): unknown {
  if (item === null || item === undefined) throw new FuncError('index of untyped nil');
  for (let idx of indexes) {
    if (idx === null) idx = undefined;
    switch (kindOf(item)) {
      case 'nil': throw new FuncError('index of nil pointer');
      case 'slice': {
        const list = item as unknown[];
        const x = indexArg(idx, list.length);
        if (x >= list.length) throw new FuncError('reflect: slice index out of range');
        item = list[x];
        break;
      }
      case 'string': {
        const bytes = utf8Bytes(item as string);
        const x = indexArg(idx, bytes.length);
        if (x >= bytes.length) throw new FuncError('reflect: string index out of range');
        item = new GoInt(BigInt(bytes[x]!), 'uint8');
        break;
      }
      case 'map': {
        if (idx === undefined) throw new FuncError('value is nil; should be of type string');
        if (typeof idx !== 'string') throw new FuncError(`value has type ${goTypeName(idx)}; should be string`);
        const v = mapGet(item as GoMap, idx);
        item = v !== undefined ? v : goTypeName(item) === 'map[string]string' ? '' : null;
        break;
      }
      default:
        throw new FuncError(`can't index item of type ${goTypeName(item)}`);
    }
  }
  return item;
}

// ---------------------------------------------------------------- escapers

/** text/template's evalArgs: like Sprint, but a nil operand prints as <no value>. */
function evalArgs(args: unknown[]): string {
  if (args.length === 1 && typeof args[0] === 'string') return args[0];
  return sprint(args.map((a) => (a === null || a === undefined ? '<no value>' : a)));
}

const HTML_ESCAPES: Record<string, string> = { '\0': '\ufffd', '"': '&#34;', "'": '&#39;', '&': '&amp;', '<': '&lt;', '>': '&gt;' };

function htmlEscapeString(s: string): string {
  return s.replace(/[\0"'&<>]/g, (c) => HTML_ESCAPES[c]!);
}

const JS_ESCAPES: Record<string, string> = {
  '\\': '\\\\', "'": "\\'", '"': '\\"', '<': '\\u003C', '>': '\\u003E', '&': '\\u0026', '=': '\\u003D',
};

function jsEscapeString(s: string): string {
  let out = '';
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (cp < 0x80) {
      const esc = JS_ESCAPES[ch];
      if (esc !== undefined) out += esc;
      else if (cp < 0x20) out += '\\u00' + cp.toString(16).toUpperCase().padStart(2, '0');
      else out += ch;
    } else if (cp >= 0xd800 && cp < 0xe000) {
      out += '\ufffd';
    } else {
      out += isPrint(cp) ? ch : '\\u' + cp.toString(16).toUpperCase().padStart(4, '0');
    }
  }
  return out;
}

/** net/url.QueryEscape. */
function queryEscape(s: string): string {
  let out = '';
  for (const b of utf8Bytes(s)) {
    const c = String.fromCharCode(b);
    if (/[A-Za-z0-9\-_.~]/.test(c)) out += c;
    else if (b === 0x20) out += '+';
    else out += '%' + b.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

// ---------------------------------------------------------------- call

function call(fn: unknown, ...args: unknown[]): unknown {
  if (fn === undefined || fn === null) throw new FuncError('call of nil');
  if (typeof fn !== 'function') throw new FuncError(`non-function of type ${goTypeName(fn)}`);
  return (fn as (...a: unknown[]) => unknown)(...args.map((a) => (a === undefined ? null : a)));
}

export const BUILTINS: FuncTable = {
  and: { params: ['value'], variadic: 'value', impl: () => undefined, shortCircuit: 'and' },
  or: { params: ['value'], variadic: 'value', impl: () => undefined, shortCircuit: 'or' },
  not: def(['value'], (v: unknown) => !isTrue(v)),
  len: def(['value'], length),
  index: defVariadic(['value'], 'value', index),
  call: defVariadic(['value'], 'value', call),
  print: defVariadic([], 'any', (...a: unknown[]) => sprint(a)),
  printf: defVariadic(['string'], 'any', (format: string, ...a: unknown[]) => sprintf(format, a)),
  println: defVariadic([], 'any', (...a: unknown[]) => sprintln(a)),
  html: defVariadic([], 'any', (...a: unknown[]) => htmlEscapeString(evalArgs(a))),
  js: defVariadic([], 'any', (...a: unknown[]) => jsEscapeString(evalArgs(a))),
  urlquery: defVariadic([], 'any', (...a: unknown[]) => queryEscape(evalArgs(a))),
  eq: defVariadic(['value'], 'value', eq),
  ne: def(['value', 'value'], (a: unknown, b: unknown) => !eq(a, b)),
  lt: def(['value', 'value'], lt),
  le: def(['value', 'value'], le),
  gt: def(['value', 'value'], (a: unknown, b: unknown) => !le(a, b)),
  ge: def(['value', 'value'], (a: unknown, b: unknown) => !lt(a, b)),
};
