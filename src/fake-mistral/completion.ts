/**
 * What a fake generation produced, independent of the wire format: choices (text or tool calls) and usage. Also the
 * rules shared by chat and FIM for finishing a text choice (stop sequences, then `max_tokens`). Pure.
 */
import { estimateTokens, truncateToTokens } from './tokens.js';

export type FinishReason = 'stop' | 'length' | 'tool_calls';

export interface GeneratedToolCall {
  id: string;
  name: string;
  /** JSON text, as Mistral sends it. */
  arguments: string;
}

export interface GeneratedChoice {
  index: number;
  content: string;
  toolCalls: GeneratedToolCall[];
  finishReason: FinishReason;
}

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

export interface Completion {
  choices: GeneratedChoice[];
  usage: Usage;
}

/** Cuts `text` at the first stop sequence, then to `maxTokens` (finish reason "length" when that cut anything). */
export function textChoice(
  index: number,
  text: string,
  maxTokens: number | null | undefined,
  stop: string | string[] | null | undefined,
): GeneratedChoice {
  let content = text;
  for (const sequence of typeof stop === 'string' ? [stop] : (stop ?? [])) {
    const at = sequence === '' ? -1 : content.indexOf(sequence);
    if (at !== -1) content = content.slice(0, at);
  }
  let finishReason: FinishReason = 'stop';
  if (maxTokens != null && estimateTokens(content) > maxTokens) {
    content = truncateToTokens(content, maxTokens);
    finishReason = 'length';
  }
  return { index, content, toolCalls: [], finishReason };
}

export function completionTokens(choice: GeneratedChoice): number {
  if (choice.toolCalls.length === 0) return estimateTokens(choice.content);
  return choice.toolCalls.reduce((sum, call) => sum + estimateTokens(call.name + call.arguments), 0);
}

export function completion(choices: GeneratedChoice[], promptTokens: number): Completion {
  const generated = choices.reduce((sum, c) => sum + completionTokens(c), 0);
  return {
    choices,
    usage: { prompt_tokens: promptTokens, completion_tokens: generated, total_tokens: promptTokens + generated },
  };
}

/** The first `max` characters of `text` with whitespace collapsed, "..." marking a cut. */
export function quote(text: string, max = 60): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length <= max ? flat : `${flat.slice(0, max)}...`;
}
