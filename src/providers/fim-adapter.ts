/**
 * OpenAI's legacy `/v1/completions` served by Mistral's FIM API (`/v1/fim/completions`): the request is narrowed to
 * the fields FIM accepts, and answers (whole or streamed) are reshaped from chat-completion form into
 * `text_completion` form, so an unchanged OpenAI client reads `choices[].text`.
 */
import { badRequest } from '../http/errors.js';

/** The transformation a provider route needs between the OpenAI wire format and the provider's. */
export interface WireAdapter {
  request(body: Record<string, unknown>): Record<string, unknown>;
  /** A whole JSON response body. */
  response(body: Record<string, unknown>): Record<string, unknown>;
  /** One streamed chunk (the JSON of an SSE `data:` line). */
  chunk(body: Record<string, unknown>): Record<string, unknown>;
}

const FIM_FIELDS = ['model', 'prompt', 'suffix', 'max_tokens', 'min_tokens', 'temperature', 'top_p', 'stream', 'stop', 'random_seed'];

interface ChoiceIn {
  index?: number;
  message?: { content?: unknown };
  delta?: { content?: unknown };
  finish_reason?: unknown;
}

function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) return content.map((part) => (typeof part?.text === 'string' ? part.text : '')).join('');
  return '';
}

function reshape(body: Record<string, unknown>, pick: (c: ChoiceIn) => unknown): Record<string, unknown> {
  const choices = Array.isArray(body.choices) ? (body.choices as ChoiceIn[]) : [];
  return {
    id: body.id,
    object: 'text_completion',
    created: body.created,
    model: body.model,
    choices: choices.map((c, i) => ({ text: textOf(pick(c)), index: c.index ?? i, logprobs: null, finish_reason: c.finish_reason ?? null })),
    ...(body.usage !== undefined ? { usage: body.usage } : {}),
  };
}

export const openAiCompletionsViaMistralFim: WireAdapter = {
  request(body) {
    if (typeof body.prompt !== 'string') {
      throw badRequest('invalid_parameter', "Invalid parameter 'prompt': Mistral FIM completions take a single string prompt", 'prompt');
    }
    const out: Record<string, unknown> = {};
    for (const field of FIM_FIELDS) if (body[field] !== undefined && body[field] !== null) out[field] = body[field];
    if (typeof body.seed === 'number' && out.random_seed === undefined) out.random_seed = body.seed;
    return out;
  },
  response: (body) => reshape(body, (c) => c.message?.content),
  chunk: (body) => reshape(body, (c) => c.delta?.content),
};
