/**
 * Which policy action each provider route is, what its body must contain, and how its API is read. Routes match
 * the canonical path (src/http/canonical-path.ts) exactly and case-sensitively, as providers do; a path that matches
 * a known route only in another casing is refused, naming the route. Anything not listed is still governed, as
 * `llm:<first path segment>`, on the model of its JSON body when it has one.
 */
import { z } from 'zod';
import type { StreamErrorFormat } from '../http/errors.js';
import {
  anthropicMessagesRequest,
  mistralConversationsRequest,
  openaiCompatibleRequest,
  openaiResponsesRequest,
  type RequestTranslator,
} from '../translators/requests.js';

export interface RouteSpec {
  action: string;
  /** Schema of the JSON body for governed JSON routes; null for routes whose body is read only when it is JSON. */
  body: z.ZodType<GovernedBody> | null;
  translator: RequestTranslator;
  /** The route's own in-band stream error event, when its API has one (else the provider's). */
  streamErrors?: StreamErrorFormat;
}

/**
 * The request fields governance reads. Everything else in the body passes through untouched and unvalidated:
 * the provider validates its own API.
 */
export type GovernedBody = Record<string, unknown> & { model?: string };

const model = z.string({ error: 'must be a string naming the model' }).min(1, 'must not be empty');
const optionalCount = z.int({ error: 'must be an integer' }).nonnegative('must be >= 0').nullish();
const stream = z.boolean({ error: 'must be true or false' }).nullish();
const tools = z.array(z.unknown(), { error: 'must be an array' }).nullish();

const chatBody = z.looseObject({
  model,
  messages: z.array(z.unknown(), { error: 'must be an array of messages' }).min(1, 'must contain at least one message'),
  max_tokens: optionalCount,
  max_completion_tokens: optionalCount,
  n: optionalCount,
  stream,
  tools,
});

const completionBody = z.looseObject({ model, max_tokens: optionalCount, stream, n: optionalCount });
const modelBody = z.looseObject({ model });
const optionalModelBody = z.looseObject({ model: model.optional() });
const responsesBody = z.looseObject({ model, max_output_tokens: optionalCount, stream, tools });
const messagesBody = z.looseObject({
  model,
  messages: z.array(z.unknown(), { error: 'must be an array of messages' }).min(1, 'must contain at least one message'),
  max_tokens: z.int({ error: 'must be an integer' }).positive('must be >= 1'),
  stream,
  tools,
});
const countTokensBody = z.looseObject({ model, messages: z.array(z.unknown(), { error: 'must be an array of messages' }) });
const agentId = z.string({ error: 'must be a string naming the agent' }).min(1, 'must not be empty');
const agentsBody = z.looseObject({
  agent_id: agentId,
  messages: z.array(z.unknown(), { error: 'must be an array of messages' }).min(1, 'must contain at least one message'),
  max_tokens: optionalCount,
  stream,
  tools,
});
const conversationBody = z.looseObject({ model: model.optional(), agent_id: agentId.optional(), stream, tools });

const openai = openaiCompatibleRequest;
const route = (action: string, body: RouteSpec['body'], translator: RequestTranslator = openai, streamErrors?: StreamErrorFormat): RouteSpec => ({
  action,
  body,
  translator,
  ...(streamErrors ? { streamErrors } : {}),
});

const ROUTES: Record<string, RouteSpec> = {
  'POST /chat/completions': route('llm:chat.completions', chatBody),
  'POST /completions': route('llm:completions', completionBody),
  'POST /fim/completions': route('llm:completions', completionBody),
  'POST /agents/completions': route('llm:agents.completions', agentsBody),
  'GET /models': route('llm:models.list', null),
  'POST /embeddings': route('llm:embeddings', modelBody),
  'POST /moderations': route('llm:moderations', optionalModelBody),
  'POST /chat/moderations': route('llm:moderations', modelBody),
  'POST /classifications': route('llm:classifications', modelBody),
  'POST /chat/classifications': route('llm:classifications', modelBody),
  'POST /ocr': route('llm:ocr', modelBody),
  'POST /responses': route('llm:responses', responsesBody, openaiResponsesRequest, 'openai-responses'),
  'POST /messages': route('llm:messages', messagesBody, anthropicMessagesRequest),
  'POST /messages/count_tokens': route('llm:messages.count_tokens', countTokensBody, anthropicMessagesRequest),
  'POST /conversations': route('llm:conversations', conversationBody, mistralConversationsRequest, 'mistral-conversations'),
};

/** Lower-cased route key -> canonical route key, to name the route a mis-cased path meant. */
const BY_LOWER_CASE = new Map(Object.keys(ROUTES).map((k) => [k.toLowerCase(), k]));

export interface ResolvedRoute {
  spec: RouteSpec;
  /** For `/models/{id}`: the model named in the path. */
  pathModel: string | undefined;
}

const CONVERSATION_APPEND = route('llm:conversations', conversationBody, mistralConversationsRequest, 'mistral-conversations');

/** Resolves `method` + the path after `/v1` (e.g. "/chat/completions"); null for a known route in another casing. */
export function resolveRoute(method: string, subpath: string): ResolvedRoute | { miscased: string } {
  const key = `${method} ${subpath}`;
  const exact = ROUTES[key];
  if (exact) return { spec: exact, pathModel: undefined };
  const segments = subpath.split('/').filter(Boolean);
  if (segments[0] === 'models' && segments.length === 2) {
    const action = method === 'DELETE' ? 'llm:models.delete' : 'llm:models.list';
    return { spec: route(action, null), pathModel: decodeURIComponent(segments[1]!) };
  }
  // Mistral conversations: append (POST /conversations/{id}) and restart (POST /conversations/{id}/restart).
  if (method === 'POST' && segments[0] === 'conversations' && (segments.length === 2 || (segments.length === 3 && segments[2] === 'restart'))) {
    return { spec: CONVERSATION_APPEND, pathModel: undefined };
  }
  const miscased = BY_LOWER_CASE.get(key.toLowerCase());
  if (miscased) return { miscased: miscased.slice(miscased.indexOf(' ') + 1) };
  const family = segments[0] ?? 'root';
  return { spec: route(`llm:${family}`, null), pathModel: undefined };
}
