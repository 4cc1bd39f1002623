// Parse tree node types, mirroring Go's text/template/parse nodes.

import { quote } from './strconv.js';
import type { GoInt } from './values.js';

interface Base {
  /** Index of the node in the template text (for error locations). */
  pos: number;
  /** The tree (named template) the node belongs to, for error locations. */
  tree: Tree;
}

export interface Tree {
  name: string;
  /** Name of the top-level template being parsed when this tree was created. */
  parseName: string;
  text: string;
  root: ListNode;
}

export interface ListNode extends Base { kind: 'list'; nodes: Node[] }
export interface TextNode extends Base { kind: 'text'; text: string }
export interface CommentNode extends Base { kind: 'comment' }
export interface ActionNode extends Base { kind: 'action'; line: number; pipe: PipeNode }
export interface BreakNode extends Base { kind: 'break'; line: number }
export interface ContinueNode extends Base { kind: 'continue'; line: number }
export interface BranchNode extends Base {
  kind: 'if' | 'range' | 'with';
  line: number;
  pipe: PipeNode;
  list: ListNode;
  elseList: ListNode | null;
}
export interface TemplateNode extends Base { kind: 'template'; line: number; name: string; pipe: PipeNode | null }

export interface PipeNode extends Base {
  kind: 'pipe';
  line: number;
  isAssign: boolean;
  decl: VariableNode[];
  cmds: CommandNode[];
}
export interface CommandNode extends Base { kind: 'command'; args: Operand[] }

export interface FieldNode extends Base { kind: 'field'; ident: string[] }
export interface VariableNode extends Base { kind: 'variable'; ident: string[] }
export interface ChainNode extends Base { kind: 'chain'; node: Operand; field: string[] }
export interface IdentifierNode extends Base { kind: 'identifier'; ident: string }
export interface DotNode extends Base { kind: 'dot' }
export interface NilNode extends Base { kind: 'nil' }
export interface BoolNode extends Base { kind: 'bool'; value: boolean }
export interface StringNode extends Base { kind: 'string'; quoted: string; text: string }
export interface NumberNode extends Base {
  kind: 'number';
  text: string;
  isInt: boolean;
  isUint: boolean;
  isFloat: boolean;
  int64: bigint;
  uint64: bigint;
  float64: number;
  /** The value the constant has where no type is expected (Go's idealConstant), or an overflow error. */
  ideal: GoInt | number | { overflow: string };
}

export type Operand =
  | FieldNode | VariableNode | ChainNode | IdentifierNode | DotNode | NilNode | BoolNode | StringNode | NumberNode | PipeNode;

export type Node =
  | ListNode | TextNode | CommentNode | ActionNode | BreakNode | ContinueNode | BranchNode | TemplateNode;

/** The Go String() form of a node, used in error contexts like `at <.a.b>`. */
export function nodeString(n: Node | Operand | CommandNode): string {
  switch (n.kind) {
    case 'list': return n.nodes.map(nodeString).join('');
    case 'text': return n.text;
    case 'comment': return '{{/* */}}';
    case 'action': return '{{' + nodeString(n.pipe) + '}}';
    case 'break': return '{{break}}';
    case 'continue': return '{{continue}}';
    case 'if':
    case 'range':
    case 'with':
      return `{{${n.kind} ${nodeString(n.pipe)}}}${nodeString(n.list)}`
        + (n.elseList ? '{{else}}' + nodeString(n.elseList) : '') + '{{end}}';
    case 'template': return '{{template ' + quote(n.name) + (n.pipe ? ' ' + nodeString(n.pipe) : '') + '}}';
    case 'pipe': {
      const decl = n.decl.length ? n.decl.map(nodeString).join(', ') + ' := ' : '';
      return decl + n.cmds.map(nodeString).join(' | ');
    }
    case 'command': return n.args.map((a) => (a.kind === 'pipe' ? '(' + nodeString(a) + ')' : nodeString(a))).join(' ');
    case 'field': return n.ident.map((id) => '.' + id).join('');
    case 'variable': return n.ident.join('.');
    case 'chain':
      return (n.node.kind === 'pipe' ? '(' + nodeString(n.node) + ')' : nodeString(n.node)) + n.field.map((f) => '.' + f).join('');
    case 'identifier': return n.ident;
    case 'dot': return '.';
    case 'nil': return 'nil';
    case 'bool': return n.value ? 'true' : 'false';
    case 'string': return n.quoted;
    case 'number': return n.text;
  }
}
