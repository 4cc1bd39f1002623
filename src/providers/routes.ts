/**
 * Which policy action each provider route is, and what its body must contain. Routes are the OpenAI-compatible
 * `/v1/*` API; anything not listed is still governed, as `llm:<first path segment>`.
 */
import { z } from 'zod';

export interface RouteSpec {
  action: string;
  /** Schema of the JSON body for governed JSON routes; null for routes forwarded without reading the body. */
  body: z.ZodType<GovernedBody> | null;
  /** True when the response may be an event stream that carries usage and tool calls. */
  generative: boolean;
}

/**
 * The request fields governance reads. Everything else in the body passes through untouched and unvalidated:
 * the provider validates its own API.
 */
export type GovernedBody = Record<string, unknown> & { model?: string };

const model = z.string({ error: 'must be a string naming the model' }).min(1, 'must not be empty');
const optionalCount = z.int({ error: 'must be an integer' }).nonnegative('must be >= 0').nullish();
const stream = z.boolean({ error: 'must be true or false' }).nullish();

const chatBody = z.looseObject({
  model,
  messages: z.array(z.unknown(), { error: 'must be an array of messages' }).min(1, 'must contain at least one message'),
  max_tokens: optionalCount,
  max_completion_tokens: optionalCount,
  n: optionalCount,
  stream,
  tools: z.array(z.unknown(), { error: 'must be an array' }).nullish(),
});

const completionBody = z.looseObject({ model, max_tokens: optionalCount, stream, n: optionalCount });
const modelBody = z.looseObject({ model });
const optionalModelBody = z.looseObject({ model: model.optional() });

const ROUTES: Record<string, RouteSpec> = {
  'POST /chat/completions': { action: 'llm:chat.completions', body: chatBody, generative: true },
  'POST /completions': { action: 'llm:completions', body: completionBody, generative: true },
  'POST /fim/completions': { action: 'llm:completions', body: completionBody, generative: true },
  'POST /agents/completions': { action: 'llm:agents.completions', body: optionalModelBody, generative: true },
  'GET /models': { action: 'llm:models.list', body: null, generative: false },
  'POST /embeddings': { action: 'llm:embeddings', body: modelBody, generative: false },
  'POST /moderations': { action: 'llm:moderations', body: optionalModelBody, generative: false },
  'POST /chat/moderations': { action: 'llm:moderations', body: modelBody, generative: false },
  'POST /classifications': { action: 'llm:classifications', body: modelBody, generative: false },
  'POST /chat/classifications': { action: 'llm:classifications', body: modelBody, generative: false },
  'POST /ocr': { action: 'llm:ocr', body: modelBody, generative: false },
};

export interface ResolvedRoute {
  spec: RouteSpec;
  /** For `/models/{id}`: the model named in the path. */
  pathModel: string | undefined;
}

/** Resolves `method` + the path after `/v1` (e.g. "/chat/completions"). */
export function resolveRoute(method: string, subpath: string): ResolvedRoute {
  const exact = ROUTES[`${method} ${subpath}`];
  if (exact) return { spec: exact, pathModel: undefined };
  const segments = subpath.split('/').filter(Boolean);
  if (segments[0] === 'models' && segments.length === 2) {
    const action = method === 'DELETE' ? 'llm:models.delete' : 'llm:models.list';
    return { spec: { action, body: null, generative: false }, pathModel: decodeURIComponent(segments[1]!) };
  }
  const family = segments[0] ?? 'root';
  return { spec: { action: `llm:${family}`, body: null, generative: false }, pathModel: undefined };
}
