// A port of Go's fmt printing (Sprint, Sprintln, Sprintf) over the engine's Go value model.

import { FuncError } from './errors.js';
import { canBackquote, formatFloat, type FloatFormat, quote, quoteRune, isPrint } from './strconv.js';
import {
  GoInt, type GoMap, goTypeName, isNilContainer, kindOf, mapGet, runeCount, sortedKeys, utf8Bytes,
} from './values.js';

interface Flags {
  plus: boolean;
  minus: boolean;
  sharp: boolean;
  space: boolean;
  zero: boolean;
  plusV: boolean;
  sharpV: boolean;
  wid: number;
  widPresent: boolean;
  prec: number;
  precPresent: boolean;
}

function clearFlags(): Flags {
  return {
    plus: false, minus: false, sharp: false, space: false, zero: false, plusV: false, sharpV: false,
    wid: 0, widPresent: false, prec: 0, precPresent: false,
  };
}

const MAX_RUNE = 0x10ffff;

class Printer {
  buf = '';
  f: Flags = clearFlags();

  // ------------------------------------------------------------ padding

  private writePadding(n: number): void {
    if (n > 0) this.buf += (this.f.zero ? '0' : ' ').repeat(n);
  }

  /** Pads s to the width (counted in runes) on the left or right. */
  private pad(s: string): void {
    const f = this.f;
    if (!f.widPresent || f.wid === 0) {
      this.buf += s;
      return;
    }
    const width = f.wid - runeCount(s);
    if (!f.minus) {
      this.writePadding(width);
      this.buf += s;
    } else {
      this.buf += s;
      this.writePadding(width);
    }
  }

  private padNoZero(s: string): void {
    const oldZero = this.f.zero;
    this.f.zero = false;
    this.pad(s);
    this.f.zero = oldZero;
  }

  // ------------------------------------------------------------ scalars

  private fmtInteger(v: GoInt, verb: string): void {
    switch (verb) {
      case 'v':
        if (this.f.sharpV && !v.signed) return this.fmtIntegerBase(v, 16, 'x', true);
        return this.fmtIntegerBase(v, 10, verb, false);
      case 'd': return this.fmtIntegerBase(v, 10, verb, false);
      case 'b': return this.fmtIntegerBase(v, 2, verb, false);
      case 'o':
      case 'O': return this.fmtIntegerBase(v, 8, verb, false);
      case 'x':
      case 'X': return this.fmtIntegerBase(v, 16, verb, false);
      case 'c': return this.pad(String.fromCodePoint(this.runeOf(v)));
      case 'q': return this.pad(quoteRune(this.runeOf(v), this.f.plus));
      case 'U': return this.fmtUnicode(v);
      default: return this.badVerb(verb, v);
    }
  }

  private runeOf(v: GoInt): number {
    const u = BigInt.asUintN(64, v.value);
    return u > BigInt(MAX_RUNE) || (u >= 0xd800n && u < 0xe000n) ? 0xfffd : Number(u);
  }

  private fmtIntegerBase(v: GoInt, base: number, verb: string, forceSharp: boolean): void {
    const f = this.f;
    const negative = v.value < 0n;
    const u = negative ? -v.value : v.value;
    let prec = 0;
    if (f.precPresent) {
      prec = f.prec;
      if (prec === 0 && u === 0n) {
        const oldZero = f.zero;
        f.zero = false;
        this.writePadding(f.wid);
        f.zero = oldZero;
        return;
      }
    } else if (f.zero && f.widPresent) {
      prec = f.wid;
      if (negative || f.plus || f.space) prec--;
    }
    let digits = u.toString(base);
    if (verb === 'X') digits = digits.toUpperCase();
    digits = digits.padStart(prec, '0');
    if (f.sharp || forceSharp) {
      if (base === 2) digits = '0b' + digits;
      else if (base === 8 && digits[0] !== '0') digits = '0' + digits;
      else if (base === 16) digits = (verb === 'X' ? '0X' : '0x') + digits;
    }
    if (verb === 'O') digits = '0o' + digits;
    if (negative) digits = '-' + digits;
    else if (f.plus) digits = '+' + digits;
    else if (f.space) digits = ' ' + digits;
    this.padNoZero(digits);
  }

  private fmtUnicode(v: GoInt): void {
    const u = BigInt.asUintN(64, v.value);
    const prec = this.f.precPresent && this.f.prec > 4 ? this.f.prec : 4;
    let s = 'U+' + u.toString(16).toUpperCase().padStart(prec, '0');
    if (this.f.sharp && u <= BigInt(MAX_RUNE) && isPrint(Number(u))) s += " '" + String.fromCodePoint(Number(u)) + "'";
    this.padNoZero(s);
  }

  private fmtFloat(v: number, verb: string): void {
    let fmt: FloatFormat;
    let prec: number;
    switch (verb) {
      case 'v': fmt = 'g'; prec = -1; break;
      case 'b':
      case 'g':
      case 'G':
      case 'x':
      case 'X': fmt = verb; prec = -1; break;
      case 'f':
      case 'e':
      case 'E': fmt = verb; prec = 6; break;
      case 'F': fmt = 'f'; prec = 6; break;
      default: return this.badVerb(verb, v);
    }
    const f = this.f;
    if (f.precPresent) prec = f.prec;
    let num = formatFloat(v, fmt, prec);
    if (num[0] !== '-' && num[0] !== '+') num = '+' + num;
    if (f.space && num[0] === '+' && !f.plus) num = ' ' + num.slice(1);
    if (num[1] === 'I' || num[1] === 'N') {
      if (num[1] === 'N' && !f.space && !f.plus) num = num.slice(1);
      this.padNoZero(num);
      return;
    }
    if (f.sharp && fmt !== 'b') num = sharpFloat(num, fmt, prec);
    if (f.plus || num[0] !== '+') {
      if (f.zero && f.widPresent && f.wid > num.length) {
        this.buf += num[0];
        this.writePadding(f.wid - num.length);
        this.buf += num.slice(1);
        return;
      }
      this.pad(num);
      return;
    }
    this.pad(num.slice(1));
  }

  private truncateString(s: string): string {
    if (!this.f.precPresent) return s;
    let n = this.f.prec;
    let i = 0;
    for (const ch of s) {
      if (--n < 0) return s.slice(0, i);
      i += ch.length;
    }
    return s;
  }

  private fmtString(v: string, verb: string): void {
    switch (verb) {
      case 'v':
        if (this.f.sharpV) return this.fmtQ(v);
        return this.pad(this.truncateString(v));
      case 's': return this.pad(this.truncateString(v));
      case 'x':
      case 'X': return this.fmtSx(v, verb);
      case 'q': return this.fmtQ(v);
      default: return this.badVerb(verb, v);
    }
  }

  private fmtQ(v: string): void {
    const s = this.truncateString(v);
    if (this.f.sharp && canBackquote(s)) return this.pad('`' + s + '`');
    this.pad(quote(s, this.f.plus));
  }

  private fmtSx(v: string, verb: string): void {
    const f = this.f;
    let bytes = utf8Bytes(v);
    if (f.precPresent && f.prec < bytes.length) bytes = bytes.subarray(0, f.prec);
    if (bytes.length === 0) {
      if (f.widPresent) this.writePadding(f.wid);
      return;
    }
    const prefix = verb === 'X' ? '0X' : '0x';
    const parts: string[] = [];
    for (const b of bytes) {
      const h = b.toString(16).padStart(2, '0');
      parts.push(verb === 'X' ? h.toUpperCase() : h);
    }
    let s: string;
    if (f.space) s = parts.map((p) => (f.sharp ? prefix + p : p)).join(' ');
    else s = (f.sharp ? prefix : '') + parts.join('');
    if (f.widPresent && f.wid > s.length && !f.minus) this.writePadding(f.wid - s.length);
    this.buf += s;
    if (f.widPresent && f.wid > s.length && f.minus) this.writePadding(f.wid - s.length);
  }

  // ------------------------------------------------------------ values

  badVerb(verb: string, arg: unknown): void {
    this.buf += '%!' + verb + '(';
    if (arg === null || arg === undefined) this.buf += '<nil>';
    else {
      this.buf += goTypeName(arg) + '=';
      this.printArg(arg, 'v');
    }
    this.buf += ')';
  }

  /** fmt's printArg: a top-level operand (an interface{} argument). */
  printArg(arg: unknown, verb: string): void {
    if (arg === null || arg === undefined) {
      if (verb === 'T' || verb === 'v') this.pad('<nil>');
      else this.badVerb(verb, arg);
      return;
    }
    if (verb === 'T') {
      this.pad(this.truncateString(goTypeName(arg)));
      return;
    }
    if (verb === 'p') throw new FuncError('verb %p is not supported');
    this.printValue(arg, verb, 0, false);
  }

  /**
   * fmt's printValue. `inInterface` marks elements of []interface{} / map[string]interface{},
   * whose nil entries print as <nil> for every verb.
   */
  private printValue(v: unknown, verb: string, depth: number, inInterface: boolean): void {
    switch (kindOf(v)) {
      case 'invalid':
      case 'nil':
        if (inInterface && this.f.sharpV) this.buf += 'interface {}(nil)';
        else if (inInterface || verb === 'v') this.buf += '<nil>';
        else this.badVerb(verb, null);
        return;
      case 'bool':
        if (verb === 't' || verb === 'v') this.pad(v ? 'true' : 'false');
        else this.badVerb(verb, v);
        return;
      case 'int':
      case 'uint':
        this.fmtInteger(v instanceof GoInt ? v : new GoInt(v as bigint), verb);
        return;
      case 'float':
        this.fmtFloat(v as number, verb);
        return;
      case 'string':
        this.fmtString(v as string, verb);
        return;
      case 'slice':
        this.printSlice(v as unknown[], verb, depth);
        return;
      case 'map':
        this.printMap(v as GoMap, verb, depth);
        return;
      case 'func':
        throw new FuncError('printing func values is not supported');
    }
  }

  private printSlice(list: unknown[], verb: string, depth: number): void {
    const typeName = goTypeName(list);
    const inInterface = typeName === '[]interface {}';
    if (this.f.sharpV) {
      this.buf += typeName;
      if (isNilContainer(list)) {
        this.buf += '(nil)';
        return;
      }
      this.buf += '{';
      list.forEach((e, i) => {
        if (i > 0) this.buf += ', ';
        this.printValue(e, verb, depth + 1, inInterface);
      });
      this.buf += '}';
      return;
    }
    this.buf += '[';
    list.forEach((e, i) => {
      if (i > 0) this.buf += ' ';
      this.printValue(e, verb, depth + 1, inInterface);
    });
    this.buf += ']';
  }

  private printMap(m: GoMap, verb: string, depth: number): void {
    const typeName = goTypeName(m);
    const inInterface = typeName.endsWith('interface {}');
    if (this.f.sharpV) {
      this.buf += typeName;
      if (isNilContainer(m)) {
        this.buf += '(nil)';
        return;
      }
      this.buf += '{';
    } else {
      this.buf += 'map[';
    }
    sortedKeys(m).forEach((k, i) => {
      if (i > 0) this.buf += this.f.sharpV ? ', ' : ' ';
      this.printValue(k, verb, depth + 1, false);
      this.buf += ':';
      this.printValue(mapGet(m, k), verb, depth + 1, inInterface);
    });
    this.buf += this.f.sharpV ? '}' : ']';
  }
}

/** The '#' flag on %e/%f/%g keeps a decimal point and (for %g) trailing zeros. */
function sharpFloat(num: string, fmt: FloatFormat, prec: number): string {
  let digits = 0;
  if (fmt === 'g' || fmt === 'G' || fmt === 'x') digits = prec === -1 ? 6 : prec;
  let tail = '';
  let body = num;
  const e = body.search(fmt === 'x' || fmt === 'X' ? /[pP]/ : /[eE]/);
  if (e >= 0) {
    tail = body.slice(e);
    body = body.slice(0, e);
  }
  let hasDecimalPoint = false;
  let sawNonzero = false;
  for (let i = 1; i < body.length; i++) {
    const c = body[i]!;
    if (c === '.') hasDecimalPoint = true;
    else {
      if (c !== '0') sawNonzero = true;
      if (sawNonzero) digits--;
    }
  }
  if (!hasDecimalPoint) {
    if (body.length === 2 && body[1] === '0') digits--;
    body += '.';
  }
  if (digits > 0) body += '0'.repeat(digits);
  return body + tail;
}

function isStringArg(arg: unknown): boolean {
  return typeof arg === 'string';
}

/** fmt.Sprint: spaces are added between operands when neither is a string. */
export function sprint(args: readonly unknown[]): string {
  const p = new Printer();
  let prevString = false;
  args.forEach((arg, i) => {
    const isString = isStringArg(arg);
    if (i > 0 && !isString && !prevString) p.buf += ' ';
    p.printArg(arg, 'v');
    prevString = isString;
  });
  return p.buf;
}

/** fmt.Sprintln: operands are always separated by spaces and a newline is appended. */
export function sprintln(args: readonly unknown[]): string {
  const p = new Printer();
  args.forEach((arg, i) => {
    if (i > 0) p.buf += ' ';
    p.printArg(arg, 'v');
  });
  return p.buf + '\n';
}

/** Formats one value with %v (used for template output and sprig's strval). */
export function formatValue(v: unknown): string {
  if (typeof v === 'string') return v;
  const p = new Printer();
  p.printArg(v, 'v');
  return p.buf;
}

/** Parses a run of decimal digits (Go's parsenum). */
function parseNum(s: string, start: number, end: number): { num: number; isNum: boolean; next: number } {
  let num = 0;
  let isNum = false;
  let i = start;
  for (; i < end && s.charCodeAt(i) >= 48 && s.charCodeAt(i) <= 57; i++) {
    if (num > 1e6) return { num: 0, isNum: false, next: end };
    num = num * 10 + (s.charCodeAt(i) - 48);
    isNum = true;
  }
  return { num, isNum, next: i };
}

/** Go's intFromArg for '*' width/precision: only integer operands are accepted. */
function intFromArg(args: readonly unknown[], argNum: number): { num: number; isInt: boolean; next: number } {
  if (argNum >= args.length) return { num: 0, isInt: false, next: argNum };
  const a = args[argNum];
  if (a instanceof GoInt || typeof a === 'bigint') {
    const n = Number(a instanceof GoInt ? a.value : a);
    if (Math.abs(n) <= 1e6) return { num: n, isInt: true, next: argNum + 1 };
  }
  return { num: 0, isInt: false, next: argNum + 1 };
}

/** fmt.Sprintf. */
export function sprintf(format: string, args: readonly unknown[]): string {
  const p = new Printer();
  const end = format.length;
  let argNum = 0;
  let afterIndex = false;
  let reordered = false;
  let goodArgNum = true;

  const argNumber = (i: number): { argNum: number; i: number; found: boolean } => {
    if (i >= end || format[i] !== '[') return { argNum, i, found: false };
    reordered = true;
    const close = format.indexOf(']', i + 1);
    if (close < 0) {
      goodArgNum = false;
      return { argNum, i: i + 1, found: false };
    }
    const n = parseNum(format, i + 1, close);
    if (!n.isNum || n.next !== close) {
      goodArgNum = false;
      return { argNum, i: close + 1, found: false };
    }
    const index = n.num - 1;
    if (index >= 0 && index < args.length) return { argNum: index, i: close + 1, found: true };
    goodArgNum = false;
    return { argNum, i: close + 1, found: true };
  };

  for (let i = 0; i < end; ) {
    goodArgNum = true;
    const lasti = i;
    while (i < end && format[i] !== '%') i++;
    if (i > lasti) p.buf += format.slice(lasti, i);
    if (i >= end) break;
    i++;
    p.f = clearFlags();
    const f = p.f;
    let simpleDone = false;
    for (; i < end; i++) {
      const c = format[i]!;
      if (c === '#') f.sharp = true;
      else if (c === '0') f.zero = !f.minus;
      else if (c === '+') f.plus = true;
      else if (c === '-') {
        f.minus = true;
        f.zero = false;
      } else if (c === ' ') f.space = true;
      else {
        if (c >= 'a' && c <= 'z' && argNum < args.length) {
          if (c === 'v') {
            f.sharpV = f.sharp;
            f.sharp = false;
            f.plusV = f.plus;
            f.plus = false;
          }
          p.printArg(args[argNum], c);
          argNum++;
          i++;
          simpleDone = true;
        }
        break;
      }
    }
    if (simpleDone) continue;

    let r = argNumber(i);
    argNum = r.argNum;
    i = r.i;
    afterIndex = r.found;

    if (i < end && format[i] === '*') {
      i++;
      const w = intFromArg(args, argNum);
      f.wid = w.num;
      f.widPresent = w.isInt;
      argNum = w.next;
      if (!f.widPresent) p.buf += '%!(BADWIDTH)';
      if (f.wid < 0) {
        f.wid = -f.wid;
        f.minus = true;
        f.zero = false;
      }
      afterIndex = false;
    } else {
      const n = parseNum(format, i, end);
      f.wid = n.num;
      f.widPresent = n.isNum;
      i = n.next;
      if (afterIndex && f.widPresent) goodArgNum = false;
    }

    if (i + 1 < end && format[i] === '.') {
      i++;
      if (afterIndex) goodArgNum = false;
      r = argNumber(i);
      argNum = r.argNum;
      i = r.i;
      afterIndex = r.found;
      if (i < end && format[i] === '*') {
        i++;
        const w = intFromArg(args, argNum);
        f.prec = w.num;
        f.precPresent = w.isInt;
        argNum = w.next;
        if (f.prec < 0) {
          f.prec = 0;
          f.precPresent = false;
        }
        if (!f.precPresent) p.buf += '%!(BADPREC)';
        afterIndex = false;
      } else {
        const n = parseNum(format, i, end);
        f.prec = n.num;
        f.precPresent = true;
        i = n.next;
      }
    }

    if (!afterIndex) {
      r = argNumber(i);
      argNum = r.argNum;
      i = r.i;
      afterIndex = r.found;
    }

    if (i >= end) {
      p.buf += '%!(NOVERB)';
      break;
    }
    const verb = String.fromCodePoint(format.codePointAt(i)!);
    i += verb.length;

    if (verb === '%') p.buf += '%';
    else if (!goodArgNum) p.buf += '%!' + verb + '(BADINDEX)';
    else if (argNum >= args.length) p.buf += '%!' + verb + '(MISSING)';
    else {
      if (verb === 'v') {
        f.sharpV = f.sharp;
        f.sharp = false;
        f.plusV = f.plus;
        f.plus = false;
      }
      p.printArg(args[argNum], verb);
      argNum++;
    }
  }

  if (!reordered && argNum < args.length) {
    p.f = clearFlags();
    p.buf += '%!(EXTRA ';
    args.slice(argNum).forEach((arg, i) => {
      if (i > 0) p.buf += ', ';
      if (arg === null || arg === undefined) p.buf += '<nil>';
      else {
        p.buf += goTypeName(arg) + '=';
        p.printArg(arg, 'v');
      }
    });
    p.buf += ')';
  }
  return p.buf;
}

