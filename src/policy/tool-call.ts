/**
 * The tool facts of a `tool:call` request, built one way for every caller (proxy, evaluate API, CLI): the name, the
 * arguments parsed from the JSON text the model produced, and whether that text is a JSON object at all
 * (`tool.args_invalid`; see docs/policies.md, "Tool calls").
 */
import type { EvalRequest } from './types.js';

export type ToolCallFacts = NonNullable<EvalRequest['tool']>;

/**
 * `{name, arguments, arguments_invalid}` from the raw argument text. Empty or whitespace-only text is `{}` (valid);
 * text that parses to a JSON object is valid; anything else is invalid: unparsable text (`arguments` is then the raw
 * string) or JSON that is not an object (an array, a string, a number, `null`: `arguments` is the parsed value).
 */
export function toolCallFacts(name: string, rawArguments: string): ToolCallFacts {
  const text = String(rawArguments);
  if (text.trim() === '') return { name, arguments: {}, arguments_invalid: false };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { name, arguments: text, arguments_invalid: true };
  }
  return { name, arguments: parsed, arguments_invalid: !isJsonObject(parsed) };
}

/**
 * Whether a request's tool arguments are invalid: its `arguments_invalid` when it is a boolean, else derived from
 * `arguments` for callers that pass only `{name, arguments}` (parsed JSON, or the raw string when it did not parse):
 * valid when an object, absent, or a blank string; invalid otherwise.
 */
export function toolArgumentsInvalid(tool: ToolCallFacts): boolean {
  if (typeof tool.arguments_invalid === 'boolean') return tool.arguments_invalid;
  const args = tool.arguments;
  if (args === undefined || isJsonObject(args)) return false;
  return !(typeof args === 'string' && args.trim() === '');
}

function isJsonObject(value: unknown): boolean {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
