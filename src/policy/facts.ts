/**
 * The request facts a condition can test, by name. A fact reads as a single value, as an array of values
 * (declared tools, tool arguments), or as undefined when the request does not have it.
 */
import type { EvalContext } from './eval-context.js';

/** 'any' facts (tool arguments) take whatever JSON type the request carries. */
export type FactType = 'number' | 'string' | 'boolean' | 'any';

export interface Fact {
  /** The name as written in condition keys, e.g. "max_tokens", "key.team", "tool.args.to". */
  name: string;
  type: FactType;
  /** Relative cost of reading and testing it, so a rule tests its cheap conditions first. */
  cost: number;
  /** Never echo the value in decision reasons (the prompt). */
  sensitive: boolean;
  read(ctx: EvalContext): unknown;
  /**
   * Tool-name facts (tool.name, tools): the value case-folded (see foldCase), cached by the context, for the pattern
   * match of a policy that compares tool names case-insensitively (its patterns are folded at compile time).
   */
  readFolded?: (ctx: EvalContext) => unknown;
  /** tool.args.<path>: reads as missing when the arguments are invalid; deny rules then hold (fail closed). */
  toolArgument?: true;
}

type FactDefinition = Omit<Fact, 'name'>;

const def = (type: FactType, cost: number, read: Fact['read'], sensitive = false): FactDefinition => ({
  type,
  cost,
  read,
  sensitive,
});

const toolNameDef = (cost: number, read: Fact['read'], readFolded: NonNullable<Fact['readFolded']>): FactDefinition => ({
  ...def('string', cost, read),
  readFolded,
});

const STATIC_FACTS: Record<string, FactDefinition> = {
  max_tokens: def('number', 1, (c) => c.maxTokens()),
  temperature: def('number', 1, (c) => c.bodyNumber('temperature')),
  top_p: def('number', 1, (c) => c.bodyNumber('top_p')),
  n: def('number', 1, (c) => c.bodyNumber('n')),
  message_count: def('number', 1, (c) => c.messageCount()),
  prompt_chars: def('number', 4, (c) => c.prompt()?.chars),
  tool_count: def('number', 2, (c) => c.toolNames()?.length),
  model: def('string', 1, (c) => c.bodyString('model')),
  provider: def('string', 1, (c) => stringOrUndefined(c.request.provider)),
  agent_id: def('string', 1, (c) => stringOrUndefined(c.request.agent_id)),
  'key.id': def('string', 1, (c) => stringOrUndefined(c.request.key?.id)),
  'tool.name': toolNameDef(1, (c) => stringOrUndefined(c.request.tool?.name), (c) => c.foldedToolName()),
  tools: toolNameDef(2, (c) => c.toolNames(), (c) => c.foldedToolNames()),
  prompt: def('string', 5, (c) => c.prompt()?.text, true),
  stream: def('boolean', 1, (c) => c.stream()),
  tools_present: def('boolean', 2, (c) => {
    const names = c.toolNames();
    return names && names.length > 0;
  }),
  'tool.args_invalid': def('boolean', 1, (c) => c.toolArgsInvalid()),
};

export const NUMBER_FACTS = factNames('number');
export const STRING_FACTS = factNames('string');
export const BOOLEAN_FACTS = factNames('boolean');

export const KEY_ATTRIBUTE_PREFIX = 'key.';
export const TOOL_ARGS_PREFIX = 'tool.args.';

function factNames(type: FactType): string[] {
  return Object.entries(STATIC_FACTS)
    .filter(([, f]) => f.type === type)
    .map(([name]) => name);
}

function stringOrUndefined(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** The fact named `name`, including the families key.<attribute> and tool.args.<dot.path>; undefined if none. */
export function resolveFact(name: string): Fact | undefined {
  const known = Object.hasOwn(STATIC_FACTS, name) ? STATIC_FACTS[name] : undefined;
  if (known) return { name, ...known };
  if (name.startsWith(TOOL_ARGS_PREFIX)) {
    const path = name.slice(TOOL_ARGS_PREFIX.length).split('.');
    if (path.some((segment) => segment === '')) return undefined;
    return { name, type: 'any', cost: 2, sensitive: false, toolArgument: true, read: (c) => c.toolArgument(path, name) };
  }
  if (name.startsWith(KEY_ATTRIBUTE_PREFIX) && name.length > KEY_ATTRIBUTE_PREFIX.length) {
    const attribute = name.slice(KEY_ATTRIBUTE_PREFIX.length);
    return {
      name,
      type: 'string',
      cost: 1,
      sensitive: false,
      read: (c) => {
        const attributes = c.request.key?.attributes;
        return attributes && Object.hasOwn(attributes, attribute) ? stringOrUndefined(attributes[attribute]) : undefined;
      },
    };
  }
  return undefined;
}
