/**
 * Wire shapes of a Conversations answer (pure), as the SDK's ConversationResponse and ConversationEvents read them:
 * the `conversation.response` body, and the events a streamed answer is made of (`conversation.response.started`;
 * per output, `message.output.delta` events word by word or `function.call.delta` events; then
 * `conversation.response.done` with the usage). A function call streams whole in one delta (style "mistral") or
 * with its arguments in about three deltas ("fragmented"), each delta repeating the call's id, name and
 * tool_call_id, as the SDK requires of every delta.
 */
import { contentText } from './chat.js';
import type { Usage } from './completion.js';
import type { ConversationEntry } from './conversations.js';
import { splitEvenly, wordPieces, type ToolCallStreamStyle } from './responses.js';

export interface ConversationEvent {
  type: string;
  [field: string]: unknown;
}

export function conversationResponseBody(conversationId: string, outputs: readonly ConversationEntry[], usage: Usage) {
  return { object: 'conversation.response', conversation_id: conversationId, outputs, usage };
}

const ARGUMENT_PIECES = 3;

function outputDeltas(entry: ConversationEntry, outputIndex: number, style: ToolCallStreamStyle): ConversationEvent[] {
  const common = { created_at: entry.created_at, output_index: outputIndex, id: entry.id };
  switch (entry.type) {
    case 'message.output': {
      return wordPieces(contentText(entry.content)).map((content) => ({
        type: 'message.output.delta',
        ...common,
        content_index: 0,
        model: entry.model,
        agent_id: entry.agent_id,
        role: 'assistant',
        content,
      }));
    }
    case 'function.call': {
      const args = typeof entry.arguments === 'string' ? entry.arguments : JSON.stringify(entry.arguments);
      const pieces = style === 'fragmented' ? splitEvenly(args, ARGUMENT_PIECES) : [args];
      return pieces.map((piece) => ({
        type: 'function.call.delta',
        ...common,
        model: entry.model,
        agent_id: entry.agent_id,
        name: entry.name,
        tool_call_id: entry.tool_call_id,
        arguments: piece,
      }));
    }
    default:
      return [];
  }
}

/** The events of a streamed answer, in order. */
export function conversationEvents(
  conversationId: string,
  outputs: readonly ConversationEntry[],
  usage: Usage,
  createdAt: string,
  style: ToolCallStreamStyle,
): ConversationEvent[] {
  return [
    { type: 'conversation.response.started', created_at: createdAt, conversation_id: conversationId },
    ...outputs.flatMap((entry, index) => outputDeltas(entry, index, style)),
    { type: 'conversation.response.done', created_at: createdAt, usage },
  ];
}
