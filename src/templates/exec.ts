// The template executor: a port of Go's text/template exec.go over the engine's value model.

import {
  type BranchNode, type ChainNode, type CommandNode, type FieldNode, type IdentifierNode, type ListNode,
  type Node, type Operand, type PipeNode, type TemplateNode, type Tree, type VariableNode, nodeString,
} from './ast.js';
import { TemplateExecError } from './errors.js';
import { formatValue } from './fmt.js';
import { GO_PARAM_NAMES, type GoFunc, type ParamType } from './funcs/types.js';
import { locate } from './parser.js';
import { quote } from './strconv.js';
import { GoInt, elemTypeName, goTypeName, isGoMap, isTrue, kindOf, mapGet, sortedKeys, type GoMap } from './values.js';

/** Marks "no value piped in from a previous command". */
const MISSING: unique symbol = Symbol('missing');
type Final = unknown;

/** Walk results: normal completion, or a {{break}} / {{continue}} travelling up to its range. */
const enum Flow { Normal, Break, Continue }

/** Go caps nested template calls at 100000; a JS stack runs out sooner, so the cap is lower. */
const MAX_EXEC_DEPTH = 1000;

interface Variable {
  name: string;
  value: unknown;
}

type ErrorNode = Node | Operand | CommandNode;

export type FuncLookup = (name: string) => GoFunc | undefined;

export class Executor {
  private out = '';
  private vars: Variable[] = [];
  private node: ErrorNode | null = null;
  private depth = 0;

  constructor(
    private readonly trees: ReadonlyMap<string, Tree>,
    private readonly funcs: FuncLookup,
    private tmplName: string,
  ) {}

  run(data: unknown): string {
    const tree = this.trees.get(this.tmplName);
    if (!tree) this.errorf(`${quote(this.tmplName)} is an incomplete or empty template`);
    const dot = data === null ? undefined : data;
    this.vars = [{ name: '$', value: dot }];
    this.walk(dot, tree.root);
    return this.out;
  }

  // ---------------------------------------------------------------- errors

  private errorf(message: string): never {
    const n = this.node;
    if (n === null) throw new TemplateExecError(this.tmplName, `template: ${this.tmplName}: ${message}`);
    const { line, col } = locate(n.tree.text, n.pos);
    throw new TemplateExecError(
      this.tmplName,
      `template: ${n.tree.parseName}:${line}:${col}: executing ${quote(this.tmplName)} at <${nodeString(n)}>: ${message}`,
      line,
      col,
    );
  }

  // ---------------------------------------------------------------- variables

  private setVar(name: string, value: unknown): void {
    for (let i = this.vars.length - 1; i >= 0; i--) {
      if (this.vars[i]!.name === name) {
        this.vars[i]!.value = value;
        return;
      }
    }
    this.errorf(`undefined variable: ${name}`);
  }

  private setTopVar(n: number, value: unknown): void {
    this.vars[this.vars.length - n]!.value = value;
  }

  private varValue(name: string): unknown {
    for (let i = this.vars.length - 1; i >= 0; i--) {
      if (this.vars[i]!.name === name) return this.vars[i]!.value;
    }
    this.errorf(`undefined variable: ${name}`);
  }

  // ---------------------------------------------------------------- walking

  private walk(dot: unknown, node: Node): Flow {
    this.node = node;
    switch (node.kind) {
      case 'action': {
        const val = this.evalPipeline(dot, node.pipe);
        if (node.pipe.decl.length === 0) this.printValue(node, val);
        return Flow.Normal;
      }
      case 'break': return Flow.Break;
      case 'continue': return Flow.Continue;
      case 'comment': return Flow.Normal;
      case 'if':
      case 'with': return this.walkIfOrWith(dot, node);
      case 'list': return this.walkList(dot, node);
      case 'range': return this.walkRange(dot, node);
      case 'template': return this.walkTemplate(dot, node);
      case 'text':
        this.out += node.text;
        return Flow.Normal;
    }
  }

  private walkList(dot: unknown, list: ListNode): Flow {
    for (const n of list.nodes) {
      const flow = this.walk(dot, n);
      if (flow !== Flow.Normal) return flow;
    }
    return Flow.Normal;
  }

  private walkIfOrWith(dot: unknown, node: BranchNode): Flow {
    const mark = this.vars.length;
    try {
      const val = this.evalPipeline(dot, node.pipe);
      if (isTrue(val)) return this.walkList(node.kind === 'with' ? val : dot, node.list);
      if (node.elseList) return this.walkList(dot, node.elseList);
      return Flow.Normal;
    } finally {
      this.vars.length = mark;
    }
  }

  private walkRange(dot: unknown, r: BranchNode): Flow {
    this.node = r;
    const outer = this.vars.length;
    try {
      const val = this.evalPipeline(dot, r.pipe);
      const mark = this.vars.length;
      const decl = r.pipe.decl;
      const oneIteration = (index: unknown, elem: unknown): Flow => {
        if (decl.length > 0) {
          if (r.pipe.isAssign) this.setVar(decl[0]!.ident[0]!, decl.length > 1 ? index : elem);
          else this.setTopVar(1, elem);
        }
        if (decl.length > 1) {
          if (r.pipe.isAssign) this.setVar(decl[1]!.ident[0]!, elem);
          else this.setTopVar(2, index);
        }
        const flow = this.walkList(elem, r.list);
        this.vars.length = mark;
        return flow;
      };
      let iterated = false;
      switch (kindOf(val)) {
        case 'slice': {
          const list = val as unknown[];
          for (let i = 0; i < list.length; i++) {
            iterated = true;
            if (oneIteration(new GoInt(BigInt(i)), list[i]) === Flow.Break) break;
          }
          break;
        }
        case 'map': {
          for (const key of sortedKeys(val as GoMap)) {
            iterated = true;
            if (oneIteration(key, mapGet(val as GoMap, key)) === Flow.Break) break;
          }
          break;
        }
        case 'int':
        case 'uint': {
          // Go 1.24+: ranging over an integer n yields 0..n-1 (a single variable only).
          const n = val instanceof GoInt ? val : new GoInt(val as bigint);
          if (decl.length > 1) this.errorf(`can't use ${formatValue(n)} to iterate over more than one variable`);
          for (let i = 0n; i < n.value; i++) {
            iterated = true;
            if (oneIteration(undefined, new GoInt(i, n.kind)) === Flow.Break) break;
          }
          break;
        }
        case 'invalid':
          break;
        default:
          this.errorf(`range can't iterate over ${formatValue(val)}`);
      }
      if (!iterated && r.elseList) return this.walkList(dot, r.elseList);
      return Flow.Normal;
    } finally {
      this.vars.length = outer;
    }
  }

  private walkTemplate(dot: unknown, t: TemplateNode): Flow {
    this.node = t;
    const tree = this.trees.get(t.name);
    if (!tree) this.errorf(`template ${quote(t.name)} not defined`);
    if (this.depth >= MAX_EXEC_DEPTH) this.errorf(`exceeded maximum template depth (${MAX_EXEC_DEPTH})`);
    const newDot = this.evalPipeline(dot, t.pipe);
    const savedVars = this.vars;
    const savedName = this.tmplName;
    this.vars = [{ name: '$', value: newDot }];
    this.tmplName = t.name;
    this.depth++;
    try {
      this.walkList(newDot, tree.root);
    } finally {
      this.depth--;
      this.vars = savedVars;
      this.tmplName = savedName;
    }
    return Flow.Normal;
  }

  private printValue(node: Node, v: unknown): void {
    this.node = node;
    if (v === undefined) {
      this.out += '<no value>';
      return;
    }
    if (typeof v === 'function') this.errorf(`can't print ${nodeString(node)} of type ${goTypeName(v)}`);
    this.out += typeof v === 'string' ? v : formatValue(v);
  }

  // ---------------------------------------------------------------- evaluation

  /** Evaluates a pipeline; declared variables are pushed (callers pop them). A nil interface result becomes "no value". */
  private evalPipeline(dot: unknown, pipe: PipeNode | null): unknown {
    if (pipe === null) return undefined;
    this.node = pipe;
    let value: unknown = MISSING;
    for (const cmd of pipe.cmds) {
      value = this.evalCommand(dot, cmd, value);
      if (value === null) value = undefined;
    }
    for (const v of pipe.decl) {
      if (pipe.isAssign) this.setVar(v.ident[0]!, value);
      else this.vars.push({ name: v.ident[0]!, value });
    }
    return value;
  }

  private notAFunction(args: readonly Operand[], final: Final): void {
    if (args.length > 1 || final !== MISSING) this.errorf(`can't give argument to non-function ${nodeString(args[0]!)}`);
  }

  private evalCommand(dot: unknown, cmd: CommandNode, final: Final): unknown {
    const first = cmd.args[0]!;
    switch (first.kind) {
      case 'field': return this.evalFieldNode(dot, first, cmd.args, final);
      case 'chain': return this.evalChainNode(dot, first, cmd.args, final);
      case 'identifier': return this.evalFunction(dot, first, cmd, cmd.args, final);
      case 'pipe':
        this.notAFunction(cmd.args, final);
        return this.evalPipeline(dot, first);
      case 'variable': return this.evalVariableNode(first, cmd.args, final);
    }
    this.node = first;
    this.notAFunction(cmd.args, final);
    switch (first.kind) {
      case 'bool': return first.value;
      case 'dot': return dot;
      case 'nil': return this.errorf('nil is not a command');
      case 'number': return this.idealConstant(first);
      case 'string': return first.text;
    }
  }

  private idealConstant(n: Extract<Operand, { kind: 'number' }>): unknown {
    this.node = n;
    if (typeof n.ideal === 'object' && !(n.ideal instanceof GoInt)) this.errorf(n.ideal.overflow);
    return n.ideal;
  }

  private evalFieldNode(dot: unknown, field: FieldNode, args: readonly Operand[] | null, final: Final): unknown {
    this.node = field;
    return this.evalFieldChain(dot, field, field.ident, args, final);
  }

  private evalChainNode(dot: unknown, chain: ChainNode, args: readonly Operand[] | null, final: Final): unknown {
    this.node = chain;
    const receiver = this.evalArg(dot, null, chain.node);
    return this.evalFieldChain(receiver, chain, chain.field, args, final);
  }

  private evalVariableNode(v: VariableNode, args: readonly Operand[] | null, final: Final): unknown {
    this.node = v;
    const value = this.varValue(v.ident[0]!);
    if (v.ident.length === 1) {
      this.notAFunction(args ?? [v], final);
      return value;
    }
    return this.evalFieldChain(value, v, v.ident.slice(1), args, final);
  }

  private evalFieldChain(
    receiver: unknown, node: ErrorNode, ident: readonly string[], args: readonly Operand[] | null, final: Final,
  ): unknown {
    // Go reports a receiver's static type: a value read from a map has the map's element type.
    let staticType: string | null = null;
    const n = ident.length;
    for (let i = 0; i < n - 1; i++) {
      const from = receiver;
      receiver = this.evalField(ident[i]!, node, null, MISSING, receiver, staticType);
      staticType = elemTypeName(goTypeName(from));
    }
    return this.evalField(ident[n - 1]!, node, args, final, receiver, staticType);
  }

  /** `.Field` on a receiver: only map keys exist in this value model (no methods, no structs). */
  private evalField(
    fieldName: string, node: ErrorNode, args: readonly Operand[] | null, final: Final, receiver: unknown, staticType: string | null,
  ): unknown {
    if (receiver === undefined) return undefined;
    this.node = node;
    const typ = staticType ?? (receiver === null ? 'interface {}' : goTypeName(receiver));
    if (receiver === null) this.errorf(`nil pointer evaluating ${typ}.${fieldName}`);
    const hasArgs = (args !== null && args.length > 1) || final !== MISSING;
    if (isGoMap(receiver)) {
      if (hasArgs) this.errorf(`${fieldName} is not a method but has arguments`);
      return mapGet(receiver, fieldName);
    }
    this.errorf(`can't evaluate field ${fieldName} in type ${typ}`);
  }

  private evalFunction(dot: unknown, node: IdentifierNode, cmd: ErrorNode, args: readonly Operand[] | null, final: Final): unknown {
    this.node = node;
    const fn = this.funcs(node.ident);
    if (!fn) this.errorf(`${quote(node.ident)} is not a defined function`);
    return this.evalCall(dot, fn, cmd, node.ident, args, final);
  }

  private evalCall(dot: unknown, fn: GoFunc, node: ErrorNode, name: string, args: readonly Operand[] | null, final: Final): unknown {
    const argNodes = args === null ? [] : args.slice(1);
    const numIn = argNodes.length + (final !== MISSING ? 1 : 0);
    let numFixed = argNodes.length;
    if (fn.variadic !== null) {
      numFixed = fn.params.length;
      if (numIn < numFixed) this.errorf(`wrong number of args for ${name}: want at least ${numFixed} got ${argNodes.length}`);
    } else if (numIn !== fn.params.length) {
      this.errorf(`wrong number of args for ${name}: want ${fn.params.length} got ${numIn}`);
    }

    if (fn.shortCircuit) {
      let v: unknown;
      for (const arg of argNodes) {
        v = this.evalArg(dot, 'value', arg);
        if (isTrue(v) === (fn.shortCircuit === 'or')) return v;
      }
      if (final !== MISSING) v = final;
      return v;
    }

    const argv: unknown[] = [];
    let i = 0;
    for (; i < numFixed && i < argNodes.length; i++) argv.push(this.evalArg(dot, fn.params[i]!, argNodes[i]!));
    if (fn.variadic !== null) for (; i < argNodes.length; i++) argv.push(this.evalArg(dot, fn.variadic, argNodes[i]!));
    if (final !== MISSING) {
      let t: ParamType;
      if (fn.variadic === null) t = fn.params[fn.params.length - 1]!;
      else t = numIn - 1 < numFixed ? fn.params[numIn - 1]! : fn.variadic;
      argv.push(this.validateType(final, t));
    }
    try {
      return (fn.impl as (...a: unknown[]) => unknown)(...argv);
    } catch (err) {
      if (err instanceof TemplateExecError) throw err;
      this.node = node;
      this.errorf(`error calling ${name}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  /** Checks a computed value against a parameter type and converts it for the implementation. */
  private validateType(value: unknown, typ: ParamType | null): unknown {
    if (value === undefined) {
      if (typ === null || typ === 'value') return undefined;
      if (typ === 'any' || typ === 'map') return null;
      this.errorf(`invalid value; expected ${GO_PARAM_NAMES[typ]}`);
    }
    switch (typ) {
      case null:
      case 'value':
      case 'any':
        return value;
      case 'string':
        if (typeof value === 'string') return value;
        break;
      case 'int':
        if (value instanceof GoInt && value.kind === 'int') return Number(value.value);
        if (typeof value === 'bigint') return Number(value);
        break;
      case 'float64':
        if (typeof value === 'number') return value;
        break;
      case 'bool':
        if (typeof value === 'boolean') return value;
        break;
      case 'map':
        if (isGoMap(value) && goTypeName(value) === GO_PARAM_NAMES.map) return value;
        break;
    }
    this.errorf(`wrong type for value; expected ${GO_PARAM_NAMES[typ]}; got ${value === null ? 'interface {}' : goTypeName(value)}`);
  }

  private evalArg(dot: unknown, typ: ParamType | null, n: Operand): unknown {
    this.node = n;
    switch (n.kind) {
      case 'dot': return this.validateType(dot, typ);
      case 'nil':
        if (typ === 'value') return undefined;
        if (typ === 'any' || typ === 'map') return null;
        return this.errorf(`cannot assign nil to ${typ === null ? 'nil' : GO_PARAM_NAMES[typ]}`);
      case 'field': return this.validateType(this.evalFieldNode(dot, n, [n], MISSING), typ);
      case 'variable': return this.validateType(this.evalVariableNode(n, null, MISSING), typ);
      case 'pipe': return this.validateType(this.evalPipeline(dot, n), typ);
      case 'identifier': return this.validateType(this.evalFunction(dot, n, n, null, MISSING), typ);
      case 'chain': return this.validateType(this.evalChainNode(dot, n, null, MISSING), typ);
    }
    switch (typ) {
      case 'bool':
        if (n.kind === 'bool') return n.value;
        return this.errorf(`expected bool; found ${nodeString(n)}`);
      case 'float64':
        if (n.kind === 'number' && n.isFloat) return n.float64;
        return this.errorf(`expected float; found ${nodeString(n)}`);
      case 'int':
        if (n.kind === 'number' && n.isInt) return Number(n.int64);
        return this.errorf(`expected integer; found ${nodeString(n)}`);
      case 'string':
        if (n.kind === 'string') return n.text;
        return this.errorf(`expected string; found ${nodeString(n)}`);
      case 'any':
      case 'value':
      case null:
        if (n.kind === 'bool') return n.value;
        if (n.kind === 'number') return this.idealConstant(n);
        return n.text;
      case 'map':
        return this.errorf(`can't handle ${nodeString(n)} for arg of type ${GO_PARAM_NAMES.map}`);
    }
  }
}
