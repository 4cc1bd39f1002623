// The Go value model used by the template engine.
//
// Templates see data the way Go's text/template sees an interface{} tree:
//   undefined          -> an invalid reflect.Value (missing map key, "<no value>")
//   null               -> a nil interface{} (JSON null)
//   boolean, string    -> bool, string
//   number             -> float64 (always: JSON numbers decode to float64 in Go)
//   GoInt              -> an integer of a named Go kind (int, int64, uint8, ...)
//   bigint             -> accepted on input as a Go int
//   Array              -> a slice ([]interface {} unless tagged otherwise)
//   plain object       -> a map (map[string]interface {} unless tagged otherwise)
//   function           -> a Go func value (only useful with `call`)

export type IntKind = 'int' | 'int8' | 'int16' | 'int32' | 'int64' | 'uint' | 'uint8' | 'uint16' | 'uint32' | 'uint64';

const INT_BITS: Record<IntKind, number> = {
  int: 64, int8: 8, int16: 16, int32: 32, int64: 64, uint: 64, uint8: 8, uint16: 16, uint32: 32, uint64: 64,
};

/** A Go integer: the value wraps to the kind's width exactly as a Go conversion would. */
export class GoInt {
  readonly value: bigint;
  constructor(value: bigint, readonly kind: IntKind = 'int') {
    const bits = INT_BITS[kind];
    this.value = kind.startsWith('u') ? BigInt.asUintN(bits, value) : BigInt.asIntN(bits, value);
  }
  get signed(): boolean {
    return !this.kind.startsWith('u');
  }
  toString(): string {
    return this.value.toString();
  }
}

/** Builds a Go `int` (or another integer kind). Non-integral numbers truncate toward zero like Go's int(f). */
export function goInt(n: number | bigint, kind: IntKind = 'int'): GoInt {
  if (typeof n === 'bigint') return new GoInt(n, kind);
  if (!Number.isFinite(n)) throw new RangeError(`goInt: ${n} is not a finite number`);
  return new GoInt(BigInt(Math.trunc(n)), kind);
}

export type GoMap = { [key: string]: unknown };

/** Any value a template can see (see the table at the top of this file). */
export type GoValue =
  | undefined | null | boolean | string | number | bigint | GoInt | GoValue[] | { [key: string]: GoValue }
  | ((...args: never[]) => unknown);

/** Go type names attached to slices and maps that are not []interface {} / map[string]interface {}. */
const GO_TYPE = Symbol('goType');
const GO_NIL = Symbol('goNil');

interface Tagged {
  [GO_TYPE]?: string;
  [GO_NIL]?: true;
}

/** Marks a JS array or object as a Go value of a specific container type, e.g. '[]string'. */
export function withGoType<T extends object>(value: T, typeName: string): T {
  Object.defineProperty(value, GO_TYPE, { value: typeName, enumerable: false });
  return value;
}

/** Gives `to` the same Go container type as `from` (for copies of typed slices and maps). */
export function sameGoType<T extends object>(from: object, to: T): T {
  const tag = (from as Tagged)[GO_TYPE];
  return tag === undefined ? to : withGoType(to, tag);
}

function markNil<T extends object>(value: T): T {
  Object.defineProperty(value, GO_NIL, { value: true, enumerable: false });
  return value;
}

/** A nil slice of the given type: prints as [], encodes to JSON as null. */
export function nilSlice(typeName = '[]interface {}'): unknown[] {
  return markNil(withGoType([] as unknown[], typeName));
}

/** A nil map[string]interface {}: prints as map[], encodes to JSON as null. */
export function nilMap(): GoMap {
  return markNil(newGoMap());
}

export function isNilContainer(v: object): boolean {
  return (v as Tagged)[GO_NIL] === true;
}

export function isGoMap(v: unknown): v is GoMap {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof GoInt);
}

/** Reads a map entry; absent keys (and JS undefined) are "missing" (invalid value). */
export function mapGet(m: GoMap, key: string): unknown {
  return Object.prototype.hasOwnProperty.call(m, key) ? m[key] : undefined;
}

export function mapHas(m: GoMap, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(m, key) && m[key] !== undefined;
}

/** Creates an empty Go map safe against "__proto__" keys. */
export function newGoMap(): GoMap {
  return Object.create(null) as GoMap;
}

export function mapSet(m: GoMap, key: string, value: unknown): void {
  Object.defineProperty(m, key, { value, enumerable: true, writable: true, configurable: true });
}

/** Go orders strings by UTF-8 bytes, which is code point order (JS `<` compares UTF-16 units). */
export function compareGoStrings(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 0xd800 && y >= 0xd800) {
      x = x >= 0xe000 ? x - 0x800 : x + 0x2000;
      y = y >= 0xe000 ? y - 0x800 : y + 0x2000;
    }
    return x < y ? -1 : 1;
  }
  return a.length - b.length;
}

/** Map keys in Go's iteration order for range/printing/JSON (sorted). */
export function sortedKeys(m: GoMap): string[] {
  const keys: string[] = [];
  for (const k of Object.keys(m)) if (m[k] !== undefined) keys.push(k);
  return keys.sort(compareGoStrings);
}

function toGoInt(v: GoInt | bigint): GoInt {
  return typeof v === 'bigint' ? new GoInt(v) : v;
}

/** reflect.Kind-like classification used by comparisons, truth and printing. */
export type Kind = 'invalid' | 'nil' | 'bool' | 'int' | 'uint' | 'float' | 'string' | 'slice' | 'map' | 'func';

export function kindOf(v: unknown): Kind {
  switch (typeof v) {
    case 'undefined': return 'invalid';
    case 'boolean': return 'bool';
    case 'number': return 'float';
    case 'string': return 'string';
    case 'bigint': return 'int';
    case 'function': return 'func';
    default:
      if (v === null) return 'nil';
      if (v instanceof GoInt) return v.signed ? 'int' : 'uint';
      return Array.isArray(v) ? 'slice' : 'map';
  }
}

/** The Go type name as printed by %T and in error messages. */
export function goTypeName(v: unknown): string {
  switch (kindOf(v)) {
    case 'invalid':
    case 'nil': return '<nil>';
    case 'bool': return 'bool';
    case 'float': return 'float64';
    case 'string': return 'string';
    case 'int':
    case 'uint': return v instanceof GoInt ? v.kind : 'int';
    case 'func': return 'func(...interface {}) interface {}';
    case 'slice': return (v as Tagged)[GO_TYPE] ?? '[]interface {}';
    case 'map': return (v as Tagged)[GO_TYPE] ?? 'map[string]interface {}';
  }
}

/** Element type name of a slice or map type name ("[]string" -> "string"). */
export function elemTypeName(containerType: string): string {
  if (containerType.startsWith('[]')) return containerType.slice(2);
  const close = containerType.indexOf(']');
  return containerType.slice(close + 1);
}

/** Go's truth: false, 0, nil, and empty strings/slices/maps are false. */
export function isTrue(v: unknown): boolean {
  switch (typeof v) {
    case 'undefined': return false;
    case 'boolean': return v;
    case 'number': return v !== 0;
    case 'string': return v.length > 0;
    case 'bigint': return v !== 0n;
    case 'function': return true;
    default:
      if (v === null) return false;
      if (v instanceof GoInt) return v.value !== 0n;
      if (Array.isArray(v)) return v.length > 0;
      return Object.keys(v as object).some((k) => (v as GoMap)[k] !== undefined);
  }
}

export function mapLength(m: GoMap): number {
  let n = 0;
  for (const k of Object.keys(m)) if (m[k] !== undefined) n++;
  return n;
}

// Go strings are byte sequences; JS strings are UTF-16. These helpers give byte semantics.

const encoder = new TextEncoder();
const strictDecoder = new TextDecoder('utf-8', { fatal: true });

export function utf8Bytes(s: string): Uint8Array {
  return encoder.encode(s);
}

/**
 * Decodes UTF-8; each byte of an invalid sequence becomes one U+FFFD, as Go's decoder
 * (and so its JSON encoder) treats it. Go strings can hold raw invalid bytes; JS strings cannot.
 */
export function utf8Decode(bytes: Uint8Array): string {
  try {
    return strictDecoder.decode(bytes);
  } catch {
    let out = '';
    for (let i = 0; i < bytes.length; ) {
      const width = validSequenceLength(bytes, i);
      out += width === 0 ? '\ufffd' : strictDecoder.decode(bytes.subarray(i, i + width));
      i += width === 0 ? 1 : width;
    }
    return out;
  }
}

/** Length of the valid UTF-8 sequence starting at i, or 0 if the byte there starts none. */
function validSequenceLength(b: Uint8Array, i: number): number {
  const c = b[i]!;
  if (c < 0x80) return 1;
  let n: number;
  let min: number;
  if (c >= 0xc2 && c <= 0xdf) { n = 2; min = 0x80; }
  else if (c >= 0xe0 && c <= 0xef) { n = 3; min = 0x800; }
  else if (c >= 0xf0 && c <= 0xf4) { n = 4; min = 0x10000; }
  else return 0;
  if (i + n > b.length) return 0;
  let cp = c & (0xff >> (n + 1));
  for (let k = 1; k < n; k++) {
    const cc = b[i + k]!;
    if ((cc & 0xc0) !== 0x80) return 0;
    cp = (cp << 6) | (cc & 0x3f);
  }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp < 0xe000)) return 0;
  return n;
}

export function byteLength(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

/** s[start:end] with Go byte offsets. */
export function byteSlice(s: string, start: number, end?: number): string {
  if (isAscii(s)) return s.slice(start, end);
  return utf8Decode(utf8Bytes(s).subarray(start, end));
}

// eslint-disable-next-line no-control-regex
const NON_ASCII = /[^\x00-\x7f]/;

export function isAscii(s: string): boolean {
  return !NON_ASCII.test(s);
}

/** Counts code points (Go's utf8.RuneCountInString). */
export function runeCount(s: string): number {
  if (isAscii(s)) return s.length;
  let n = 0;
  for (const _ of s) n++;
  return n;
}

/** reflect.DeepEqual over the value model (nil and empty slices differ, NaN != NaN). */
export function deepEqual(a: unknown, b: unknown): boolean {
  const ka = kindOf(a);
  const kb = kindOf(b);
  const nilA = ka === 'invalid' || ka === 'nil';
  const nilB = kb === 'invalid' || kb === 'nil';
  if (nilA || nilB) return nilA && nilB;
  if (goTypeName(a) !== goTypeName(b)) return false;
  switch (ka) {
    case 'int':
    case 'uint':
      return toGoInt(a as GoInt | bigint).value === toGoInt(b as GoInt | bigint).value;
    case 'slice': {
      const x = a as unknown[];
      const y = b as unknown[];
      if (isNilContainer(x) !== isNilContainer(y) || x.length !== y.length) return false;
      return x.every((e, i) => deepEqual(e, y[i]));
    }
    case 'map': {
      const x = a as GoMap;
      const y = b as GoMap;
      if (isNilContainer(x) !== isNilContainer(y)) return false;
      const keys = sortedKeys(x);
      return keys.length === mapLength(y) && keys.every((k) => mapHas(y, k) && deepEqual(x[k], y[k]));
    }
    case 'func':
      return false;
    default:
      return a === b;
  }
}
