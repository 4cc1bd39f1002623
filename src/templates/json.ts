// Go encoding/json behaviour over the engine's value model: encoding (json.Marshal,
// MarshalIndent, Encoder without HTML escaping) and decoding into interface{}.

import { FuncError } from './errors.js';
import { GoInt, type GoMap, goTypeName, isNilContainer, kindOf, mapGet, sortedKeys } from './values.js';

export interface EncodeOptions {
  /** json.Marshal escapes <, > and & (toJson); an Encoder with SetEscapeHTML(false) does not (toRawJson). */
  escapeHTML: boolean;
  /** MarshalIndent's indent string; '' for compact output. */
  indent: string;
}

const HEX = '0123456789abcdef';

/** Encodes a string as Go does (Go 1.22+: \b and \f use short escapes). */
function encodeJsonString(s: string, escapeHTML: boolean): string {
  let out = '"';
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    let esc: string | null = null;
    if (c < 0x20) {
      switch (c) {
        case 8: esc = '\\b'; break;
        case 9: esc = '\\t'; break;
        case 10: esc = '\\n'; break;
        case 12: esc = '\\f'; break;
        case 13: esc = '\\r'; break;
        default: esc = '\\u00' + HEX[c >> 4]! + HEX[c & 15]!;
      }
    } else if (c === 0x22) esc = '\\"';
    else if (c === 0x5c) esc = '\\\\';
    else if (escapeHTML && (c === 0x3c || c === 0x3e || c === 0x26)) esc = '\\u00' + HEX[c >> 4]! + HEX[c & 15]!;
    else if (c === 0x2028 || c === 0x2029) esc = '\\u202' + HEX[c & 15]!;
    else if (c >= 0xd800 && c < 0xe000) {
      const paired = c < 0xdc00 && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00;
      if (paired) {
        i++;
        continue;
      }
      esc = '\\ufffd';
    }
    if (esc !== null) {
      out += s.slice(start, i) + esc;
      start = i + 1;
    }
  }
  return out + s.slice(start) + '"';
}

/** Go's float encoding: like ES6 Number#toString, but keeps the sign of -0. */
function encodeJsonFloat(x: number): string {
  if (!Number.isFinite(x)) throw new FuncError(`json: unsupported value: ${x === Infinity ? '+Inf' : String(x)}`);
  return Object.is(x, -0) ? '-0' : String(x);
}

function encode(v: unknown, opts: EncodeOptions, depth: number): string {
  switch (kindOf(v)) {
    case 'invalid':
    case 'nil': return 'null';
    case 'bool': return v ? 'true' : 'false';
    case 'float': return encodeJsonFloat(v as number);
    case 'int':
    case 'uint': return (v instanceof GoInt ? v.value : (v as bigint)).toString();
    case 'string': return encodeJsonString(v as string, opts.escapeHTML);
    case 'func': throw new FuncError(`json: unsupported type: ${goTypeName(v)}`);
    case 'slice': {
      const list = v as unknown[];
      if (isNilContainer(list)) return 'null';
      if (list.length === 0) return '[]';
      const parts = list.map((e) => encode(e, opts, depth + 1));
      return wrap('[', ']', parts, opts.indent, depth);
    }
    case 'map': {
      const m = v as GoMap;
      if (isNilContainer(m)) return 'null';
      const keys = sortedKeys(m);
      if (keys.length === 0) return '{}';
      const sep = opts.indent ? ': ' : ':';
      const parts = keys.map((k) => encodeJsonString(k, opts.escapeHTML) + sep + encode(mapGet(m, k), opts, depth + 1));
      return wrap('{', '}', parts, opts.indent, depth);
    }
  }
}

function wrap(open: string, close: string, parts: string[], indent: string, depth: number): string {
  if (!indent) return open + parts.join(',') + close;
  const inner = '\n' + indent.repeat(depth + 1);
  return open + inner + parts.join(',' + inner) + '\n' + indent.repeat(depth) + close;
}

/** json.Marshal / MarshalIndent; throws FuncError for values Go refuses (NaN, ±Inf, funcs). */
export function marshalJson(v: unknown, opts: EncodeOptions): string {
  return encode(v, opts, 0);
}

// ---------------------------------------------------------------- decoding

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

function toWellFormed(s: string): string {
  return s.replace(LONE_SURROGATE, '\ufffd');
}

const NEEDS_CHECKS = /\d{300}|[eE][+-]?\d{3}|\\u[dD][89a-fA-F]/;

function goReviver(_key: string, value: unknown): unknown {
  if (typeof value === 'number' && !Number.isFinite(value)) {
    throw new SyntaxError('json: cannot unmarshal number into Go value of type float64 (out of range)');
  }
  if (typeof value === 'string') return toWellFormed(value);
  return value;
}

/**
 * Decodes JSON the way Go's encoding/json decodes into interface{}: objects become maps,
 * arrays []interface{}, every number a float64 (a JS number), null a nil interface.
 * Throws SyntaxError on invalid JSON or numbers out of float64 range.
 */
export function fromGoJson(jsonText: string): unknown {
  if (NEEDS_CHECKS.test(jsonText)) {
    const value = JSON.parse(jsonText, goReviver) as unknown;
    return wellFormedKeys(value);
  }
  return JSON.parse(jsonText) as unknown;
}

/** Go replaces lone surrogates in object keys too; JSON.parse keeps them. */
function wellFormedKeys(v: unknown): unknown {
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) v[i] = wellFormedKeys(v[i]);
    return v;
  }
  if (typeof v !== 'object' || v === null) return v;
  const m = v as GoMap;
  for (const k of Object.keys(m)) {
    const fixed = toWellFormed(k);
    const child = wellFormedKeys(m[k]);
    if (fixed !== k) {
      delete m[k];
      Object.defineProperty(m, fixed, { value: child, enumerable: true, writable: true, configurable: true });
    } else {
      m[k] = child;
    }
  }
  return m;
}
