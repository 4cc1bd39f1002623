/**
 * The SSE events of a streamed OpenAI Responses answer, derived from the complete response (pure), in the order the
 * API sends them and the SDK's ResponseStream accumulates them: `response.created` and `response.in_progress` (no
 * output yet), then per output item `response.output_item.added`, its content (text parts word by word, function
 * call arguments in about three pieces) and `response.output_item.done`, and last `response.completed` (or
 * `response.incomplete`) carrying the whole response with usage. Every event has a `sequence_number` from 0.
 */
import { splitEvenly, wordPieces } from '../fake-mistral/responses.js';
import type { FakeResponse } from './openai-responses.js';
import type { SseEvent } from './server.js';

const ARGUMENT_PIECES = 3;

export function responseEvents(response: FakeResponse): SseEvent[] {
  const events: SseEvent[] = [];
  const emit = (type: string, fields: Record<string, unknown>) => events.push({ event: type, data: { type, sequence_number: events.length, ...fields } });
  const pending = { ...response, status: 'in_progress', completed_at: null, incomplete_details: null, output: [], usage: null };
  emit('response.created', { response: pending });
  emit('response.in_progress', { response: pending });
  response.output.forEach((item, output_index) => {
    if (item.type === 'message') {
      emit('response.output_item.added', { output_index, item: { ...item, status: 'in_progress', content: [] } });
      item.content.forEach((part, content_index) => {
        const at = { item_id: item.id, output_index, content_index };
        emit('response.content_part.added', { ...at, part: { ...part, text: '' } });
        for (const delta of wordPieces(part.text)) emit('response.output_text.delta', { ...at, delta, logprobs: [] });
        emit('response.output_text.done', { ...at, text: part.text, logprobs: [] });
        emit('response.content_part.done', { ...at, part });
      });
    } else {
      emit('response.output_item.added', { output_index, item: { ...item, status: 'in_progress', arguments: '' } });
      for (const delta of splitEvenly(item.arguments, ARGUMENT_PIECES)) {
        emit('response.function_call_arguments.delta', { item_id: item.id, output_index, delta });
      }
      emit('response.function_call_arguments.done', { item_id: item.id, output_index, name: item.name, arguments: item.arguments });
    }
    emit('response.output_item.done', { output_index, item });
  });
  emit(response.status === 'incomplete' ? 'response.incomplete' : 'response.completed', { response });
  return events;
}
