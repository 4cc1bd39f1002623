/**
 * The fake chat model (pure). Replies are deterministic and quote the conversation so tests can assert on them:
 * - last message from the user, and the request declares function tools with `tool_choice` other than "none": the
 *   model calls the tool named by `tool_choice` (else the first one) with arguments synthesised from its schema;
 * - otherwise it answers `This is a fake reply from <model>. You said: "<start of the last user message>"`;
 * - after a tool result it answers `The tool <name> returned: "<start of the result>"`;
 * - forced calls (header x-fake-tool-calls) replace all of the above.
 * `response_format` json_object / json_schema turn the reply into JSON; `n` gives n choices.
 */
import { completion, quote, textChoice, type Completion, type GeneratedChoice } from './completion.js';
import type { ChatMessage, ChatRequest, ChatTool, ForcedToolCall } from './requests.js';
import { sampleObject, sampleValue } from './schema-sample.js';
import { estimateTokens } from './tokens.js';

export interface ChatGenerationOptions {
  forcedToolCalls?: ForcedToolCall[] | undefined;
  /** Mints tool call ids (Mistral: 9 alphanumeric characters). */
  newToolCallId: () => string;
}

/** Text of a message's content: the string itself, or its text chunks joined. */
export function contentText(content: ChatMessage['content']): string {
  if (content == null) return '';
  if (typeof content === 'string') return content;
  return content.map((chunk) => (typeof chunk.text === 'string' ? chunk.text : '')).join('');
}

/** Prompt tokens: the estimate of each message's text (content plus tool call names and arguments), summed. */
export function promptTokens(messages: readonly ChatMessage[]): number {
  let total = 0;
  for (const message of messages) {
    let text = contentText(message.content);
    if (message.role === 'assistant') {
      for (const call of message.tool_calls ?? []) {
        const args = call.function.arguments;
        text += call.function.name + (typeof args === 'string' ? args : JSON.stringify(args));
      }
    }
    total += estimateTokens(text);
  }
  return total;
}

/** Role of the last message when Mistral would refuse to serve it (must be user, tool, or assistant with prefix). */
export function invalidLastRole(messages: readonly ChatMessage[]): string | undefined {
  const last = messages[messages.length - 1];
  if (!last || last.role === 'user' || last.role === 'tool') return undefined;
  if (last.role === 'assistant' && last.prefix === true) return undefined;
  return last.role;
}

function lastOfRole<R extends ChatMessage['role']>(messages: readonly ChatMessage[], role: R) {
  for (let i = messages.length - 1; i >= 0; i--) {
    const message = messages[i]!;
    if (message.role === role) return message as Extract<ChatMessage, { role: R }>;
  }
  return undefined;
}

function toolResultName(messages: readonly ChatMessage[], result: Extract<ChatMessage, { role: 'tool' }>): string | undefined {
  if (result.name) return result.name;
  for (const message of messages) {
    if (message.role !== 'assistant') continue;
    const call = message.tool_calls?.find((c) => c.id !== undefined && c.id === result.tool_call_id);
    if (call) return call.function.name;
  }
  return undefined;
}

function replySentence(request: ChatRequest): string {
  const { messages, model } = request;
  const last = messages[messages.length - 1]!;
  if (last.role === 'tool') {
    const name = toolResultName(messages, last);
    return `The tool${name ? ` ${name}` : ''} returned: "${quote(contentText(last.content))}"`;
  }
  const user = lastOfRole(messages, 'user');
  return `This is a fake reply from ${model}. You said: "${quote(user ? contentText(user.content) : '')}"`;
}

function replyText(request: ChatRequest, index: number, n: number): string {
  let sentence = replySentence(request);
  if (n > 1) sentence += ` (choice ${index + 1} of ${n})`;
  const last = request.messages[request.messages.length - 1]!;
  if (last.role === 'assistant') sentence = contentText(last.content) + sentence;
  const format = request.response_format;
  if (format?.type === 'json_schema' && format.json_schema) return JSON.stringify(sampleValue(format.json_schema.schema));
  if (format?.type === 'json_object') return JSON.stringify({ reply: sentence });
  return sentence;
}

type FunctionTool = ChatTool & { function: NonNullable<ChatTool['function']> };

/** The tool the model calls on its own, if any. */
function chosenTool(request: ChatRequest): FunctionTool | undefined {
  const tools = (request.tools ?? []).filter((t): t is FunctionTool => t.function !== undefined);
  const choice = request.tool_choice;
  const last = request.messages[request.messages.length - 1];
  if (tools.length === 0 || choice === 'none' || last?.role !== 'user') return undefined;
  if (typeof choice === 'object') return tools.find((t) => t.function.name === choice.function.name) ?? tools[0];
  return tools[0];
}

export function generateChat(request: ChatRequest, options: ChatGenerationOptions): Completion {
  const n = request.n ?? 1;
  const tool = chosenTool(request);
  const calls = options.forcedToolCalls
    ? options.forcedToolCalls.map((c) => ({ name: c.name, arguments: JSON.stringify(c.arguments) }))
    : tool
      ? [{ name: tool.function.name, arguments: JSON.stringify(sampleObject(tool.function.parameters)) }]
      : [];
  const choices: GeneratedChoice[] = [];
  for (let index = 0; index < n; index++) {
    choices.push(
      calls.length > 0
        ? {
            index,
            content: '',
            toolCalls: calls.map((c) => ({ id: options.newToolCallId(), ...c })),
            finishReason: 'tool_calls',
          }
        : textChoice(index, replyText(request, index, n), request.max_tokens, request.stop),
    );
  }
  return completion(choices, promptTokens(request.messages));
}
