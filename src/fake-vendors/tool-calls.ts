/**
 * The tool calls of the fake vendors' models, shared by the OpenAI Responses and Anthropic Messages fakes. Same rules
 * as the fake Mistral: the model calls the chosen tool (else the first one) with arguments synthesised from its
 * schema, and the `x-fake-tool-calls` header forces exact calls. Pure.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { quote } from '../fake-mistral/completion.js';
import { parseForcedToolCalls, type ForcedToolCall } from '../fake-mistral/requests.js';
import { sampleObject } from '../fake-mistral/schema-sample.js';
import { TOOL_CALLS_HEADER } from '../fake-mistral/server.js';

export { TOOL_CALLS_HEADER, type ForcedToolCall };

/** A tool call the fake model makes, with its arguments as an object. */
export interface FakeToolCall {
  name: string;
  arguments: Record<string, unknown>;
}

export interface FakeFunctionTool {
  name: string;
  /** JSON schema of the arguments. */
  parameters: unknown;
}

/** The calls forced by the `x-fake-tool-calls` header (undefined without it); throws an Error naming the fault. */
export function forcedToolCalls(headers: IncomingHttpHeaders): FakeToolCall[] | undefined {
  const header = headers[TOOL_CALLS_HEADER];
  if (header === undefined) return undefined;
  return parseForcedToolCalls(Array.isArray(header) ? header.join(',') : header);
}

/** The forced calls when given; otherwise, when the model calls a tool at all, one call of `tool`. */
export function plannedToolCalls(forced: FakeToolCall[] | undefined, tool: FakeFunctionTool | undefined): FakeToolCall[] {
  if (forced) return forced;
  return tool ? [{ name: tool.name, arguments: sampleObject(tool.parameters) }] : [];
}

/** The text answer after a tool result, as the fake Mistral gives it. */
export function toolResultReply(name: string | undefined, result: string): string {
  return `The tool${name ? ` ${name}` : ''} returned: "${quote(result)}"`;
}

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** `prefix` followed by `length` random alphanumeric characters (the vendors' id style, e.g. `toolu_01…`). */
export function randomId(prefix: string, length: number): string {
  let id = prefix;
  for (const byte of randomBytes(length)) id += ALPHANUMERIC[byte % ALPHANUMERIC.length];
  return id;
}
