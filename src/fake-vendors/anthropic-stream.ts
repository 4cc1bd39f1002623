/**
 * The SSE events of a streamed Anthropic message, derived from the complete message (pure), as published:
 * `message_start` (empty content, input usage), per block `content_block_start` / `content_block_delta` (text word by
 * word as `text_delta`; tool input JSON in about three `input_json_delta` pieces) / `content_block_stop`, a `ping`
 * after the first block starts, then `message_delta` (stop reason, output usage) and `message_stop`.
 */
import { splitEvenly, wordPieces } from '../fake-mistral/responses.js';
import type { FakeMessage } from './anthropic-messages.js';
import type { SseEvent } from './server.js';

const INPUT_JSON_PIECES = 3;

export function messageEvents(message: FakeMessage): SseEvent[] {
  const events: SseEvent[] = [];
  const emit = (type: string, fields: Record<string, unknown> = {}) => events.push({ event: type, data: { type, ...fields } });
  // Anthropic reports a token or so of output at the start; message_delta carries the final count.
  emit('message_start', { message: { ...message, content: [], stop_reason: null, usage: { ...message.usage, output_tokens: 1 } } });
  message.content.forEach((block, index) => {
    emit('content_block_start', { index, content_block: block.type === 'text' ? { ...block, text: '' } : { ...block, input: {} } });
    if (index === 0) emit('ping');
    if (block.type === 'text') {
      for (const text of wordPieces(block.text)) emit('content_block_delta', { index, delta: { type: 'text_delta', text } });
    } else {
      for (const partial_json of splitEvenly(JSON.stringify(block.input), INPUT_JSON_PIECES)) {
        emit('content_block_delta', { index, delta: { type: 'input_json_delta', partial_json } });
      }
    }
    emit('content_block_stop', { index });
  });
  const { input_tokens, cache_creation_input_tokens, cache_read_input_tokens, output_tokens } = message.usage;
  emit('message_delta', {
    delta: { stop_reason: message.stop_reason, stop_sequence: message.stop_sequence, stop_details: null, container: null },
    usage: { input_tokens, cache_creation_input_tokens, cache_read_input_tokens, output_tokens, output_tokens_details: null, server_tool_use: null },
  });
  emit('message_stop');
  return events;
}
