/**
 * The fake fill-in-the-middle model (pure): the completion is a code comment quoting the end of the prompt and the
 * start of the suffix, so tests can assert on it.
 */
import { completion, quote, textChoice, type Completion } from './completion.js';
import type { FimRequest } from './requests.js';
import { estimateTokens } from './tokens.js';

export function generateFim(request: FimRequest): Completion {
  const tail = quote(request.prompt.slice(-40), 40);
  const suffix = request.suffix ?? '';
  const before = suffix === '' ? '' : ` before "${quote(suffix, 40)}"`;
  const text = `/* fake ${request.model} completion after "${tail}"${before} */`;
  return completion(
    [textChoice(0, text, request.max_tokens, request.stop)],
    estimateTokens(request.prompt) + estimateTokens(suffix),
  );
}
