// A port of Go's text/template/parse lexer. Positions are JS string indices.

export const enum T {
  Error, Bool, Char, CharConstant, Comment, Complex, Assign, Declare, EOF, Field, Identifier,
  LeftDelim, LeftParen, Number, Pipe, RawString, RightDelim, RightParen, Space, String, Text, Variable,
  // Keywords follow.
  Keyword, Block, Break, Continue, Dot, Define, Else, End, If, Nil, Range, Template, With,
}

export interface Item {
  typ: T;
  pos: number;
  val: string;
  line: number;
}

const KEYWORDS: Record<string, T> = {
  '.': T.Dot, block: T.Block, break: T.Break, continue: T.Continue, define: T.Define, else: T.Else,
  end: T.End, if: T.If, range: T.Range, nil: T.Nil, template: T.Template, with: T.With,
};

const EOF = -1;
const LEFT_DELIM = '{{';
const RIGHT_DELIM = '}}';
const LEFT_COMMENT = '/*';
const RIGHT_COMMENT = '*/';
const SPACE_CHARS = ' \t\r\n';

function isSpace(r: number): boolean {
  return r === 32 || r === 9 || r === 13 || r === 10;
}

const ALNUM = /^[\p{L}\p{Nd}_]$/u;

function isAlphaNumeric(r: number): boolean {
  if (r < 0) return false;
  if (r < 0x80) {
    return r === 95 || (r >= 48 && r <= 57) || (r >= 65 && r <= 90) || (r >= 97 && r <= 122);
  }
  return ALNUM.test(String.fromCodePoint(r));
}

function hasLeftTrimMarker(s: string, i: number): boolean {
  return s.length - i >= 2 && s[i] === '-' && isSpace(s.charCodeAt(i + 1));
}

function hasRightTrimMarker(s: string, i: number): boolean {
  return s.length - i >= 2 && isSpace(s.charCodeAt(i)) && s[i + 1] === '-';
}

function countNewlines(s: string, from: number, to: number): number {
  let n = 0;
  for (let i = from; i < to; i++) if (s.charCodeAt(i) === 10) n++;
  return n;
}

/** Go's unicode.IsPrint for ASCII, used to accept punctuation tokens inside actions. */
function isPrintableAscii(r: number): boolean {
  return r >= 0x20 && r < 0x7f;
}

function describeRune(r: number): string {
  const hex = 'U+' + r.toString(16).toUpperCase().padStart(4, '0');
  return r >= 0x20 && r !== 0x7f ? `${hex} '${String.fromCodePoint(r)}'` : hex;
}

type StateFn = ((l: Lexer) => StateFn) | null;

export class Lexer {
  private pos = 0;
  private start = 0;
  private atEOF = false;
  private parenDepth = 0;
  private line = 1;
  private startLine = 1;
  private state: StateFn = lexText;
  private readonly items: Item[] = [];

  constructor(readonly input: string) {}

  /** Returns the next item, running the state machine as far as needed. */
  nextItem(): Item {
    while (this.items.length === 0) {
      if (this.state === null) return { typ: T.EOF, pos: this.pos, val: '', line: this.line };
      this.state = this.state(this);
    }
    return this.items.shift()!;
  }

  next(): number {
    if (this.pos >= this.input.length) {
      this.atEOF = true;
      return EOF;
    }
    const r = this.input.codePointAt(this.pos)!;
    this.pos += r > 0xffff ? 2 : 1;
    if (r === 10) this.line++;
    return r;
  }

  peek(): number {
    const r = this.next();
    this.backup();
    return r;
  }

  backup(): void {
    if (!this.atEOF && this.pos > 0) {
      const low = this.input.charCodeAt(this.pos - 1);
      const width = low >= 0xdc00 && low < 0xe000 && this.pos >= 2 && this.input.charCodeAt(this.pos - 2) >= 0xd800
        && this.input.charCodeAt(this.pos - 2) < 0xdc00 ? 2 : 1;
      this.pos -= width;
      if (low === 10) this.line--;
    }
  }

  emit(t: T): void {
    this.items.push({ typ: t, pos: this.start, val: this.input.slice(this.start, this.pos), line: this.startLine });
    this.start = this.pos;
    this.startLine = this.line;
  }

  ignore(): void {
    this.line += countNewlines(this.input, this.start, this.pos);
    this.start = this.pos;
    this.startLine = this.line;
  }

  accept(valid: string): boolean {
    const r = this.next();
    if (r !== EOF && valid.includes(String.fromCodePoint(r))) return true;
    this.backup();
    return false;
  }

  acceptRun(valid: string): void {
    for (;;) {
      const r = this.next();
      if (r === EOF || !valid.includes(String.fromCodePoint(r))) break;
    }
    this.backup();
  }

  errorf(message: string): StateFn {
    this.items.push({ typ: T.Error, pos: this.start, val: message, line: this.startLine });
    return null;
  }

  // ---------------------------------------------------------------- states (as methods for field access)

  lexText(): StateFn {
    const x = this.input.indexOf(LEFT_DELIM, this.pos);
    if (x >= 0) {
      this.pos = x;
      let trimLength = 0;
      if (hasLeftTrimMarker(this.input, this.pos + LEFT_DELIM.length)) {
        const text = this.input.slice(this.start, this.pos);
        trimLength = text.length - trimRightSpace(text).length;
      }
      this.pos -= trimLength;
      if (this.pos > this.start) {
        this.line += countNewlines(this.input, this.start, this.pos);
        this.emit(T.Text);
      }
      this.pos += trimLength;
      this.ignore();
      return lexLeftDelim;
    }
    this.pos = this.input.length;
    if (this.pos > this.start) {
      this.line += countNewlines(this.input, this.start, this.pos);
      this.emit(T.Text);
    }
    this.emit(T.EOF);
    return null;
  }

  atRightDelim(): { delim: boolean; trimSpaces: boolean } {
    if (hasRightTrimMarker(this.input, this.pos) && this.input.startsWith(RIGHT_DELIM, this.pos + 2)) {
      return { delim: true, trimSpaces: true };
    }
    if (this.input.startsWith(RIGHT_DELIM, this.pos)) return { delim: true, trimSpaces: false };
    return { delim: false, trimSpaces: false };
  }

  lexLeftDelim(): StateFn {
    this.pos += LEFT_DELIM.length;
    const trimSpace = hasLeftTrimMarker(this.input, this.pos);
    const afterMarker = trimSpace ? 2 : 0;
    if (this.input.startsWith(LEFT_COMMENT, this.pos + afterMarker)) {
      this.pos += afterMarker;
      this.ignore();
      return lexComment;
    }
    this.emit(T.LeftDelim);
    this.pos += afterMarker;
    this.ignore();
    this.parenDepth = 0;
    return lexInsideAction;
  }

  lexComment(): StateFn {
    this.pos += LEFT_COMMENT.length;
    const i = this.input.indexOf(RIGHT_COMMENT, this.pos);
    if (i < 0) return this.errorf('unclosed comment');
    this.pos = i + RIGHT_COMMENT.length;
    const { delim, trimSpaces } = this.atRightDelim();
    if (!delim) return this.errorf('comment ends before closing delimiter');
    if (trimSpaces) this.pos += 2;
    this.pos += RIGHT_DELIM.length;
    if (trimSpaces) this.pos += leftTrimLength(this.input, this.pos);
    this.ignore();
    return lexText;
  }

  lexRightDelim(): StateFn {
    const trimSpace = hasRightTrimMarker(this.input, this.pos);
    if (trimSpace) {
      this.pos += 2;
      this.ignore();
    }
    this.pos += RIGHT_DELIM.length;
    this.emit(T.RightDelim);
    if (trimSpace) {
      this.pos += leftTrimLength(this.input, this.pos);
      this.ignore();
    }
    return lexText;
  }

  lexInsideAction(): StateFn {
    const { delim } = this.atRightDelim();
    if (delim) {
      if (this.parenDepth === 0) return lexRightDelim;
      return this.errorf('unclosed left paren');
    }
    const r = this.next();
    if (r === EOF) return this.errorf('unclosed action');
    if (isSpace(r)) {
      this.backup();
      return lexSpace;
    }
    switch (r) {
      case 0x3d: // =
        this.emit(T.Assign);
        return lexInsideAction;
      case 0x3a: // :
        if (this.next() !== 0x3d) return this.errorf('expected :=');
        this.emit(T.Declare);
        return lexInsideAction;
      case 0x7c: // |
        this.emit(T.Pipe);
        return lexInsideAction;
      case 0x22: return lexQuote;
      case 0x60: return lexRawQuote;
      case 0x24: return lexVariable;
      case 0x27: return lexChar;
      case 0x28: // (
        this.emit(T.LeftParen);
        this.parenDepth++;
        return lexInsideAction;
      case 0x29: // )
        this.emit(T.RightParen);
        this.parenDepth--;
        if (this.parenDepth < 0) return this.errorf(`unexpected right paren ${describeRune(r)}`);
        return lexInsideAction;
    }
    if (r === 0x2e) { // .
      if (this.pos < this.input.length) {
        const c = this.input.charCodeAt(this.pos);
        if (c < 48 || c > 57) return lexField;
      }
      this.backup();
      return lexNumber;
    }
    if (r === 0x2b || r === 0x2d || (r >= 48 && r <= 57)) {
      this.backup();
      return lexNumber;
    }
    if (isAlphaNumeric(r)) {
      this.backup();
      return lexIdentifier;
    }
    if (r < 0x80 && isPrintableAscii(r)) {
      this.emit(T.Char);
      return lexInsideAction;
    }
    return this.errorf(`unrecognized character in action: ${describeRune(r)}`);
  }

  lexSpace(): StateFn {
    let numSpaces = 0;
    for (;;) {
      const r = this.peek();
      if (!isSpace(r)) break;
      this.next();
      numSpaces++;
    }
    if (hasRightTrimMarker(this.input, this.pos - 1) && this.input.startsWith(RIGHT_DELIM, this.pos + 1)) {
      this.backup();
      if (numSpaces === 1) return lexRightDelim;
    }
    this.emit(T.Space);
    return lexInsideAction;
  }

  lexIdentifier(): StateFn {
    for (;;) {
      const r = this.next();
      if (isAlphaNumeric(r)) continue;
      this.backup();
      const word = this.input.slice(this.start, this.pos);
      if (!this.atTerminator()) return this.errorf(`bad character ${describeRune(r)}`);
      const kw = KEYWORDS[word];
      if (kw !== undefined && kw > T.Keyword) this.emit(kw);
      else if (word[0] === '.') this.emit(T.Field);
      else if (word === 'true' || word === 'false') this.emit(T.Bool);
      else this.emit(T.Identifier);
      return lexInsideAction;
    }
  }

  lexFieldOrVariable(typ: T.Field | T.Variable): StateFn {
    if (this.atTerminator()) {
      this.emit(typ === T.Variable ? T.Variable : T.Dot);
      return lexInsideAction;
    }
    let r: number;
    for (;;) {
      r = this.next();
      if (!isAlphaNumeric(r)) {
        this.backup();
        break;
      }
    }
    if (!this.atTerminator()) return this.errorf(`bad character ${describeRune(r)}`);
    this.emit(typ);
    return lexInsideAction;
  }

  atTerminator(): boolean {
    const r = this.peek();
    if (isSpace(r)) return true;
    switch (r) {
      case EOF: case 0x2e: case 0x2c: case 0x7c: case 0x3a: case 0x29: case 0x28:
        return true;
    }
    return this.input.startsWith(RIGHT_DELIM, this.pos);
  }

  lexQuoted(closing: number, allowNewline: boolean, what: string, typ: T): StateFn {
    for (;;) {
      let r = this.next();
      if (r === 0x5c && closing !== 0x60) { // backslash
        r = this.next();
        if (r !== EOF && r !== 10) continue;
        return this.errorf(`unterminated ${what}`);
      }
      if (r === EOF || (r === 10 && !allowNewline)) return this.errorf(`unterminated ${what}`);
      if (r === closing) break;
    }
    this.emit(typ);
    return lexInsideAction;
  }

  lexNumber(): StateFn {
    if (!this.scanNumber()) return this.errorf(`bad number syntax: ${JSON.stringify(this.input.slice(this.start, this.pos))}`);
    const sign = this.peek();
    if (sign === 0x2b || sign === 0x2d) {
      if (!this.scanNumber() || this.input[this.pos - 1] !== 'i') {
        return this.errorf(`bad number syntax: ${JSON.stringify(this.input.slice(this.start, this.pos))}`);
      }
      this.emit(T.Complex);
    } else {
      this.emit(T.Number);
    }
    return lexInsideAction;
  }

  scanNumber(): boolean {
    this.accept('+-');
    let digits = '0123456789_';
    if (this.accept('0')) {
      if (this.accept('xX')) digits = '0123456789abcdefABCDEF_';
      else if (this.accept('oO')) digits = '01234567_';
      else if (this.accept('bB')) digits = '01_';
    }
    this.acceptRun(digits);
    if (this.accept('.')) this.acceptRun(digits);
    if (digits.length === 11 && this.accept('eE')) {
      this.accept('+-');
      this.acceptRun('0123456789_');
    }
    if (digits.length === 23 && this.accept('pP')) {
      this.accept('+-');
      this.acceptRun('0123456789_');
    }
    this.accept('i');
    if (isAlphaNumeric(this.peek())) {
      this.next();
      return false;
    }
    return true;
  }
}

function trimRightSpace(s: string): string {
  let end = s.length;
  while (end > 0 && SPACE_CHARS.includes(s[end - 1]!)) end--;
  return s.slice(0, end);
}

function leftTrimLength(s: string, from: number): number {
  let i = from;
  while (i < s.length && SPACE_CHARS.includes(s[i]!)) i++;
  return i - from;
}

const lexText = (l: Lexer): StateFn => l.lexText();
const lexLeftDelim = (l: Lexer): StateFn => l.lexLeftDelim();
const lexComment = (l: Lexer): StateFn => l.lexComment();
const lexRightDelim = (l: Lexer): StateFn => l.lexRightDelim();
const lexInsideAction = (l: Lexer): StateFn => l.lexInsideAction();
const lexSpace = (l: Lexer): StateFn => l.lexSpace();
const lexIdentifier = (l: Lexer): StateFn => l.lexIdentifier();
const lexField = (l: Lexer): StateFn => l.lexFieldOrVariable(T.Field);
const lexVariable = (l: Lexer): StateFn => l.lexFieldOrVariable(T.Variable);
const lexQuote = (l: Lexer): StateFn => l.lexQuoted(0x22, false, 'quoted string', T.String);
const lexRawQuote = (l: Lexer): StateFn => l.lexQuoted(0x60, true, 'raw quoted string', T.RawString);
const lexChar = (l: Lexer): StateFn => l.lexQuoted(0x27, false, 'character constant', T.CharConstant);
const lexNumber = (l: Lexer): StateFn => l.lexNumber();
