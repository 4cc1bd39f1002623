// Ports of the parts of Go's strconv package the template engine relies on:
// number literal parsing, string literal unquoting, quoting, and float formatting.

import { utf8Decode } from './values.js';

// ---------------------------------------------------------------- numbers

const MAX_UINT64 = (1n << 64n) - 1n;
const MIN_INT64_ABS = 1n << 63n;

function lower(c: string): string {
  return c.toLowerCase();
}

/** Go's underscoreOK: underscores may only separate digits (or follow a base prefix). */
function underscoreOK(s: string): boolean {
  let saw = '^';
  let i = 0;
  if (s.length >= 1 && (s[0] === '-' || s[0] === '+')) s = s.slice(1);
  let hex = false;
  if (s.length >= 2 && s[0] === '0' && 'box'.includes(lower(s[1]!))) {
    i = 2;
    saw = '0';
    hex = lower(s[1]!) === 'x';
  }
  for (; i < s.length; i++) {
    const c = s[i]!;
    if ((c >= '0' && c <= '9') || (hex && lower(c) >= 'a' && lower(c) <= 'f')) {
      saw = '0';
      continue;
    }
    if (c === '_') {
      if (saw !== '0') return false;
      saw = '_';
      continue;
    }
    if (saw === '_') return false;
    saw = '!';
  }
  return saw !== '_';
}

function digitValue(c: string): number {
  const code = c.charCodeAt(0);
  if (code >= 48 && code <= 57) return code - 48;
  const l = code | 0x20;
  if (l >= 97 && l <= 122) return l - 97 + 10;
  return 99;
}

/** strconv.ParseUint(s, 0, 64); null on any error. */
export function parseUint0(s: string): bigint | null {
  if (s === '') return null;
  const original = s;
  let base = 10n;
  if (s[0] === '0') {
    const p = s.length >= 3 ? lower(s[1]!) : '';
    if (p === 'b') { base = 2n; s = s.slice(2); }
    else if (p === 'o') { base = 8n; s = s.slice(2); }
    else if (p === 'x') { base = 16n; s = s.slice(2); }
    else { base = 8n; s = s.slice(1); }
  }
  let n = 0n;
  let underscores = false;
  for (const c of s) {
    if (c === '_') {
      underscores = true;
      continue;
    }
    const d = BigInt(digitValue(c));
    if (d >= base) return null;
    n = n * base + d;
    if (n > MAX_UINT64) return null;
  }
  if (underscores && !underscoreOK(original)) return null;
  return n;
}

/** strconv.ParseInt(s, 0, 64); null on any error. */
export function parseInt0(s: string): bigint | null {
  if (s === '') return null;
  let neg = false;
  if (s[0] === '+') s = s.slice(1);
  else if (s[0] === '-') { neg = true; s = s.slice(1); }
  const u = parseUint0(s);
  if (u === null) return null;
  if (!neg && u >= MIN_INT64_ABS) return null;
  if (neg && u > MIN_INT64_ABS) return null;
  return neg ? -u : u;
}

const DECIMAL_FLOAT = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const HEX_FLOAT = /^([+-]?)0[xX]([0-9a-fA-F]*)\.?([0-9a-fA-F]*)[pP]([+-]?\d+)$/;

/** strconv.ParseFloat(s, 64) for Go literal syntax; null on syntax or range error. */
export function parseFloat64(s: string): number | null {
  if (s.includes('_')) {
    if (!underscoreOK(s)) return null;
    s = s.replaceAll('_', '');
  }
  let v: number;
  if (DECIMAL_FLOAT.test(s)) {
    v = Number(s);
  } else {
    const m = HEX_FLOAT.exec(s);
    if (!m || m[2]! + m[3]! === '') return null;
    const mantissa = Number(BigInt('0x' + m[2]! + m[3]!));
    v = mantissa * 2 ** (Number(m[4]) - 4 * m[3]!.length);
    if (m[1] === '-') v = -v;
  }
  return Number.isFinite(v) ? v : null;
}

// ---------------------------------------------------------------- unquoting

/** strconv.Unquote for "...", `...` and '...' literals; null when the syntax is invalid. */
export function unquote(lit: string): string | null {
  if (lit.length < 2) return null;
  const quote = lit[0]!;
  if (lit[lit.length - 1] !== quote) return null;
  const body = lit.slice(1, -1);
  if (quote === '`') return body.includes('`') ? null : body.replaceAll('\r', '');
  if (quote !== '"' && quote !== "'") return null;
  if (body.includes('\n')) return null;
  const bytes: number[] = [];
  let runes = 0;
  for (let i = 0; i < body.length; ) {
    const r = unquoteChar(body, i, quote);
    if (r === null) return null;
    if (r.byte !== undefined) bytes.push(r.byte);
    else pushUtf8(bytes, r.rune!);
    i = r.next;
    runes++;
  }
  if (quote === "'" && runes !== 1) return null;
  return utf8Decode(Uint8Array.from(bytes));
}

/** The code point of a Go character literal such as 'a' or '\n', or why it is invalid. */
export function unquoteCharLiteral(lit: string): number | { error: string } {
  const r = unquoteChar(lit, 1, "'");
  if (r === null) return { error: 'invalid syntax' };
  if (lit.slice(r.next) !== "'") return { error: `malformed character constant: ${lit}` };
  return r.byte ?? r.rune!;
}

interface UnquotedChar {
  rune?: number;
  byte?: number;
  next: number;
}

const SIMPLE_ESCAPES: Record<string, number> = { a: 7, b: 8, f: 12, n: 10, r: 13, t: 9, v: 11, '\\': 92 };

function unquoteChar(s: string, i: number, quote: string): UnquotedChar | null {
  const c = s[i]!;
  if (c === quote) return null;
  if (c !== '\\') {
    const cp = s.codePointAt(i)!;
    return { rune: cp, next: i + (cp > 0xffff ? 2 : 1) };
  }
  const e = s[i + 1];
  if (e === undefined) return null;
  if (e in SIMPLE_ESCAPES) return { rune: SIMPLE_ESCAPES[e]!, next: i + 2 };
  if (e === quote) return { rune: e.charCodeAt(0), next: i + 2 };
  if (e === 'x' || e === 'u' || e === 'U') {
    const n = e === 'x' ? 2 : e === 'u' ? 4 : 8;
    const hex = s.slice(i + 2, i + 2 + n);
    if (hex.length !== n || !/^[0-9a-fA-F]+$/.test(hex)) return null;
    const v = parseInt(hex, 16);
    if (e === 'x') return { byte: v, next: i + 2 + n };
    if (v > 0x10ffff || (v >= 0xd800 && v < 0xe000)) return null;
    return { rune: v, next: i + 2 + n };
  }
  if (e >= '0' && e <= '7') {
    const oct = s.slice(i + 1, i + 4);
    if (!/^[0-7]{3}$/.test(oct)) return null;
    const v = parseInt(oct, 8);
    if (v > 255) return null;
    return { byte: v, next: i + 4 };
  }
  return null;
}

function pushUtf8(out: number[], cp: number): void {
  if (cp < 0x80) out.push(cp);
  else if (cp < 0x800) out.push(0xc0 | (cp >> 6), 0x80 | (cp & 63));
  else if (cp < 0x10000) out.push(0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 63), 0x80 | (cp & 63));
  else out.push(0xf0 | (cp >> 18), 0x80 | ((cp >> 12) & 63), 0x80 | ((cp >> 6) & 63), 0x80 | (cp & 63));
}

// ---------------------------------------------------------------- quoting

const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u;

/** unicode.IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII space. */
export function isPrint(cp: number): boolean {
  if (cp < 0x80) return cp >= 0x20 && cp < 0x7f;
  if (cp >= 0xd800 && cp < 0xe000) return false;
  return PRINTABLE.test(String.fromCodePoint(cp));
}

const HEX = '0123456789abcdef';

function escapeRune(cp: number, quote: string, asciiOnly: boolean): string {
  const ch = String.fromCodePoint(cp);
  if (ch === quote || ch === '\\') return '\\' + ch;
  if (asciiOnly ? cp < 0x80 && isPrint(cp) : isPrint(cp)) return ch;
  switch (cp) {
    case 7: return '\\a';
    case 8: return '\\b';
    case 12: return '\\f';
    case 10: return '\\n';
    case 13: return '\\r';
    case 9: return '\\t';
    case 11: return '\\v';
  }
  if (cp < 0x20 || cp === 0x7f) return '\\x' + HEX[cp >> 4]! + HEX[cp & 15]!;
  if (cp >= 0xd800 && cp < 0xe000) cp = 0xfffd;
  if (cp < 0x10000) return '\\u' + cp.toString(16).padStart(4, '0');
  return '\\U' + cp.toString(16).padStart(8, '0');
}

/** strconv.Quote (or QuoteToASCII when asciiOnly). Lone surrogates count as U+FFFD. */
export function quote(s: string, asciiOnly = false): string {
  let out = '"';
  for (const ch of s) out += escapeRune(ch.codePointAt(0)!, '"', asciiOnly);
  return out + '"';
}

/** strconv.QuoteRune (or QuoteRuneToASCII). */
export function quoteRune(cp: number, asciiOnly = false): string {
  if (cp > 0x10ffff || cp < 0 || (cp >= 0xd800 && cp < 0xe000)) cp = 0xfffd;
  return "'" + escapeRune(cp, "'", asciiOnly) + "'";
}

/** strconv.CanBackquote. */
export function canBackquote(s: string): boolean {
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (cp === 0x60 || cp === 0xfeff || (cp >= 0xd800 && cp < 0xe000)) return false;
    if (cp < 0x20 && cp !== 9) return false;
    if (cp === 0x7f) return false;
  }
  return true;
}

// ---------------------------------------------------------------- float formatting

/** A decimal digit string d with decimal point position dp: value = 0.d × 10^dp. */
interface Decimal {
  d: string;
  dp: number;
}

/** Shortest digits that round-trip (what JS and Go's %v both use). */
function shortestDecimal(x: number): Decimal {
  if (x === 0) return { d: '', dp: 0 };
  const [mant, exp] = x.toExponential().split('e') as [string, string];
  return { d: mant.replace('.', ''), dp: Number(exp) + 1 };
}

const f64 = new DataView(new ArrayBuffer(8));

/** The exact decimal expansion of a positive finite double. */
function exactDecimal(x: number): Decimal {
  if (x === 0) return { d: '', dp: 0 };
  f64.setFloat64(0, x);
  const bits = f64.getBigUint64(0);
  const expBits = Number((bits >> 52n) & 0x7ffn);
  let mant = bits & ((1n << 52n) - 1n);
  let e2 = -1074;
  if (expBits !== 0) {
    mant |= 1n << 52n;
    e2 = expBits - 1075;
  }
  let d: string;
  let dp: number;
  if (e2 >= 0) {
    d = (mant << BigInt(e2)).toString();
    dp = d.length;
  } else {
    d = (mant * 5n ** BigInt(-e2)).toString();
    dp = d.length + e2;
  }
  return { d: d.replace(/0+$/, ''), dp };
}

/** Rounds to nd digits, half to even on exact ties (Go's decimal.Round). */
function roundDecimal(a: Decimal, nd: number): Decimal {
  if (nd < 0 || nd >= a.d.length) return a;
  const next = a.d.charCodeAt(nd) - 48;
  let up: boolean;
  if (next === 5 && nd + 1 === a.d.length) up = nd > 0 && (a.d.charCodeAt(nd - 1) - 48) % 2 === 1;
  else up = next >= 5;
  if (!up) return { d: a.d.slice(0, nd).replace(/0+$/, ''), dp: a.dp };
  for (let i = nd - 1; i >= 0; i--) {
    const c = a.d.charCodeAt(i);
    if (c < 57) return { d: a.d.slice(0, i) + String.fromCharCode(c + 1), dp: a.dp };
  }
  return { d: '1', dp: a.dp + 1 };
}

function fmtE(neg: boolean, d: Decimal, prec: number, e: string): string {
  let out = neg ? '-' : '';
  out += d.d.length ? d.d[0] : '0';
  if (prec > 0) {
    out += '.' + d.d.slice(1, Math.min(d.d.length, prec + 1)).padEnd(prec, '0');
  }
  let exp = d.d.length === 0 ? 0 : d.dp - 1;
  const sign = exp < 0 ? '-' : '+';
  exp = Math.abs(exp);
  return out + e + sign + (exp < 10 ? '0' + exp : String(exp));
}

function fmtF(neg: boolean, d: Decimal, prec: number): string {
  let out = neg ? '-' : '';
  if (d.dp > 0) out += d.d.slice(0, d.dp).padEnd(d.dp, '0');
  else out += '0';
  if (prec > 0) {
    out += '.';
    for (let i = 1; i <= prec; i++) {
      const j = d.dp + i - 1;
      out += j >= 0 && j < d.d.length ? d.d[j] : '0';
    }
  }
  return out;
}

export type FloatFormat = 'b' | 'e' | 'E' | 'f' | 'g' | 'G' | 'x' | 'X';

/** Mantissa and binary exponent of a finite double, as strconv's FormatFloat sees them. */
function floatBits(x: number): { mant: bigint; exp: number } {
  f64.setFloat64(0, x);
  const bits = f64.getBigUint64(0);
  let exp = Number((bits >> 52n) & 0x7ffn);
  let mant = bits & ((1n << 52n) - 1n);
  if (exp === 0) exp++;
  else mant |= 1n << 52n;
  return { mant, exp: exp - 1023 };
}

/** %b: decimal mantissa and binary exponent, e.g. 4503599627370496p-52. */
function fmtB(neg: boolean, x: number): string {
  const { mant, exp } = floatBits(x);
  const e = exp - 52;
  return (neg ? '-' : '') + mant.toString() + 'p' + (e >= 0 ? '+' : '-') + Math.abs(e);
}

/** %x: hexadecimal mantissa and binary exponent, e.g. 0x1.8p+01. */
function fmtX(neg: boolean, x: number, prec: number, upper: boolean): string {
  let { mant, exp } = floatBits(x);
  if (mant === 0n) exp = 0;
  mant <<= 8n;
  while (mant !== 0n && (mant & (1n << 60n)) === 0n) {
    mant <<= 1n;
    exp--;
  }
  if (prec >= 0 && prec < 15) {
    const shift = BigInt(prec * 4);
    const extra = (mant << shift) & ((1n << 60n) - 1n);
    mant >>= 60n - shift;
    if ((extra | (mant & 1n)) > 1n << 59n) mant++;
    mant <<= 60n - shift;
    if ((mant & (1n << 61n)) !== 0n) {
      mant >>= 1n;
      exp++;
    }
  }
  const digit = (m: bigint): string => {
    const d = Number((m >> 60n) & 15n).toString(16);
    return upper ? d.toUpperCase() : d;
  };
  let out = (neg ? '-' : '') + '0' + (upper ? 'X' : 'x') + String(Number((mant >> 60n) & 1n));
  mant = (mant << 4n) & ((1n << 64n) - 1n);
  if ((prec < 0 && mant !== 0n) || prec > 0) {
    out += '.';
    for (let i = 0; prec < 0 ? mant !== 0n : i < prec; i++) {
      out += digit(mant);
      mant = (mant << 4n) & ((1n << 64n) - 1n);
    }
  }
  const e = Math.abs(exp);
  return out + (upper ? 'P' : 'p') + (exp < 0 ? '-' : '+') + (e < 10 ? '0' + e : String(e));
}

/** strconv.FormatFloat(x, fmt, prec, 64); prec < 0 means the shortest representation. */
export function formatFloat(x: number, fmt: FloatFormat, prec: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return '+Inf';
  if (x === -Infinity) return '-Inf';
  const neg = x < 0 || Object.is(x, -0);
  const abs = Math.abs(x);
  if (fmt === 'b') return fmtB(neg, abs);
  if (fmt === 'x' || fmt === 'X') return fmtX(neg, abs, prec, fmt === 'X');
  const shortest = prec < 0;
  let d: Decimal;
  if (shortest) {
    d = shortestDecimal(abs);
    if (fmt === 'e' || fmt === 'E') prec = Math.max(d.d.length - 1, 0);
    else if (fmt === 'f') prec = Math.max(d.d.length - d.dp, 0);
    else prec = d.d.length;
  } else {
    const exact = exactDecimal(abs);
    if (fmt === 'e' || fmt === 'E') d = roundDecimal(exact, prec + 1);
    else if (fmt === 'f') d = roundDecimal(exact, exact.dp + prec);
    else {
      if (prec === 0) prec = 1;
      d = roundDecimal(exact, prec);
    }
  }
  if (fmt === 'e' || fmt === 'E') return fmtE(neg, d, prec, fmt);
  if (fmt === 'f') return fmtF(neg, d, prec);
  let eprec = prec;
  if (eprec > d.d.length && d.d.length >= d.dp) eprec = d.d.length;
  if (shortest) eprec = 6;
  const exp = d.dp - 1;
  if (exp < -4 || exp >= eprec) {
    if (prec > d.d.length) prec = d.d.length;
    return fmtE(neg, d, prec - 1, fmt === 'g' ? 'e' : 'E');
  }
  if (prec > d.dp) prec = d.d.length;
  return fmtF(neg, d, Math.max(prec - d.dp, 0));
}
