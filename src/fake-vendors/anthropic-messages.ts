/**
 * The fake Anthropic Messages API: the key (`x-api-key`, or `Authorization: Bearer` as the SDK sends it) and the
 * `anthropic-version` header on every route, request fields as published (unknown ones rejected), Anthropic's error
 * body. Pure.
 * - `POST /v1/messages` answers a `message` (`stream: true`: the SSE events of anthropic-stream.ts):
 *   tools declared, `tool_choice` other than none and the last message from the user without tool results: one
 *   `tool_use` block calling the tool named by `tool_choice` (else the first one) with an input synthesised from its
 *   schema, `stop_reason: "tool_use"`; after tool results, text naming each (`The tool <name> returned: "…"`);
 *   otherwise the text `Answer 1 to: <system + message texts>`, truncated to `max_tokens`. The `x-fake-tool-calls`
 *   header replaces all of this with exactly its calls (one `tool_use` block each).
 * - `POST /v1/messages/count_tokens` answers `{input_tokens}`, the count `POST /v1/messages` would report.
 * - `GET /v1/models[/{id}]` lists the fake's models (one page) or describes one.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { z } from 'zod';
import { estimateTokens } from '../fake-mistral/tokens.js';
import { messageEvents } from './anthropic-stream.js';
import { fakeReply, limitedReply, type FakeReply } from './reply.js';
import type { FakeAnswer, FakeEventStream, FakeVendor } from './server.js';
import { forcedToolCalls, plannedToolCalls, randomId, toolResultReply, type FakeToolCall } from './tool-calls.js';

// Blocks are loose because clients send back the blocks they received, with fields such as `citations` or `caller`.
const TextBlock = z.looseObject({ type: z.literal('text'), text: z.string() });
const ImageBlock = z.looseObject({ type: z.literal('image'), source: z.looseObject({ type: z.string() }) });
/** A document: a PDF, plain text, or content blocks (the text counts as prompt). */
const DocumentBlock = z.looseObject({
  type: z.literal('document'),
  source: z.discriminatedUnion('type', [
    z.looseObject({ type: z.literal('base64'), media_type: z.literal('application/pdf'), data: z.string() }),
    z.looseObject({ type: z.literal('text'), media_type: z.literal('text/plain'), data: z.string() }),
    z.looseObject({ type: z.literal('content'), content: z.union([z.string(), z.array(z.discriminatedUnion('type', [TextBlock, ImageBlock]))]) }),
    z.looseObject({ type: z.literal('url'), url: z.string() }),
  ]),
  title: z.string().nullable().optional(),
  context: z.string().nullable().optional(),
});
const ToolUseBlock = z.looseObject({ type: z.literal('tool_use'), id: z.string().min(1), name: z.string().min(1), input: z.record(z.string(), z.unknown()) });
const ToolResultBlock = z.looseObject({
  type: z.literal('tool_result'),
  tool_use_id: z.string().min(1),
  content: z.union([z.string(), z.array(z.discriminatedUnion('type', [TextBlock, ImageBlock, DocumentBlock]))]).optional(),
  is_error: z.boolean().optional(),
});
const ContentBlock = z.discriminatedUnion('type', [TextBlock, ImageBlock, DocumentBlock, ToolUseBlock, ToolResultBlock]);
type ContentBlock = z.infer<typeof ContentBlock>;
type ToolResultBlock = z.infer<typeof ToolResultBlock>;
const Message = z.strictObject({ role: z.enum(['user', 'assistant']), content: z.union([z.string(), z.array(ContentBlock).min(1)]) });
type Message = z.infer<typeof Message>;

const Tool = z.strictObject({
  type: z.literal('custom').nullable().optional(),
  name: z.string().regex(/^[a-zA-Z0-9_-]{1,128}$/),
  description: z.string().optional(),
  input_schema: z.looseObject({ type: z.literal('object') }),
  cache_control: z.looseObject({ type: z.literal('ephemeral') }).nullable().optional(),
});

const ToolChoice = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('auto'), disable_parallel_tool_use: z.boolean().optional() }),
  z.strictObject({ type: z.literal('any'), disable_parallel_tool_use: z.boolean().optional() }),
  z.strictObject({ type: z.literal('tool'), name: z.string(), disable_parallel_tool_use: z.boolean().optional() }),
  z.strictObject({ type: z.literal('none') }),
]);

/** The fields that make the prompt, shared by messages and count_tokens. */
const PromptFields = {
  model: z.string().min(1),
  messages: z.array(Message).min(1),
  system: z.union([z.string(), z.array(TextBlock)]).optional(),
  tools: z.array(Tool).optional(),
  tool_choice: ToolChoice.optional(),
};

const MessagesRequest = z.strictObject({
  ...PromptFields,
  max_tokens: z.int().min(1),
  stop_sequences: z.array(z.string()).optional(),
  temperature: z.number().min(0).max(1).optional(),
  top_k: z.int().min(0).optional(),
  top_p: z.number().min(0).max(1).optional(),
  stream: z.boolean().optional(),
  metadata: z.looseObject({}).optional(),
});
type MessagesRequest = z.infer<typeof MessagesRequest>;

const CountTokensRequest = z.strictObject(PromptFields);
type PromptRequest = z.infer<typeof CountTokensRequest>;

export interface TextContent {
  type: 'text';
  text: string;
  citations: null;
}
export interface ToolUseContent {
  type: 'tool_use';
  id: string;
  name: string;
  input: Record<string, unknown>;
  caller: { type: 'direct' };
}
/** The `message` object, with the fields the SDK's `Message` type declares. */
export interface FakeMessage {
  id: string;
  type: 'message';
  role: 'assistant';
  model: string;
  content: Array<TextContent | ToolUseContent>;
  stop_reason: 'end_turn' | 'max_tokens' | 'tool_use';
  stop_sequence: null;
  stop_details: null;
  container: null;
  diagnostics: null;
  usage: {
    input_tokens: number;
    cache_creation_input_tokens: number;
    cache_read_input_tokens: number;
    cache_creation: { ephemeral_5m_input_tokens: number; ephemeral_1h_input_tokens: number };
    output_tokens: number;
    service_tier: 'standard';
  };
}

const MODELS = [
  { id: 'claude-opus-4-1-20250805', display_name: 'Claude Opus 4.1', created_at: '2025-08-05T00:00:00Z', max_tokens: 32_000 },
  { id: 'claude-sonnet-4-5-20250929', display_name: 'Claude Sonnet 4.5', created_at: '2025-09-29T00:00:00Z', max_tokens: 64_000 },
  { id: 'claude-haiku-4-5-20251001', display_name: 'Claude Haiku 4.5', created_at: '2025-10-01T00:00:00Z', max_tokens: 64_000 },
  { id: 'claude-3-5-haiku-20241022', display_name: 'Claude Haiku 3.5', created_at: '2024-10-22T00:00:00Z', max_tokens: 8_192 },
].map((m) => ({
  type: 'model',
  ...m,
  capabilities: null,
  deprecated_at: null,
  lifecycle: 'active',
  line: null,
  max_input_tokens: 200_000,
  retires_at: null,
}));

const error = (status: number, type: string, message: string): FakeAnswer => ({ status, body: { type: 'error', error: { type, message } } });

const blocksText = (blocks: readonly ContentBlock[]): string =>
  blocks
    .map((b) => {
      if (b.type === 'text') return b.text;
      if (b.type === 'tool_use') return b.name + JSON.stringify(b.input);
      if (b.type === 'tool_result') return resultText(b);
      if (b.type === 'document') return documentText(b);
      return '';
    })
    .join('');
function documentText({ source }: z.infer<typeof DocumentBlock>): string {
  if (source.type === 'text') return source.data;
  if (source.type === 'content') return typeof source.content === 'string' ? source.content : blocksText(source.content);
  return '';
}
const resultText = (b: ToolResultBlock) => (typeof b.content === 'string' ? b.content : blocksText(b.content ?? []));
const contentText = (content: Message['content']) => (typeof content === 'string' ? content : blocksText(content));

const promptOf = (req: PromptRequest) => `${typeof req.system === 'string' ? req.system : blocksText(req.system ?? [])}${req.messages.map((m) => contentText(m.content)).join('')}`;

const toolResults = (message: Message): ToolResultBlock[] =>
  message.role === 'user' && typeof message.content !== 'string' ? message.content.filter((b): b is ToolResultBlock => b.type === 'tool_result') : [];

/** The tool the model calls on its own, if any. */
function chosenTool(req: MessagesRequest) {
  const last = req.messages[req.messages.length - 1]!;
  const tools = req.tools ?? [];
  if (tools.length === 0 || req.tool_choice?.type === 'none' || last.role !== 'user' || toolResults(last).length > 0) return undefined;
  const choice = req.tool_choice;
  const tool = choice?.type === 'tool' ? tools.find((t) => t.name === choice.name) : tools[0];
  return tool && { name: tool.name, parameters: tool.input_schema };
}

/** The text answer: naming the tool results when the last message carries some, else the usual fake reply. */
function textReply(req: MessagesRequest, prompt: string): FakeReply {
  const results = toolResults(req.messages[req.messages.length - 1]!);
  if (results.length === 0) return fakeReply(prompt, req.max_tokens);
  const nameOf = (id: string) => {
    for (const message of req.messages) {
      if (typeof message.content === 'string') continue;
      const use = message.content.find((b) => b.type === 'tool_use' && b.id === id);
      if (use?.type === 'tool_use') return use.name;
    }
    return undefined;
  };
  return limitedReply(results.map((r) => toolResultReply(nameOf(r.tool_use_id), resultText(r))).join(' '), prompt, req.max_tokens);
}

const toolUse = (call: FakeToolCall): ToolUseContent => ({ type: 'tool_use', id: randomId('toolu_01', 22), name: call.name, input: call.arguments, caller: { type: 'direct' } });

function createMessage(req: MessagesRequest, forced: FakeToolCall[] | undefined): FakeMessage {
  const prompt = promptOf(req);
  const calls = plannedToolCalls(forced, chosenTool(req));
  const reply = calls.length === 0 ? textReply(req, prompt) : undefined;
  const outputTokens = reply ? reply.completionTokens : calls.reduce((n, c) => n + estimateTokens(c.name + JSON.stringify(c.arguments)), 0);
  return {
    id: randomId('msg_01', 22),
    type: 'message',
    role: 'assistant',
    model: req.model,
    content: reply ? [{ type: 'text', text: reply.text, citations: null }] : calls.map(toolUse),
    stop_reason: reply ? (reply.truncated ? 'max_tokens' : 'end_turn') : 'tool_use',
    stop_sequence: null,
    stop_details: null,
    container: null,
    diagnostics: null,
    usage: {
      input_tokens: estimateTokens(prompt),
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 0,
      cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 0 },
      output_tokens: outputTokens,
      service_tier: 'standard',
    },
  };
}

function validated<T>(schema: z.ZodType<T>, body: unknown): { ok: true; value: T } | { ok: false; answer: FakeAnswer } {
  const parsed = schema.safeParse(body);
  if (parsed.success) return { ok: true, value: parsed.data };
  const issue = parsed.error.issues[0]!;
  const at = [...issue.path, ...(issue.code === 'unrecognized_keys' ? issue.keys : [])].join('.');
  return { ok: false, answer: error(400, 'invalid_request_error', issue.code === 'unrecognized_keys' ? `${at}: Extra inputs are not permitted` : `${at}: ${issue.message}`) };
}

/** Anthropic refuses a `tool_choice` naming a tool that is not declared. */
function unknownChosenTool(req: PromptRequest): FakeAnswer | undefined {
  const choice = req.tool_choice;
  if (choice?.type !== 'tool' || req.tools?.some((t) => t.name === choice.name)) return undefined;
  return error(400, 'invalid_request_error', `tool_choice.name: tool '${choice.name}' not found in tools`);
}

function handleMessages(body: unknown, headers: IncomingHttpHeaders): FakeAnswer | FakeEventStream {
  const request = validated(MessagesRequest, body);
  if (!request.ok) return request.answer;
  const unknownTool = unknownChosenTool(request.value);
  if (unknownTool) return unknownTool;
  let forced: FakeToolCall[] | undefined;
  try {
    forced = forcedToolCalls(headers);
  } catch (err) {
    return error(400, 'invalid_request_error', `fake-anthropic: ${(err as Error).message}`);
  }
  const message = createMessage(request.value, forced);
  return request.value.stream ? { status: 200, events: messageEvents(message) } : { status: 200, body: message };
}

function handleCountTokens(body: unknown): FakeAnswer {
  const request = validated(CountTokensRequest, body);
  if (!request.ok) return request.answer;
  return unknownChosenTool(request.value) ?? { status: 200, body: { input_tokens: estimateTokens(promptOf(request.value)) } };
}

const MODEL_PATH = /^\/v1\/models\/([^/]+)$/;

export const anthropicMessages: FakeVendor = {
  name: 'anthropic',
  route(method, target) {
    const path = target.split('?', 1)[0]!;
    if (method === 'POST') return path === '/v1/messages' || path === '/v1/messages/count_tokens';
    return method === 'GET' && (path === '/v1/models' || MODEL_PATH.test(path));
  },
  authorize(headers, apiKey) {
    // The SDK (1.x) sends the API key as a bearer token; other clients (the gateway) use x-api-key.
    const key = headers['x-api-key'] ?? /^Bearer\s+(\S+)$/i.exec(headers.authorization ?? '')?.[1];
    if (typeof key !== 'string') return error(401, 'authentication_error', 'x-api-key header is required');
    if (apiKey !== undefined && key !== apiKey) return error(401, 'authentication_error', 'invalid x-api-key');
    if (typeof headers['anthropic-version'] !== 'string') return error(400, 'invalid_request_error', 'anthropic-version: header is required');
    return null;
  },
  handle(body, target, headers) {
    const path = target.split('?', 1)[0]!;
    if (path === '/v1/messages') return handleMessages(body, headers);
    if (path === '/v1/messages/count_tokens') return handleCountTokens(body);
    if (path === '/v1/models') return { status: 200, body: { data: MODELS, has_more: false, first_id: MODELS[0]!.id, last_id: MODELS.at(-1)!.id } };
    const id = decodeURIComponent(MODEL_PATH.exec(path)![1]!);
    const model = MODELS.find((m) => m.id === id);
    return model ? { status: 200, body: model } : error(404, 'not_found_error', `model: ${id}`);
  },
};
