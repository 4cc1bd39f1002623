// Sprig string functions (strings.go) with Go's byte/rune semantics.

import { createHash } from 'node:crypto';
import { FuncError } from '../errors.js';
import { formatValue } from '../fmt.js';
import { quote } from '../strconv.js';
import {
  type GoMap, byteLength, byteSlice, compareGoStrings, isAscii, kindOf, newGoMap, mapSet, utf8Bytes,
  utf8Decode, withGoType,
} from '../values.js';
import { type FuncTable, def, defVariadic } from './types.js';

/** Characters Go's unicode.IsSpace accepts. */
const SPACE = '\\t\\n\\v\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const LEADING_SPACE = new RegExp(`^[${SPACE}]+`);
const TRAILING_SPACE = new RegExp(`[${SPACE}]+$`);
const ANY_SPACE = new RegExp(`[${SPACE}]`, 'g');
const IS_SPACE = new RegExp(`^[${SPACE}]$`);

/** Go fails rather than building absurdly large strings; so do we. */
const MAX_STRING_BYTES = 64 * 1024 * 1024;

function trimSpace(s: string): string {
  return s.replace(LEADING_SPACE, '').replace(TRAILING_SPACE, '');
}

/** Sprig's strval: strings as-is, everything else formatted with %v. */
export function strval(v: unknown): string {
  return typeof v === 'string' ? v : formatValue(v);
}

/** unicode.ToUpper/ToLower per rune: simple case mappings only (no 'ß' -> 'SS'). */
function mapCase(s: string, upper: boolean): string {
  if (isAscii(s)) return upper ? s.toUpperCase() : s.toLowerCase();
  let out = '';
  for (const ch of s) out += caseRune(ch, upper);
  return out;
}

function caseRune(ch: string, upper: boolean): string {
  const mapped = upper ? ch.toUpperCase() : ch.toLowerCase();
  const runes = [...mapped];
  if (runes.length === 1) return mapped;
  // Only U+0130 lowercases to several runes; its simple mapping is the first one.
  return upper ? ch : runes[0]!;
}

/** strings.Title: upper-cases the first letter of every word. */
function title(s: string): string {
  let prev = ' ';
  let out = '';
  for (const ch of s) {
    out += isSeparator(prev) ? caseRune(ch, true) : ch;
    prev = ch;
  }
  return out;
}

function isSeparator(ch: string): boolean {
  const cp = ch.codePointAt(0)!;
  if (cp <= 0x7f) return !/[0-9A-Za-z_]/.test(ch);
  if (/[\p{L}\p{Nd}]/u.test(ch)) return false;
  return IS_SPACE.test(ch);
}

/** goutils.Uncapitalize: lower-cases the first rune of every whitespace-separated word. */
function untitle(s: string): string {
  let out = '';
  let next = true;
  for (const ch of s) {
    if (IS_SPACE.test(ch)) {
      next = true;
      out += ch;
    } else {
      out += next ? caseRune(ch, false) : ch;
      next = false;
    }
  }
  return out;
}

/** strings.Trim with a cutset of runes. */
function trimCutset(s: string, cutset: string): string {
  const cut = new Set(cutset);
  const runes = [...s];
  let start = 0;
  let end = runes.length;
  while (start < end && cut.has(runes[start]!)) start++;
  while (end > start && cut.has(runes[end - 1]!)) end--;
  return runes.slice(start, end).join('');
}

function repeat(count: number, s: string): string {
  if (count < 0) throw new FuncError('strings: negative Repeat count');
  if (byteLength(s) * count > MAX_STRING_BYTES) throw new FuncError('strings: Repeat output length overflow');
  return s.repeat(count);
}

/** strings.Replace(src, old, new, -1); an empty old inserts `new` around every rune. */
function replaceAll(src: string, old: string, replacement: string): string {
  if (old === '') return replacement + [...src].join(replacement) + (src === '' ? '' : replacement);
  return src.split(old).join(replacement);
}

/** strings.SplitN (n < 0: all parts). An empty separator splits into runes. */
function splitN(s: string, sep: string, n: number): string[] {
  if (n === 0) return [];
  const parts = sep === '' ? [...s] : s.split(sep);
  if (n < 0 || parts.length <= n) return parts;
  const head = parts.slice(0, n - 1);
  return [...head, parts.slice(n - 1).join(sep)];
}

function splitMap(parts: string[]): GoMap {
  const m = withGoType(newGoMap(), 'map[string]string');
  parts.forEach((p, i) => mapSet(m, '_' + i, p));
  return m;
}

function substr(start: number, end: number, s: string): string {
  const len = byteLength(s);
  if (start < 0) {
    if (end < 0 || end > len) throw new FuncError(`runtime error: slice bounds out of range [:${end}] with length ${len}`);
    return byteSlice(s, 0, end);
  }
  if (end < 0 || end > len) {
    if (start > len) throw new FuncError(`runtime error: slice bounds out of range [${start}:${len}]`);
    return byteSlice(s, start);
  }
  if (start > end) throw new FuncError(`runtime error: slice bounds out of range [${start}:${end}]`);
  return byteSlice(s, start, end);
}

function trunc(c: number, s: string): string {
  const len = byteLength(s);
  if (c < 0 && len + c > 0) return byteSlice(s, len + c);
  if (c >= 0 && len > c) return byteSlice(s, 0, c);
  return s;
}

function indent(spaces: number, v: string): string {
  const pad = repeat(spaces, ' ');
  return pad + v.replaceAll('\n', '\n' + pad);
}

/** Sprig's strslice: a list's non-nil elements as strings. */
function strslice(v: unknown): string[] {
  if (kindOf(v) === 'slice') return (v as unknown[]).filter((e) => e !== null && e !== undefined).map(strval);
  if (v === null || v === undefined) return [];
  return [strval(v)];
}

function sortAlpha(v: unknown): string[] {
  const list = kindOf(v) === 'slice' ? strslice(v) : [strval(v)];
  return withGoType(list.sort(compareGoStrings), '[]string');
}

function abbrev(width: number, s: string): string {
  if (width < 4 || byteLength(s) <= width) return s;
  return byteSlice(s, 0, width - 3) + '...';
}

// ---------------------------------------------------------------- base64

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const B64_VALUES = new Map([...B64].map((c, i) => [c.charCodeAt(0), i]));

/** base64.StdEncoding.DecodeString; Sprig returns the error text instead of failing. */
export function base64Decode(v: string): string {
  const src = utf8Bytes(v);
  const out: number[] = [];
  let si = 0;
  const corrupt = (at: number): string => `illegal base64 data at input byte ${at}`;
  const isNewline = (b: number | undefined): boolean => b === 10 || b === 13;
  while (si < src.length) {
    const dbuf = [0, 0, 0, 0];
    let dlen = 4;
    let trailingError: string | null = null;
    for (let j = 0; j < 4; j++) {
      if (si === src.length) {
        if (j === 0) return utf8Decode(Uint8Array.from(out));
        return corrupt(si - j);
      }
      const c = src[si++]!;
      const val = B64_VALUES.get(c);
      if (val !== undefined) {
        dbuf[j] = val;
        continue;
      }
      if (isNewline(c)) {
        j--;
        continue;
      }
      if (c !== 0x3d) return corrupt(si - 1);
      if (j < 2) return corrupt(si - 1);
      if (j === 2) {
        while (si < src.length && isNewline(src[si])) si++;
        if (si === src.length) return corrupt(src.length);
        if (src[si] !== 0x3d) return corrupt(si - 1);
        si++;
      }
      while (si < src.length && isNewline(src[si])) si++;
      if (si < src.length) trailingError = corrupt(si);
      dlen = j;
      break;
    }
    const val = (dbuf[0]! << 18) | (dbuf[1]! << 12) | (dbuf[2]! << 6) | dbuf[3]!;
    const bytes = [(val >> 16) & 255, (val >> 8) & 255, val & 255];
    out.push(...bytes.slice(0, dlen - 1));
    if (trailingError !== null) return trailingError;
  }
  return utf8Decode(Uint8Array.from(out));
}

function adler32(s: string): number {
  let a = 1;
  let b = 0;
  for (const byte of utf8Bytes(s)) {
    a = (a + byte) % 65521;
    b = (b + a) % 65521;
  }
  return ((b << 16) | a) >>> 0;
}

function digest(algorithm: 'sha1' | 'sha256', s: string): string {
  return createHash(algorithm).update(s, 'utf8').digest('hex');
}

export const SPRIG_STRINGS: FuncTable = {
  hello: def([], () => 'Hello!'),
  abbrev: def(['int', 'string'], abbrev),
  trunc: def(['int', 'string'], trunc),
  trim: def(['string'], trimSpace),
  upper: def(['string'], (s: string) => mapCase(s, true)),
  lower: def(['string'], (s: string) => mapCase(s, false)),
  title: def(['string'], title),
  untitle: def(['string'], untitle),
  substr: def(['int', 'int', 'string'], substr),
  repeat: def(['int', 'string'], repeat),
  trimall: def(['string', 'string'], (a: string, b: string) => trimCutset(b, a)),
  trimAll: def(['string', 'string'], (a: string, b: string) => trimCutset(b, a)),
  trimSuffix: def(['string', 'string'], (a: string, b: string) => (a !== '' && b.endsWith(a) ? b.slice(0, b.length - a.length) : b)),
  trimPrefix: def(['string', 'string'], (a: string, b: string) => (b.startsWith(a) ? b.slice(a.length) : b)),
  nospace: def(['string'], (s: string) => s.replace(ANY_SPACE, '')),
  contains: def(['string', 'string'], (sub: string, s: string) => s.includes(sub)),
  hasPrefix: def(['string', 'string'], (pre: string, s: string) => s.startsWith(pre)),
  hasSuffix: def(['string', 'string'], (suf: string, s: string) => s.endsWith(suf)),
  quote: defVariadic([], 'any', (...v: unknown[]) => v.filter((s) => s !== null).map((s) => quote(strval(s))).join(' ')),
  squote: defVariadic([], 'any', (...v: unknown[]) => v.filter((s) => s !== null).map((s) => `'${strval(s)}'`).join(' ')),
  cat: defVariadic([], 'any', (...v: unknown[]) => v.filter((s) => s !== null).map(strval).join(' ')),
  indent: def(['int', 'string'], indent),
  nindent: def(['int', 'string'], (n: number, s: string) => '\n' + indent(n, s)),
  replace: def(['string', 'string', 'string'], (o: string, n: string, src: string) => replaceAll(src, o, n)),
  plural: def(['string', 'string', 'int'], (one: string, many: string, count: number) => (count === 1 ? one : many)),
  sha1sum: def(['string'], (s: string) => digest('sha1', s)),
  sha256sum: def(['string'], (s: string) => digest('sha256', s)),
  adler32sum: def(['string'], (s: string) => String(adler32(s))),
  toString: def(['any'], strval),
  split: def(['string', 'string'], (sep: string, s: string) => splitMap(splitN(s, sep, -1))),
  splitList: def(['string', 'string'], (sep: string, s: string) => withGoType(splitN(s, sep, -1), '[]string')),
  splitn: def(['string', 'int', 'string'], (sep: string, n: number, s: string) => splitMap(splitN(s, sep, n))),
  toStrings: def(['any'], (v: unknown) => withGoType(strslice(v), '[]string')),
  join: def(['string', 'any'], (sep: string, v: unknown) => strslice(v).join(sep)),
  sortAlpha: def(['any'], sortAlpha),
  b64enc: def(['string'], (s: string) => Buffer.from(s, 'utf8').toString('base64')),
  b64dec: def(['string'], base64Decode),
};

