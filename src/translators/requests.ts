/**
 * The request side of each wire API (pure): where its prompt text is (for PII detection, masking and the policy's
 * `prompt` conditions) and the policy's view of its body, in OpenAI chat field names (`model`, `max_tokens`,
 * `stream`, `messages`, `tools`), so one policy reads every API alike (docs/policies.md, "API shapes").
 */
import { isObject, type Json } from './types.js';

/** Returns the text to keep in place of `text` (itself, or its masked form). */
export type PromptVisitor = (text: string) => string;

export interface RequestTranslator {
  readonly name: string;
  /** Visits every piece of prompt text in `body`, replacing each with what `visit` returns. */
  visitPrompt(body: Json, visit: PromptVisitor): void;
  /** The body as policies read it. */
  policyView(body: Json): Json;
}

/**
 * Fields of a message, part or block that hold prompt text, as a string or a list of parts: text, content, tool and
 * function results (Responses `output`, Conversations `result`), document `title` and `context` (Anthropic).
 */
const TEXT_FIELDS = ['text', 'content', 'output', 'result', 'title', 'context'];

/** Visits a message, part or block: its text fields, and an Anthropic document's source (plain text, or blocks). */
function visitPart(part: Json, visit: PromptVisitor): void {
  for (const field of TEXT_FIELDS) if (part[field] !== undefined) visitContent(part, field, visit);
  const source = part.source;
  if (isObject(source)) {
    if (source.type === 'text' && typeof source.data === 'string') source.data = visit(source.data);
    if (source.content !== undefined) visitContent(source, 'content', visit);
  }
}

/** Visits a content value: a string, or a list of strings and parts (nested to any depth, e.g. tool results). */
function visitContent(holder: Json, field: string, visit: PromptVisitor): void {
  const value = holder[field];
  if (typeof value === 'string') holder[field] = visit(value);
  else if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const part: unknown = value[i];
      if (typeof part === 'string') value[i] = visit(part);
      else if (isObject(part)) visitPart(part, visit);
    }
  }
}

function visitMessages(body: Json, field: string, visit: PromptVisitor): void {
  const messages = body[field];
  if (typeof messages === 'string') {
    body[field] = visit(messages);
    return;
  }
  if (!Array.isArray(messages)) return;
  for (const message of messages) if (isObject(message)) visitPart(message, visit);
}

/** Prompt text as chat messages, for the policy view of APIs that keep it elsewhere (the visit changes nothing). */
export function textMessages(translator: RequestTranslator, body: Json): Json[] {
  const messages: Json[] = [];
  translator.visitPrompt(body, (text) => {
    messages.push({ role: 'user', content: text });
    return text;
  });
  return messages;
}

const PROMPT_FIELDS = ['prompt', 'suffix', 'input', 'inputs', 'instructions'];
/** Prompt fields policies do not read natively (they read `messages` and `prompt`). */
const OTHER_PROMPT_FIELDS = PROMPT_FIELDS.filter((f) => f !== 'prompt');

/**
 * OpenAI Chat Completions and every OpenAI-compatible route (completions, FIM, embeddings, moderations,
 * classifications, agents, and routes the gateway does not know): messages, and the prompt fields those carry.
 * The policy view is the body itself unless it has prompt text outside `messages` and `prompt` (FIM `suffix`,
 * embeddings `input`, ...): then `prompt` lists all of it, so prompt conditions see it too.
 */
export const openaiCompatibleRequest: RequestTranslator = {
  name: 'openai',
  visitPrompt(body, visit) {
    visitMessages(body, 'messages', visit);
    for (const field of PROMPT_FIELDS) if (body[field] !== undefined) visitContent(body, field, visit);
  },
  policyView(body) {
    if (!OTHER_PROMPT_FIELDS.some((f) => body[f] !== undefined)) return body;
    const prompt: string[] = [];
    const collect = (text: string) => {
      prompt.push(text);
      return text;
    };
    for (const field of PROMPT_FIELDS) if (body[field] !== undefined) visitContent(body, field, collect);
    return { ...body, prompt };
  },
};

/** The prompt of APIs that take `instructions` and a string or list of items in `field`. */
function instructionsAnd(field: string): RequestTranslator['visitPrompt'] {
  return (body, visit) => {
    if (body.instructions !== undefined) visitContent(body, 'instructions', visit);
    visitMessages(body, field, visit);
  };
}

/** OpenAI Responses: `instructions` and `input` (a string or items); `max_output_tokens` is `max_tokens`. */
export const openaiResponsesRequest: RequestTranslator = {
  name: 'responses',
  visitPrompt: instructionsAnd('input'),
  policyView(body) {
    return { ...body, max_tokens: body.max_output_tokens, messages: textMessages(this, body) };
  },
};

/** Anthropic Messages: `system` (a string or text blocks) and message content blocks (text, tool results). */
export const anthropicMessagesRequest: RequestTranslator = {
  name: 'anthropic',
  visitPrompt(body, visit) {
    if (body.system !== undefined) visitContent(body, 'system', visit);
    visitMessages(body, 'messages', visit);
  },
  policyView(body) {
    return { ...body, messages: textMessages(this, body) };
  },
};

/**
 * Mistral Conversations: `instructions` and `inputs` (a string or entries: message content, and the `result` of
 * `function.result` entries, which the model reads as it reads a tool message); limits in `completion_args`.
 */
export const mistralConversationsRequest: RequestTranslator = {
  name: 'conversations',
  visitPrompt: instructionsAnd('inputs'),
  policyView(body) {
    const args = isObject(body.completion_args) ? body.completion_args : {};
    return { ...body, max_tokens: args.max_tokens, temperature: args.temperature, top_p: args.top_p, messages: textMessages(this, body) };
  },
};

/** Templated endpoints (KrakenD `ai/llm`): `instructions` and `contents`, each a string or a list of text parts. */
export const templatedEndpointRequest: RequestTranslator = {
  name: 'templated',
  visitPrompt(body, visit) {
    visitContent(body, 'instructions', visit);
    visitContent(body, 'contents', visit);
  },
  policyView(body) {
    return { messages: textMessages(this, body), stream: false };
  },
};
