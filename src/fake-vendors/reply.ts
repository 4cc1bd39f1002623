/**
 * What the fake vendors "generate": a deterministic answer derived from the prompt, truncated to the token limit,
 * with token counts from the fake Mistral's documented estimate (one token per started 4 characters). Pure.
 */
import { estimateTokens, truncateToTokens } from '../fake-mistral/tokens.js';

export interface FakeReply {
  text: string;
  promptTokens: number;
  completionTokens: number;
  /** True when the answer was cut at the token limit. */
  truncated: boolean;
}

export function fakeReply(prompt: string, maxTokens: number | undefined, variant = 0): FakeReply {
  return limitedReply(`Answer ${variant + 1} to: ${prompt}`, prompt, maxTokens);
}

/** `answer` as the reply to `prompt`, truncated to `maxTokens`. */
export function limitedReply(answer: string, prompt: string, maxTokens: number | undefined): FakeReply {
  const text = maxTokens === undefined ? answer : truncateToTokens(answer, maxTokens);
  return { text, promptTokens: estimateTokens(prompt), completionTokens: estimateTokens(text), truncated: text !== answer };
}
