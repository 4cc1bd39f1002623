// A port of Go's text/template/parse parser (Go 1.23+ grammar: includes `else with`,
// `break`/`continue`, and `range $i, $x = ...` assignments).

import type {
  BranchNode, CommandNode, ListNode, Node, NumberNode, Operand, PipeNode, TemplateNode, Tree, VariableNode,
} from './ast.js';
import { nodeString } from './ast.js';
import { TemplateParseError } from './errors.js';
import { type Item, Lexer, T } from './lexer.js';
import { parseFloat64, parseInt0, parseUint0, quote, unquote, unquoteCharLiteral } from './strconv.js';
import { GoInt, byteLength } from './values.js';

/** A node that only exists while parsing: {{end}} or {{else}}. */
type Delimiter = { kind: 'end'; pos: number; line: number } | { kind: 'else'; pos: number; line: number };

type Parsed = Node | Delimiter;

function itemString(i: Item): string {
  if (i.typ === T.EOF) return 'EOF';
  if (i.typ === T.Error) return i.val;
  if (i.typ > T.Keyword) return `<${i.val}>`;
  if (i.val.length > 10) return quote(i.val.slice(0, 10)) + '...';
  return quote(i.val);
}

/** Line and Go-style column (byte offset within the line) of a position in the text. */
export function locate(text: string, pos: number): { line: number; col: number } {
  const before = text.slice(0, pos);
  const nl = before.lastIndexOf('\n');
  let line = 1;
  for (let i = 0; i < before.length; i++) if (before.charCodeAt(i) === 10) line++;
  const col = nl < 0 ? byteLength(before) : byteLength(before.slice(nl + 1));
  return { line, col };
}

/** Parses `text` into a set of named trees; the top-level tree is stored under `name`. */
export function parseTemplates(
  name: string,
  text: string,
  hasFunction: (name: string) => boolean,
): Map<string, Tree> {
  const treeSet = new Map<string, Tree>();
  const lex = new Lexer(text);
  const p = new Parser(name, name, text, lex, treeSet, hasFunction);
  p.parseTop();
  return treeSet;
}

/** Text made only of what Go's bytes.TrimSpace removes (unicode.IsSpace). */
const GO_SPACE_ONLY = /^[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*$/;

function isEmptyTree(n: Parsed | null): boolean {
  if (n === null) return true;
  switch (n.kind) {
    case 'comment': return true;
    case 'list': return n.nodes.every(isEmptyTree);
    case 'text': return GO_SPACE_ONLY.test(n.text);
    default: return false;
  }
}

class Parser {
  private readonly token: Item[] = [];
  private peekCount = 0;
  private vars: string[] = ['$'];
  private actionLine = 0;
  private rangeDepth = 0;
  readonly tree: Tree;

  constructor(
    name: string,
    parseName: string,
    private readonly text: string,
    private readonly lex: Lexer,
    private readonly treeSet: Map<string, Tree>,
    private readonly hasFunction: (name: string) => boolean,
  ) {
    this.tree = { name, parseName, text, root: null as unknown as ListNode };
  }

  // ---------------------------------------------------------------- token stream

  private next(): Item {
    if (this.peekCount > 0) this.peekCount--;
    else this.token[0] = this.lex.nextItem();
    return this.token[this.peekCount]!;
  }

  private backup(): void {
    this.peekCount++;
  }

  private backup2(t1: Item): void {
    this.token[1] = t1;
    this.peekCount = 2;
  }

  private backup3(t2: Item, t1: Item): void {
    this.token[1] = t1;
    this.token[2] = t2;
    this.peekCount = 3;
  }

  private peek(): Item {
    if (this.peekCount > 0) return this.token[this.peekCount - 1]!;
    this.peekCount = 1;
    this.token[0] = this.lex.nextItem();
    return this.token[0];
  }

  private nextNonSpace(): Item {
    let token: Item;
    do token = this.next(); while (token.typ === T.Space);
    return token;
  }

  private peekNonSpace(): Item {
    const token = this.nextNonSpace();
    this.backup();
    return token;
  }

  // ---------------------------------------------------------------- errors

  private errorf(message: string): never {
    const tok = this.token[0];
    const line = tok?.line ?? 1;
    const col = tok ? locate(this.text, tok.pos).col : 0;
    throw new TemplateParseError(this.tree.parseName, line, col, message);
  }

  private expect(expected: T, context: string): Item {
    const token = this.nextNonSpace();
    if (token.typ !== expected) this.unexpected(token, context);
    return token;
  }

  private unexpected(token: Item, context: string): never {
    if (token.typ === T.Error) {
      let extra = '';
      if (this.actionLine !== 0 && this.actionLine !== token.line) {
        extra = ` in action started at ${this.tree.parseName}:${this.actionLine}`;
        if (token.val.endsWith(' action')) extra = extra.slice(' in action'.length);
      }
      this.errorf(token.val + extra);
    }
    this.errorf(`unexpected ${itemString(token)} in ${context}`);
  }

  // ---------------------------------------------------------------- trees

  private child(name: string): Parser {
    return new Parser(name, this.tree.parseName, this.text, this.lex, this.treeSet, this.hasFunction);
  }

  private add(): void {
    const existing = this.treeSet.get(this.tree.name);
    if (!existing || isEmptyTree(existing.root)) {
      this.treeSet.set(this.tree.name, this.tree);
      return;
    }
    if (!isEmptyTree(this.tree.root)) this.errorf(`template: multiple definition of template ${quote(this.tree.name)}`);
  }

  parseTop(): void {
    this.tree.root = this.newList(this.peek().pos);
    while (this.peek().typ !== T.EOF) {
      if (this.peek().typ === T.LeftDelim) {
        const delim = this.next();
        if (this.nextNonSpace().typ === T.Define) {
          this.child('definition').parseDefinition();
          continue;
        }
        this.backup2(delim);
      }
      const n = this.textOrAction();
      if (n.kind === 'end' || n.kind === 'else') this.errorf(`unexpected {{${n.kind}}}`);
      this.tree.root.nodes.push(n);
    }
    this.add();
  }

  private parseDefinition(): void {
    const context = 'define clause';
    const nameTok = this.nextNonSpace();
    if (nameTok.typ !== T.String && nameTok.typ !== T.RawString) this.unexpected(nameTok, context);
    const name = unquote(nameTok.val);
    if (name === null) this.errorf('invalid syntax');
    this.tree.name = name;
    this.expect(T.RightDelim, context);
    const [list, end] = this.itemList();
    if (end.kind !== 'end') this.errorf(`unexpected {{${end.kind}}} in ${context}`);
    this.tree.root = list;
    this.add();
  }

  private newList(pos: number): ListNode {
    return { kind: 'list', pos, tree: this.tree, nodes: [] };
  }

  /** textOrAction* up to {{end}} or {{else}}, which is returned separately. */
  private itemList(): [ListNode, Delimiter] {
    const list = this.newList(this.peekNonSpace().pos);
    while (this.peekNonSpace().typ !== T.EOF) {
      const n = this.textOrAction();
      if (n.kind === 'end' || n.kind === 'else') return [list, n];
      list.nodes.push(n);
    }
    this.errorf('unexpected EOF');
  }

  private textOrAction(): Parsed {
    const token = this.nextNonSpace();
    switch (token.typ) {
      case T.Text:
        return { kind: 'text', pos: token.pos, tree: this.tree, text: token.val };
      case T.LeftDelim: {
        this.actionLine = token.line;
        try {
          return this.action();
        } finally {
          this.actionLine = 0;
        }
      }
      default:
        this.unexpected(token, 'input');
    }
  }

  private action(): Parsed {
    const token = this.nextNonSpace();
    switch (token.typ) {
      case T.Block: return this.blockControl();
      case T.Break: return this.loopControl('break', token);
      case T.Continue: return this.loopControl('continue', token);
      case T.Else: return this.elseControl();
      case T.End: return { kind: 'end', pos: this.expect(T.RightDelim, 'end').pos, line: token.line };
      case T.If: return this.branchControl('if');
      case T.Range: return this.branchControl('range');
      case T.Template: return this.templateControl();
      case T.With: return this.branchControl('with');
    }
    this.backup();
    const start = this.peek();
    return { kind: 'action', pos: start.pos, tree: this.tree, line: start.line, pipe: this.pipeline('command', T.RightDelim) };
  }

  private loopControl(kind: 'break' | 'continue', token: Item): Node {
    const next = this.nextNonSpace();
    if (next.typ !== T.RightDelim) this.unexpected(next, `{{${kind}}}`);
    if (this.rangeDepth === 0) this.errorf(`{{${kind}}} outside {{range}}`);
    return { kind, pos: token.pos, tree: this.tree, line: token.line };
  }

  private elseControl(): Delimiter {
    const peek = this.peekNonSpace();
    // "{{else if ..." and "{{else with ..." are treated as "{{else}}{{if ..." / "{{else}}{{with ...".
    if (peek.typ === T.If || peek.typ === T.With) return { kind: 'else', pos: peek.pos, line: peek.line };
    const token = this.expect(T.RightDelim, 'else');
    return { kind: 'else', pos: token.pos, line: token.line };
  }

  private branchControl(kind: 'if' | 'range' | 'with'): BranchNode {
    const varCount = this.vars.length;
    try {
      const pipe = this.pipeline(kind, T.RightDelim);
      if (kind === 'range') this.rangeDepth++;
      const [list, next] = this.itemList();
      if (kind === 'range') this.rangeDepth--;
      let elseList: ListNode | null = null;
      if (next.kind === 'else') {
        const chained = kind === 'if' ? T.If : kind === 'with' ? T.With : null;
        if (chained !== null && this.peek().typ === chained) {
          this.next();
          elseList = this.newList(next.pos);
          elseList.nodes.push(this.branchControl(kind));
        } else {
          const [els, end] = this.itemList();
          if (end.kind !== 'end') this.errorf(`expected end; found {{${end.kind}}}`);
          elseList = els;
        }
      }
      return { kind, pos: pipe.pos, tree: this.tree, line: pipe.line, pipe, list, elseList };
    } finally {
      this.vars.length = varCount;
    }
  }

  private blockControl(): TemplateNode {
    const context = 'block clause';
    const token = this.nextNonSpace();
    const name = this.parseTemplateName(token, context);
    const pipe = this.pipeline(context, T.RightDelim);
    const block = this.child(name);
    const [list, end] = block.itemList();
    if (end.kind !== 'end') this.errorf(`unexpected {{${end.kind}}} in ${context}`);
    block.tree.root = list;
    block.add();
    return { kind: 'template', pos: token.pos, tree: this.tree, line: token.line, name, pipe };
  }

  private templateControl(): TemplateNode {
    const context = 'template clause';
    const token = this.nextNonSpace();
    const name = this.parseTemplateName(token, context);
    let pipe: PipeNode | null = null;
    if (this.nextNonSpace().typ !== T.RightDelim) {
      this.backup();
      pipe = this.pipeline(context, T.RightDelim);
    }
    return { kind: 'template', pos: token.pos, tree: this.tree, line: token.line, name, pipe };
  }

  private parseTemplateName(token: Item, context: string): string {
    if (token.typ !== T.String && token.typ !== T.RawString) this.unexpected(token, context);
    const s = unquote(token.val);
    if (s === null) this.errorf('invalid syntax');
    return s;
  }

  // ---------------------------------------------------------------- pipelines

  private newVariable(pos: number, name: string): VariableNode {
    return { kind: 'variable', pos, tree: this.tree, ident: name.split('.') };
  }

  private pipeline(context: string, end: T): PipeNode {
    const token = this.peekNonSpace();
    const pipe: PipeNode = { kind: 'pipe', pos: token.pos, tree: this.tree, line: token.line, isAssign: false, decl: [], cmds: [] };
    decls: for (;;) {
      const v = this.peekNonSpace();
      if (v.typ !== T.Variable) break;
      this.next();
      const tokenAfterVariable = this.peek();
      const next = this.peekNonSpace();
      if (next.typ === T.Assign || next.typ === T.Declare) {
        pipe.isAssign = next.typ === T.Assign;
        this.nextNonSpace();
        pipe.decl.push(this.newVariable(v.pos, v.val));
        this.vars.push(v.val);
      } else if (next.typ === T.Char && next.val === ',') {
        this.nextNonSpace();
        pipe.decl.push(this.newVariable(v.pos, v.val));
        this.vars.push(v.val);
        if (context === 'range' && pipe.decl.length < 2) {
          const after = this.peekNonSpace().typ;
          if (after === T.Variable || after === T.RightDelim || after === T.RightParen) continue decls;
          this.errorf('range can only initialize variables');
        }
        this.errorf(`too many declarations in ${context}`);
      } else if (tokenAfterVariable.typ === T.Space) {
        this.backup3(v, tokenAfterVariable);
      } else {
        this.backup2(v);
      }
      break;
    }
    for (;;) {
      const token = this.nextNonSpace();
      switch (token.typ) {
        case end:
          this.checkPipeline(pipe, context);
          return pipe;
        case T.Bool: case T.CharConstant: case T.Complex: case T.Dot: case T.Field: case T.Identifier:
        case T.Number: case T.Nil: case T.RawString: case T.String: case T.Variable: case T.LeftParen:
          this.backup();
          pipe.cmds.push(this.command());
          break;
        default:
          this.unexpected(token, context);
      }
    }
  }

  private checkPipeline(pipe: PipeNode, context: string): void {
    if (pipe.cmds.length === 0) this.errorf(`missing value for ${context}`);
    pipe.cmds.slice(1).forEach((c, i) => {
      const k = c.args[0]!.kind;
      if (k === 'bool' || k === 'dot' || k === 'nil' || k === 'number' || k === 'string') {
        this.errorf(`non executable command in pipeline stage ${i + 2}`);
      }
    });
  }

  private command(): CommandNode {
    const cmd: CommandNode = { kind: 'command', pos: this.peekNonSpace().pos, tree: this.tree, args: [] };
    for (;;) {
      this.peekNonSpace();
      const operand = this.operand();
      if (operand !== null) cmd.args.push(operand);
      const token = this.next();
      if (token.typ === T.Space) continue;
      if (token.typ === T.RightDelim || token.typ === T.RightParen) this.backup();
      else if (token.typ !== T.Pipe) this.unexpected(token, 'operand');
      break;
    }
    if (cmd.args.length === 0) this.errorf('empty command');
    return cmd;
  }

  private operand(): Operand | null {
    let node = this.term();
    if (node === null) return null;
    if (this.peek().typ === T.Field) {
      const pos = this.peek().pos;
      const fields: string[] = [];
      while (this.peek().typ === T.Field) fields.push(this.next().val.slice(1));
      switch (node.kind) {
        case 'field':
          node = { kind: 'field', pos, tree: this.tree, ident: [...node.ident, ...fields] };
          break;
        case 'variable':
          node = { kind: 'variable', pos, tree: this.tree, ident: [...node.ident, ...fields] };
          break;
        case 'bool': case 'string': case 'number': case 'nil': case 'dot':
          this.errorf(`unexpected . after term ${quote(nodeString(node))}`);
          break;
        default:
          node = { kind: 'chain', pos, tree: this.tree, node, field: fields };
      }
    }
    return node;
  }

  private term(): Operand | null {
    const token = this.nextNonSpace();
    const base = { pos: token.pos, tree: this.tree };
    switch (token.typ) {
      case T.Identifier:
        if (!this.hasFunction(token.val)) this.errorf(`function ${quote(token.val)} not defined`);
        return { kind: 'identifier', ...base, ident: token.val };
      case T.Dot: return { kind: 'dot', ...base };
      case T.Nil: return { kind: 'nil', ...base };
      case T.Variable: return this.useVar(token.pos, token.val);
      case T.Field: return { kind: 'field', ...base, ident: token.val.slice(1).split('.') };
      case T.Bool: return { kind: 'bool', ...base, value: token.val === 'true' };
      case T.CharConstant:
      case T.Complex:
      case T.Number:
        return this.newNumber(token);
      case T.LeftParen: return this.pipeline('parenthesized pipeline', T.RightParen);
      case T.String:
      case T.RawString: {
        const s = unquote(token.val);
        if (s === null) this.errorf('invalid syntax');
        return { kind: 'string', ...base, quoted: token.val, text: s };
      }
    }
    this.backup();
    return null;
  }

  private useVar(pos: number, name: string): VariableNode {
    const v = this.newVariable(pos, name);
    if (!this.vars.includes(v.ident[0]!)) this.errorf(`undefined variable ${quote(v.ident[0]!)}`);
    return v;
  }

  /** Go's newNumber: classifies a numeric literal as int, uint and/or float. */
  private newNumber(token: Item): NumberNode {
    const text = token.val;
    const n: NumberNode = {
      kind: 'number', pos: token.pos, tree: this.tree, text,
      isInt: false, isUint: false, isFloat: false, int64: 0n, uint64: 0n, float64: 0, ideal: 0,
    };
    if (token.typ === T.CharConstant) {
      const r = unquoteCharLiteral(text);
      if (typeof r !== 'number') this.errorf(r.error);
      Object.assign(n, { isInt: true, isUint: true, isFloat: true, int64: BigInt(r), uint64: BigInt(r), float64: r });
      n.ideal = new GoInt(BigInt(r));
      return n;
    }
    if (token.typ === T.Complex || text.endsWith('i')) this.errorf(`complex constants are not supported: ${quote(text)}`);
    const u = parseUint0(text);
    if (u !== null) {
      n.isUint = true;
      n.uint64 = u;
    }
    const i = parseInt0(text);
    if (i !== null) {
      n.isInt = true;
      n.int64 = i;
      if (i === 0n) {
        n.isUint = true;
        n.uint64 = 0n;
      }
    }
    if (n.isInt) {
      n.isFloat = true;
      n.float64 = Number(n.int64);
    } else if (n.isUint) {
      n.isFloat = true;
      n.float64 = Number(n.uint64);
    } else {
      const f = parseFloat64(text);
      if (f !== null) {
        if (!/[.eEpP]/.test(text)) this.errorf(`integer overflow: ${quote(text)}`);
        n.isFloat = true;
        n.float64 = f;
        if (Number.isInteger(f)) {
          const asInt = BigInt(f);
          if (asInt >= -(2n ** 63n) && asInt < 2n ** 63n) {
            n.isInt = true;
            n.int64 = asInt;
          }
          if (asInt >= 0n && asInt < 2n ** 64n) {
            n.isUint = true;
            n.uint64 = asInt;
          }
        }
      }
    }
    if (!n.isInt && !n.isUint && !n.isFloat) this.errorf(`illegal number syntax: ${quote(text)}`);
    n.ideal = idealConstant(n);
    return n;
  }
}

function isHexInt(s: string): boolean {
  return s.length > 2 && s[0] === '0' && (s[1] === 'x' || s[1] === 'X') && !/[pP]/.test(s);
}

/** The untyped value of a constant (Go's idealConstant): float if it looks like one, else int. */
function idealConstant(n: NumberNode): NumberNode['ideal'] {
  if (n.isFloat && !isHexInt(n.text) && /[.eEpP]/.test(n.text)) return n.float64;
  if (n.isInt) return new GoInt(n.int64);
  return { overflow: `${n.text} overflows int` };
}
