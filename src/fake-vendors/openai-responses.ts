/**
 * The fake OpenAI Responses API: `POST /v1/responses` (request fields as published, unknown ones rejected with
 * OpenAI's 400 body; `stream: true` answers the SSE events of openai-stream.ts) and `GET /v1/models[/{id}]`. Pure.
 * - function tools declared, `tool_choice` other than "none" and the last input a user message: the model calls the
 *   tool named by `tool_choice` (else the first one) with arguments synthesised from its schema;
 * - after `function_call_output` items: text naming each result (`The tool <name> returned: "<output>"`);
 * - otherwise the text `Answer 1 to: <instructions + input texts>`, truncated to `max_output_tokens`;
 * - the `x-fake-tool-calls` header replaces all of the above with exactly its calls (several: parallel calls).
 */
import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { z } from 'zod';
import { estimateTokens } from '../fake-mistral/tokens.js';
import { responseEvents } from './openai-stream.js';
import { fakeReply, limitedReply, type FakeReply } from './reply.js';
import type { FakeAnswer, FakeEventStream, FakeVendor } from './server.js';
import { forcedToolCalls, plannedToolCalls, randomId, toolResultReply, type FakeToolCall } from './tool-calls.js';

const ContentPart = z.discriminatedUnion('type', [
  z.looseObject({ type: z.literal('input_text'), text: z.string() }),
  z.looseObject({ type: z.literal('output_text'), text: z.string() }),
  z.looseObject({ type: z.literal('refusal'), refusal: z.string() }),
  z.looseObject({ type: z.literal('input_image') }),
  z.looseObject({ type: z.literal('input_file') }),
]);
type Content = string | z.infer<typeof ContentPart>[];

// Items are loose because clients send back the output items they received, with fields such as `status` or `id`.
const MessageItem = z.looseObject({
  type: z.literal('message').optional(),
  role: z.enum(['user', 'assistant', 'system', 'developer']),
  content: z.union([z.string(), z.array(ContentPart)]),
});
const FunctionCallItem = z.looseObject({ type: z.literal('function_call'), call_id: z.string().min(1), name: z.string().min(1), arguments: z.string() });
const FunctionCallOutputItem = z.looseObject({
  type: z.literal('function_call_output'),
  call_id: z.string().min(1),
  output: z.union([z.string(), z.array(ContentPart)]),
});
type MessageItem = z.infer<typeof MessageItem>;
type FunctionCallItem = z.infer<typeof FunctionCallItem>;
type FunctionCallOutputItem = z.infer<typeof FunctionCallOutputItem>;
type InputItem = MessageItem | FunctionCallItem | FunctionCallOutputItem;

const FunctionTool = z.strictObject({
  type: z.literal('function'),
  name: z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/),
  description: z.string().nullable().optional(),
  parameters: z.record(z.string(), z.unknown()).nullable(),
  strict: z.boolean().nullable().optional(),
});

const ResponsesRequest = z.strictObject({
  model: z.string().min(1),
  input: z.union([z.string(), z.array(z.union([MessageItem, FunctionCallItem, FunctionCallOutputItem])).min(1)]),
  instructions: z.string().nullable().optional(),
  max_output_tokens: z.int().min(16).nullable().optional(),
  temperature: z.number().min(0).max(2).nullable().optional(),
  top_p: z.number().min(0).max(1).nullable().optional(),
  truncation: z.enum(['auto', 'disabled']).nullable().optional(),
  tools: z.array(FunctionTool).optional(),
  tool_choice: z.union([z.enum(['auto', 'none', 'required']), z.strictObject({ type: z.literal('function'), name: z.string() })]).optional(),
  parallel_tool_calls: z.boolean().nullable().optional(),
  stream: z.boolean().nullable().optional(),
  store: z.boolean().nullable().optional(),
  metadata: z.record(z.string(), z.string()).nullable().optional(),
  user: z.string().optional(),
});
type ResponsesRequest = z.infer<typeof ResponsesRequest>;

export interface OutputText {
  type: 'output_text';
  text: string;
  annotations: [];
  logprobs: [];
}
export interface OutputMessage {
  type: 'message';
  id: string;
  status: 'completed' | 'incomplete';
  role: 'assistant';
  content: OutputText[];
}
export interface FunctionCall {
  type: 'function_call';
  id: string;
  call_id: string;
  name: string;
  arguments: string;
  status: 'completed';
}
/** The `response` object, with the fields the SDK's `Response` type declares. */
export interface FakeResponse {
  id: string;
  object: 'response';
  status: 'completed' | 'incomplete';
  output: Array<OutputMessage | FunctionCall>;
  [field: string]: unknown;
}

const MODELS = ['gpt-5', 'gpt-5-mini', 'gpt-4.1', 'gpt-4.1-mini', 'gpt-4o', 'gpt-4o-mini'];
/** A fixed creation time, so that model listings are deterministic. */
const MODELS_CREATED = 1_744_316_542;
const modelObject = (id: string) => ({ id, object: 'model', created: MODELS_CREATED, owned_by: 'system' });

const error = (status: number, message: string, code: string | null, param: string | null = null): FakeAnswer => ({
  status,
  body: { error: { message, type: 'invalid_request_error', param, code } },
});

const hexId = () => randomUUID().replaceAll('-', '');

const contentText = (content: Content) =>
  typeof content === 'string' ? content : content.map((part) => ('text' in part && typeof part.text === 'string' ? part.text : '')).join('');

const isMessage = (item: InputItem): item is MessageItem => item.type === undefined || item.type === 'message';

function itemText(item: InputItem): string {
  if (isMessage(item)) return contentText(item.content);
  return item.type === 'function_call' ? item.name + item.arguments : contentText(item.output);
}

/** The tool the model calls on its own, if any. */
function chosenTool(req: ResponsesRequest, items: readonly InputItem[]) {
  const last = items[items.length - 1]!;
  const tools = req.tools ?? [];
  if (tools.length === 0 || req.tool_choice === 'none' || !isMessage(last) || last.role !== 'user') return undefined;
  const choice = req.tool_choice;
  return typeof choice === 'object' ? tools.find((t) => t.name === choice.name) : tools[0];
}

/** The text answer: naming the tool results when the input ends with some, else the usual fake reply. */
function textReply(req: ResponsesRequest, items: readonly InputItem[], prompt: string): FakeReply {
  const maxTokens = req.max_output_tokens ?? undefined;
  let start = items.length;
  while (start > 0 && items[start - 1]!.type === 'function_call_output') start--;
  const results = items.slice(start) as FunctionCallOutputItem[];
  if (results.length === 0) return fakeReply(prompt, maxTokens);
  const nameOf = (callId: string) => items.find((it): it is FunctionCallItem => it.type === 'function_call' && it.call_id === callId)?.name;
  return limitedReply(results.map((r) => toolResultReply(nameOf(r.call_id), contentText(r.output))).join(' '), prompt, maxTokens);
}

const outputMessage = (reply: FakeReply): OutputMessage => ({
  type: 'message',
  id: `msg_${hexId()}`,
  status: reply.truncated ? 'incomplete' : 'completed',
  role: 'assistant',
  content: [{ type: 'output_text', text: reply.text, annotations: [], logprobs: [] }],
});

const functionCall = (call: FakeToolCall): FunctionCall => ({
  type: 'function_call',
  id: `fc_${hexId()}`,
  call_id: randomId('call_', 24),
  name: call.name,
  arguments: JSON.stringify(call.arguments),
  status: 'completed',
});

function createResponse(req: ResponsesRequest, forced: FakeToolCall[] | undefined): FakeResponse {
  const items: InputItem[] = typeof req.input === 'string' ? [{ role: 'user', content: req.input }] : req.input;
  const prompt = `${req.instructions ?? ''}${items.map(itemText).join('')}`;
  const calls = plannedToolCalls(forced, chosenTool(req, items));
  const reply = calls.length === 0 ? textReply(req, items, prompt) : undefined;
  const output: FakeResponse['output'] = reply ? [outputMessage(reply)] : calls.map(functionCall);
  const inputTokens = estimateTokens(prompt);
  const outputTokens = reply ? reply.completionTokens : calls.reduce((n, c) => n + estimateTokens(c.name + JSON.stringify(c.arguments)), 0);
  const now = Math.floor(Date.now() / 1000);
  return {
    id: `resp_${hexId()}`,
    object: 'response',
    created_at: now,
    status: reply?.truncated ? 'incomplete' : 'completed',
    background: false,
    completed_at: reply?.truncated ? null : now,
    error: null,
    incomplete_details: reply?.truncated ? { reason: 'max_output_tokens' } : null,
    instructions: req.instructions ?? null,
    max_output_tokens: req.max_output_tokens ?? null,
    max_tool_calls: null,
    metadata: req.metadata ?? {},
    model: req.model,
    output,
    parallel_tool_calls: req.parallel_tool_calls ?? true,
    previous_response_id: null,
    reasoning: { effort: null, summary: null },
    service_tier: 'default',
    store: req.store ?? true,
    temperature: req.temperature ?? 1,
    text: { format: { type: 'text' }, verbosity: 'medium' },
    tool_choice: req.tool_choice ?? 'auto',
    // echoed as OpenAI normalises them: strict defaults to true
    tools: (req.tools ?? []).map((t) => ({ type: 'function', name: t.name, description: t.description ?? null, parameters: t.parameters, strict: t.strict ?? true })),
    top_logprobs: 0,
    top_p: req.top_p ?? 1,
    truncation: req.truncation ?? 'disabled',
    usage: {
      input_tokens: inputTokens,
      input_tokens_details: { cached_tokens: 0 },
      output_tokens: outputTokens,
      output_tokens_details: { reasoning_tokens: 0 },
      total_tokens: inputTokens + outputTokens,
    },
    user: req.user ?? null,
  };
}

function handleResponses(body: unknown, headers: IncomingHttpHeaders): FakeAnswer | FakeEventStream {
  const parsed = ResponsesRequest.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const param = [...issue.path, ...(issue.code === 'unrecognized_keys' ? issue.keys : [])].join('.');
    return error(400, issue.code === 'unrecognized_keys' ? `Unknown parameter: '${param}'.` : `Invalid '${param}': ${issue.message}`, issue.code === 'unrecognized_keys' ? 'unknown_parameter' : 'invalid_value', param);
  }
  const req = parsed.data;
  const choice = req.tool_choice;
  if (typeof choice === 'object' && !req.tools?.some((t) => t.name === choice.name)) {
    return error(400, `Tool choice 'function' not found in 'tools' parameter.`, 'invalid_value', 'tool_choice');
  }
  let forced: FakeToolCall[] | undefined;
  try {
    forced = forcedToolCalls(headers);
  } catch (err) {
    return error(400, `fake-openai: ${(err as Error).message}`, null);
  }
  const response = createResponse(req, forced);
  return req.stream ? { status: 200, events: responseEvents(response) } : { status: 200, body: response };
}

const MODEL_PATH = /^\/v1\/models\/([^/]+)$/;

export const openaiResponses: FakeVendor = {
  name: 'openai',
  route(method, target) {
    const path = target.split('?', 1)[0]!;
    if (method === 'POST') return path === '/v1/responses';
    return method === 'GET' && (path === '/v1/models' || MODEL_PATH.test(path));
  },
  authorize(headers, apiKey) {
    const key = /^Bearer\s+(\S+)$/i.exec(String(headers.authorization ?? ''))?.[1];
    if (key && (apiKey === undefined || key === apiKey)) return null;
    return error(401, `Incorrect API key provided: ${key ?? '(none)'}.`, 'invalid_api_key');
  },
  handle(body, target, headers) {
    const path = target.split('?', 1)[0]!;
    if (path === '/v1/responses') return handleResponses(body, headers);
    if (path === '/v1/models') return { status: 200, body: { object: 'list', data: MODELS.map(modelObject) } };
    const id = decodeURIComponent(MODEL_PATH.exec(path)![1]!);
    return MODELS.includes(id) ? { status: 200, body: modelObject(id) } : error(404, `The model '${id}' does not exist`, 'model_not_found', 'model');
  },
};
