/**
 * The fake Conversations model (pure). A conversation is its settings (model or agent, instructions, tools,
 * completion arguments) and its entries. A turn reads the history plus the new inputs as chat messages and lets the
 * fake chat model (chat.ts) answer them, so replies, tool calls (chosen, schema-synthesised or forced) and token counts
 * follow the chat rules exactly; the answer becomes `message.output` or `function.call` entries.
 *
 * Entries as chat messages: `message.input` is a user (or assistant, with `prefix`) message, `message.output` an
 * assistant message, consecutive `function.call` entries one assistant message with those tool calls, and
 * `function.result` a tool message answering its `tool_call_id`; `instructions` come first, as a system message.
 * `tool.execution` and `agent.handoff` entries are the server's own doing and read as nothing.
 */
import { generateChat, invalidLastRole } from './chat.js';
import type { GeneratedChoice, Usage } from './completion.js';
import type { CompletionArgs, ConversationInputs, InputEntry } from './conversation-requests.js';
import type { ChatMessage, ChatRequest, ChatTool, ForcedToolCall } from './requests.js';

/** An entry as the conversation keeps it: every entry has an id and a creation time. */
export type ConversationEntry = InputEntry & { object: 'entry'; id: string; created_at: string };

export interface ConversationSettings {
  /** The model that answers (the agent's model when the conversation is with an agent). */
  model: string;
  agentId: string | null;
  instructions: string | null;
  tools: ChatTool[] | null;
  completionArgs: CompletionArgs | null;
}

export interface Conversation extends ConversationSettings {
  id: string;
  entries: ConversationEntry[];
}

export interface TurnOptions {
  forcedToolCalls?: ForcedToolCall[] | undefined;
  /** Mints tool call ids (Mistral: 9 alphanumeric characters). */
  newToolCallId: () => string;
  /** Mints the unique part of entry ids. */
  newId: () => string;
  /** The turn's time, ISO 8601. */
  now: string;
}

export type TurnResult =
  | { ok: true; inputs: ConversationEntry[]; outputs: ConversationEntry[]; usage: Usage }
  /** The messages cannot be answered: the role of the last one (as chat's message-order error names it). */
  | { ok: false; lastRole: string };

const ENTRY_ID_PREFIX: Record<InputEntry['type'], string> = {
  'message.input': 'msg',
  'message.output': 'msg',
  'function.call': 'fc',
  'function.result': 'fr',
  'tool.execution': 'tool',
  'agent.handoff': 'handoff',
};

/** `inputs` as entries: a string is one user message. */
function inputEntries(inputs: ConversationInputs): InputEntry[] {
  return typeof inputs === 'string' ? [{ type: 'message.input', role: 'user', content: inputs }] : inputs;
}

function stamped(entry: InputEntry, options: TurnOptions): ConversationEntry {
  return { ...entry, object: 'entry', id: entry.id ?? `${ENTRY_ID_PREFIX[entry.type]}_${options.newId()}`, created_at: entry.created_at ?? options.now };
}

/** The history as chat messages (see the module comment). */
export function chatMessagesOf(entries: readonly InputEntry[], instructions: string | null): ChatMessage[] {
  const messages: ChatMessage[] = instructions ? [{ role: 'system', content: instructions }] : [];
  for (const entry of entries) {
    switch (entry.type) {
      case 'message.input':
        messages.push(entry.role === 'user' ? { role: 'user', content: entry.content } : { role: 'assistant', content: entry.content, prefix: entry.prefix ?? false });
        break;
      case 'message.output':
        messages.push({ role: 'assistant', content: entry.content });
        break;
      case 'function.call': {
        const call = { id: entry.tool_call_id, type: 'function', function: { name: entry.name, arguments: entry.arguments } };
        const last = messages[messages.length - 1];
        if (last?.role === 'assistant' && last.tool_calls) last.tool_calls.push(call);
        else messages.push({ role: 'assistant', content: '', tool_calls: [call] });
        break;
      }
      case 'function.result':
        messages.push({ role: 'tool', tool_call_id: entry.tool_call_id, content: entry.result });
        break;
    }
  }
  return messages;
}

/** The entries the model's answer becomes: one function.call entry per tool call, else one message.output entry. */
function outputEntries(choice: GeneratedChoice, settings: ConversationSettings, options: TurnOptions): ConversationEntry[] {
  const produced = { object: 'entry', created_at: options.now, completed_at: options.now, agent_id: settings.agentId, model: settings.model } as const;
  if (choice.toolCalls.length === 0) {
    return [{ ...produced, type: 'message.output', id: `msg_${options.newId()}`, role: 'assistant', content: choice.content }];
  }
  return choice.toolCalls.map((call) => ({
    ...produced,
    type: 'function.call',
    id: `fc_${options.newId()}`,
    tool_call_id: call.id,
    name: call.name,
    arguments: call.arguments,
  }));
}

/**
 * One turn: `inputs` after `history`, answered with `settings` and `args` (the turn's completion arguments).
 * Returns the new input entries (stamped with ids and times) and the outputs; the caller decides what to keep.
 */
export function runTurn(
  settings: ConversationSettings,
  history: readonly ConversationEntry[],
  inputs: ConversationInputs,
  args: CompletionArgs | null | undefined,
  options: TurnOptions,
): TurnResult {
  const newInputs = inputEntries(inputs).map((entry) => stamped(entry, options));
  const messages = chatMessagesOf([...history, ...newInputs], settings.instructions);
  const last = messages[messages.length - 1];
  if (!last) return { ok: false, lastRole: 'none' };
  const badRole = invalidLastRole(messages);
  if (badRole) return { ok: false, lastRole: badRole };
  const request: ChatRequest = {
    model: settings.model,
    messages,
    tools: settings.tools,
    tool_choice: args?.tool_choice,
    max_tokens: args?.max_tokens,
    stop: args?.stop,
    response_format: args?.response_format ?? undefined,
  };
  const result = generateChat(request, { forcedToolCalls: options.forcedToolCalls, newToolCallId: options.newToolCallId });
  return { ok: true, inputs: newInputs, outputs: outputEntries(result.choices[0]!, settings, options), usage: result.usage };
}
