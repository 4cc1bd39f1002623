/**
 * The fake's token estimate: one token per started group of 4 characters. Deterministic and documented so tests
 * and the gateway's usage accounting can predict every count the fake reports.
 */
export const CHARS_PER_TOKEN = 4;

export function estimateTokens(text: string): number {
  return Math.ceil(text.length / CHARS_PER_TOKEN);
}

/** The longest prefix of `text` whose estimate fits in `maxTokens`. */
export function truncateToTokens(text: string, maxTokens: number): string {
  return text.slice(0, maxTokens * CHARS_PER_TOKEN);
}
