/**
 * Wire shapes of a completion (pure): the `chat.completion` body Mistral returns for chat and FIM, and the
 * `chat.completion.chunk` sequence it streams. Mistral streams the role first, content word by word, the finish
 * reason on the chunk carrying the last piece, usage on the final chunk, and each tool call complete in a single
 * delta. The "fragmented" style streams tool calls the OpenAI way instead (id and name with empty arguments, then
 * argument pieces under the same index, then an empty delta with the finish reason).
 */
import type { Completion, FinishReason, GeneratedChoice, GeneratedToolCall, Usage } from './completion.js';

export interface ResponseMeta {
  id: string;
  created: number;
  model: string;
}

export type ToolCallStreamStyle = 'mistral' | 'fragmented';

const toolCallJson = (call: GeneratedToolCall, index: number) => ({
  id: call.id,
  type: 'function',
  function: { name: call.name, arguments: call.arguments },
  index,
});

export function completionBody(meta: ResponseMeta, result: Completion) {
  return {
    id: meta.id,
    object: 'chat.completion',
    model: meta.model,
    usage: result.usage,
    created: meta.created,
    choices: result.choices.map((choice) => ({
      index: choice.index,
      message: {
        role: 'assistant',
        tool_calls: choice.toolCalls.length > 0 ? choice.toolCalls.map(toolCallJson) : null,
        content: choice.content,
      },
      finish_reason: choice.finishReason,
    })),
  };
}

type Delta = Record<string, unknown>;

/** Words with their trailing whitespace, so the pieces concatenate back to the text. */
export function wordPieces(text: string): string[] {
  return text.match(/\s*\S+\s*/g) ?? [text];
}

/** `text` cut into `count` pieces of nearly equal length (fewer when the text is shorter). */
export function splitEvenly(text: string, count: number): string[] {
  const size = Math.max(1, Math.ceil(text.length / count));
  const pieces: string[] = [];
  for (let at = 0; at < text.length; at += size) pieces.push(text.slice(at, at + size));
  return pieces.length > 0 ? pieces : [''];
}

const ARGUMENT_PIECES = 3;

function choiceDeltas(choice: GeneratedChoice, style: ToolCallStreamStyle): Array<[Delta, FinishReason | null]> {
  const deltas: Array<[Delta, FinishReason | null]> = [[{ role: 'assistant', content: '' }, null]];
  if (choice.toolCalls.length === 0) {
    const pieces = wordPieces(choice.content);
    pieces.forEach((piece, i) => deltas.push([{ content: piece }, i === pieces.length - 1 ? choice.finishReason : null]));
  } else if (style === 'mistral') {
    deltas.push([{ tool_calls: choice.toolCalls.map(toolCallJson) }, choice.finishReason]);
  } else {
    choice.toolCalls.forEach((call, index) => {
      deltas.push([{ tool_calls: [{ index, id: call.id, type: 'function', function: { name: call.name, arguments: '' } }] }, null]);
      for (const piece of splitEvenly(call.arguments, ARGUMENT_PIECES)) {
        deltas.push([{ tool_calls: [{ index, function: { arguments: piece } }] }, null]);
      }
    });
    deltas.push([{}, choice.finishReason]);
  }
  return deltas;
}

/** The chunk objects of a streamed completion, in order; choices are streamed one after the other. */
export function completionChunks(meta: ResponseMeta, result: Completion, style: ToolCallStreamStyle): object[] {
  const chunks: Array<Record<string, unknown>> = [];
  for (const choice of result.choices) {
    for (const [delta, finishReason] of choiceDeltas(choice, style)) {
      chunks.push({
        id: meta.id,
        object: 'chat.completion.chunk',
        created: meta.created,
        model: meta.model,
        choices: [{ index: choice.index, delta, finish_reason: finishReason }],
      });
    }
  }
  const usage: Usage = result.usage;
  chunks[chunks.length - 1]!.usage = usage;
  return chunks;
}
