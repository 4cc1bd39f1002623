/**
 * The fake api.mistral.ai: routing, auth, faults and lifecycle on plain node:http. The request path is kept lean
 * (no logging, no framework) because the fake is also the baseline of the gateway benchmark.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { findAgent } from './agents.js';
import { generateChat, invalidLastRole } from './chat.js';
import type { Completion } from './completion.js';
import {
  ConversationAppendSchema,
  ConversationRestartSchema,
  ConversationStartSchema,
  type CompletionArgs,
  type ConversationInputs,
} from './conversation-requests.js';
import { conversationEvents, conversationResponseBody } from './conversation-responses.js';
import { runTurn, type Conversation, type ConversationEntry } from './conversations.js';
import { generateEmbeddings } from './embeddings.js';
import * as errors from './errors.js';
import { parseFaults, type Faults } from './faults.js';
import { generateFim } from './fim.js';
import { createModelCatalogue, type ModelCatalogue } from './models.js';
import {
  AgentsCompletionRequestSchema,
  ChatRequestSchema,
  EmbeddingRequestSchema,
  FimRequestSchema,
  parseForcedToolCalls,
  validateBody,
  type ChatRequest,
  type ForcedToolCall,
} from './requests.js';
import { completionBody, completionChunks, type ToolCallStreamStyle } from './responses.js';
import { namedSseEvents, sseEvents, writeSse } from './stream.js';

export interface FakeMistralOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** The only key accepted; when absent any non-empty bearer key passes. */
  apiKey?: string;
  /** Server-wide fault spec applied to every request (see faults.ts), e.g. "latency=20". */
  faults?: string;
  /** Keep every request that reaches the fake in `requests`. */
  record?: boolean;
}

export interface RecordedRequest {
  method: string;
  /** Request target as received, query string included. */
  path: string;
  headers: IncomingHttpHeaders;
  /** Parsed JSON body; the raw text when it is not JSON; undefined when empty. */
  body: unknown;
}

export interface FakeMistral {
  /** Origin without `/v1`, e.g. http://127.0.0.1:41234. */
  readonly url: string;
  readonly port: number;
  /** Requests received (only filled when started with `record: true`); tests may clear it with `length = 0`. */
  readonly requests: RecordedRequest[];
  /** Requests whose client went away before the response was complete. */
  readonly aborted: number;
  /** Replaces the server-wide fault spec (undefined or "" clears it). */
  setFaults(spec: string | undefined): void;
  /** Resolves once `aborted >= count`; rejects after `timeoutMs`. */
  waitForAborted(count: number, timeoutMs?: number): Promise<void>;
  /** Stops listening and destroys every open connection, idle or not. */
  close(): Promise<void>;
}

export const FAULT_HEADER = 'x-fake-fault';
export const TOOL_CALLS_HEADER = 'x-fake-tool-calls';
export const TOOL_CALL_STYLE_HEADER = 'x-fake-tool-call-style';

interface ServerState {
  apiKey: string | undefined;
  faults: Readonly<Faults>;
  record: boolean;
  requests: RecordedRequest[];
  aborted: number;
  closing: boolean;
  abortWaiters: Set<() => void>;
  catalogue: ModelCatalogue;
  /** Conversations started with `store` (the default), by id; append and restart find them here. */
  conversations: Map<string, Conversation>;
}

/** One request/response pair: its abort signal, and whether the fake itself cut the connection. */
class Exchange {
  private readonly controller = new AbortController();
  private selfReset = false;

  constructor(
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    state: ServerState,
  ) {
    res.on('close', () => {
      if (!res.writableFinished && !this.selfReset && !state.closing) {
        state.aborted++;
        for (const wake of state.abortWaiters) wake();
      }
      this.controller.abort();
    });
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Destroys the socket without counting it as a client abort. */
  reset(): void {
    this.selfReset = true;
    this.req.socket.destroy();
  }
}

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** Mistral tool call ids are 9 alphanumeric characters. */
export function newToolCallId(): string {
  const bytes = randomBytes(9);
  let id = '';
  for (const b of bytes) id += ALPHANUMERIC[b % ALPHANUMERIC.length];
  return id;
}

const hexId = () => randomUUID().replaceAll('-', '');
const now = () => Math.floor(Date.now() / 1000);
const isoNow = () => new Date().toISOString();

function sendJson(res: ServerResponse, status: number, body: unknown, headers?: Record<string, string>): void {
  const data = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data), ...headers });
  res.end(data);
}

const sendError = (res: ServerResponse, reply: errors.ErrorReply) => sendJson(res, reply.status, reply.body, reply.headers);

/** `reset-mid-stream` on a JSON answer: headers and the first half of the body, then the socket is destroyed. */
function sendHalfJsonThenReset(exchange: Exchange, body: unknown): void {
  const data = Buffer.from(JSON.stringify(body));
  exchange.res.writeHead(200, { 'content-type': 'application/json', 'content-length': data.length });
  exchange.res.write(data.subarray(0, Math.floor(data.length / 2)), () => exchange.reset());
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(chunks.length === 1 ? chunks[0]!.toString() : Buffer.concat(chunks).toString()));
    req.on('error', reject);
  });
}

type ParsedBody = { ok: true; value: unknown } | { ok: false; raw: string; reason: string };

function parseJsonBody(raw: string): ParsedBody {
  try {
    return { ok: true, value: JSON.parse(raw) };
  } catch (err) {
    return { ok: false, raw, reason: (err as Error).message };
  }
}

function authorized(req: IncomingMessage, apiKey: string | undefined): boolean {
  const match = /^Bearer\s+(\S.*)$/i.exec(req.headers.authorization ?? '');
  if (!match) return false;
  return apiKey === undefined || match[1]!.trim() === apiKey;
}

const headerValue = (req: IncomingMessage, name: string): string | undefined => {
  const value = req.headers[name];
  return Array.isArray(value) ? value.join(',') : value;
};

type Route =
  | 'chat'
  | 'fim'
  | 'agents'
  | 'embeddings'
  | 'models'
  | 'model'
  | 'conversations.start'
  | 'conversations.append'
  | 'conversations.restart';

interface RouteMatch {
  route: Route;
  method: string;
  modelId?: string;
  conversationId?: string;
}

const CONVERSATIONS_PREFIX = '/v1/conversations/';

function routeOf(path: string): RouteMatch | undefined {
  switch (path) {
    case '/v1/chat/completions':
      return { route: 'chat', method: 'POST' };
    case '/v1/agents/completions':
      return { route: 'agents', method: 'POST' };
    case '/v1/conversations':
      return { route: 'conversations.start', method: 'POST' };
    case '/v1/fim/completions':
      return { route: 'fim', method: 'POST' };
    case '/v1/embeddings':
      return { route: 'embeddings', method: 'POST' };
    case '/v1/models':
      return { route: 'models', method: 'GET' };
  }
  if (path.startsWith('/v1/models/') && path.length > '/v1/models/'.length) {
    return { route: 'model', method: 'GET', modelId: decodeURIComponent(path.slice('/v1/models/'.length)) };
  }
  if (path.startsWith(CONVERSATIONS_PREFIX)) {
    const [id, action, ...rest] = path.slice(CONVERSATIONS_PREFIX.length).split('/');
    if (!id || rest.length > 0) return undefined;
    const conversationId = decodeURIComponent(id);
    if (action === undefined) return { route: 'conversations.append', method: 'POST', conversationId };
    if (action === 'restart') return { route: 'conversations.restart', method: 'POST', conversationId };
  }
  return undefined;
}

function toolCallStyle(req: IncomingMessage): ToolCallStreamStyle {
  const style = headerValue(req, TOOL_CALL_STYLE_HEADER) ?? 'mistral';
  if (style !== 'mistral' && style !== 'fragmented') {
    throw new Error(`${TOOL_CALL_STYLE_HEADER} must be "mistral" or "fragmented", got "${style}"`);
  }
  return style;
}

/** What the request's x-fake-* tool-call headers ask for. */
interface ToolCallControls {
  forcedToolCalls: ForcedToolCall[] | undefined;
  style: ToolCallStreamStyle;
}

/** Reads the x-fake-tool-calls and x-fake-tool-call-style headers; an error reply when either is misused. */
function toolCallControls(req: IncomingMessage): ToolCallControls | errors.ErrorReply {
  try {
    const forced = headerValue(req, TOOL_CALLS_HEADER);
    return { forcedToolCalls: forced === undefined ? undefined : parseForcedToolCalls(forced), style: toolCallStyle(req) };
  } catch (err) {
    return errors.fakeControlError((err as Error).message);
  }
}

const isErrorReply = (value: ToolCallControls | errors.ErrorReply): value is errors.ErrorReply => 'status' in value;

async function respondCompletion(
  exchange: Exchange,
  result: Completion,
  model: string,
  stream: boolean,
  style: ToolCallStreamStyle,
  faults: Readonly<Faults>,
): Promise<void> {
  const meta = { id: `cmpl-${hexId()}`, created: now(), model };
  if (!stream) {
    const body = completionBody(meta, result);
    if (faults.resetMidStream) sendHalfJsonThenReset(exchange, body);
    else sendJson(exchange.res, 200, body);
    return;
  }
  const payloads = completionChunks(meta, result, style).map((chunk) => JSON.stringify(chunk));
  await writeSse(exchange.res, sseEvents(payloads, faults.malformedSse), streamOptions(exchange, faults));
}

function streamOptions(exchange: Exchange, faults: Readonly<Faults>) {
  return {
    trickleMs: faults.trickleMs,
    resetMidStream: faults.resetMidStream,
    signal: exchange.signal,
    resetConnection: () => exchange.reset(),
  };
}

/** Answers a valid chat request (from /chat/completions or /agents/completions) the fake chat model's way. */
async function answerChat(exchange: Exchange, request: ChatRequest, faults: Readonly<Faults>) {
  const badRole = invalidLastRole(request.messages);
  if (badRole) return sendError(exchange.res, errors.messageOrder(badRole));
  const controls = toolCallControls(exchange.req);
  if (isErrorReply(controls)) return sendError(exchange.res, controls);
  const result = generateChat(request, { forcedToolCalls: controls.forcedToolCalls, newToolCallId });
  await respondCompletion(exchange, result, request.model, request.stream === true, controls.style, faults);
}

async function handleChat(exchange: Exchange, state: ServerState, body: unknown, faults: Readonly<Faults>) {
  const validated = validateBody(ChatRequestSchema, body);
  if (!validated.ok) return sendError(exchange.res, errors.validationFailed(validated.detail));
  const request = validated.value;
  if (!state.catalogue.find(request.model)?.card.capabilities.completion_chat) {
    return sendError(exchange.res, errors.invalidModel(request.model));
  }
  await answerChat(exchange, request, faults);
}

/** Agents completions: a chat completion answered by the agent's model. */
async function handleAgentsCompletion(exchange: Exchange, body: unknown, faults: Readonly<Faults>) {
  const validated = validateBody(AgentsCompletionRequestSchema, body);
  if (!validated.ok) return sendError(exchange.res, errors.validationFailed(validated.detail));
  const { agent_id: agentId, ...fields } = validated.value;
  const agent = findAgent(agentId);
  if (!agent) return sendError(exchange.res, errors.agentNotFound(agentId));
  await answerChat(exchange, { ...fields, model: agent.model }, faults);
}

/** Runs one turn of `conversation` and answers it; keeps its entries in the conversation when `store`. */
async function answerConversationTurn(
  exchange: Exchange,
  state: ServerState,
  conversation: Conversation,
  turn: { inputs: ConversationInputs; args: CompletionArgs | null | undefined; store: boolean; stream: boolean },
  faults: Readonly<Faults>,
) {
  const controls = toolCallControls(exchange.req);
  if (isErrorReply(controls)) return sendError(exchange.res, controls);
  const now = isoNow();
  const result = runTurn(conversation, conversation.entries, turn.inputs, turn.args, {
    forcedToolCalls: controls.forcedToolCalls,
    newToolCallId,
    newId: hexId,
    now,
  });
  if (!result.ok) return sendError(exchange.res, errors.messageOrder(result.lastRole));
  if (turn.store) {
    conversation.entries.push(...result.inputs, ...result.outputs);
    state.conversations.set(conversation.id, conversation);
  }
  await respondConversation(exchange, conversation.id, result.outputs, result.usage, now, turn.stream, controls.style, faults);
}

async function respondConversation(
  exchange: Exchange,
  conversationId: string,
  outputs: ConversationEntry[],
  usage: Completion['usage'],
  createdAt: string,
  stream: boolean,
  style: ToolCallStreamStyle,
  faults: Readonly<Faults>,
): Promise<void> {
  if (!stream) {
    const body = conversationResponseBody(conversationId, outputs, usage);
    if (faults.resetMidStream) sendHalfJsonThenReset(exchange, body);
    else sendJson(exchange.res, 200, body);
    return;
  }
  const events = conversationEvents(conversationId, outputs, usage, createdAt, style);
  await writeSse(exchange.res, namedSseEvents(events, faults.malformedSse), streamOptions(exchange, faults));
}

const newConversationId = () => `conv_${hexId()}`;

/** `POST /v1/conversations`: a new conversation with a model or an agent, and its first turn. */
async function handleConversationStart(exchange: Exchange, state: ServerState, body: unknown, faults: Readonly<Faults>) {
  const { res } = exchange;
  const validated = validateBody(ConversationStartSchema, body);
  if (!validated.ok) return sendError(res, errors.validationFailed(validated.detail));
  const request = validated.value;
  const agentId = request.agent_id ?? null;
  const model = request.model ?? null;
  if (agentId !== null && model !== null) return sendError(res, errors.modelAndAgentExclusive());
  let answeringModel: string;
  if (agentId !== null) {
    const agent = findAgent(agentId);
    if (!agent) return sendError(res, errors.agentNotFound(agentId));
    answeringModel = agent.model;
  } else if (model !== null) {
    if (!state.catalogue.find(model)?.card.capabilities.completion_chat) return sendError(res, errors.invalidModel(model));
    answeringModel = model;
  } else {
    return sendError(res, errors.modelOrAgentRequired());
  }
  const conversation: Conversation = {
    id: newConversationId(),
    model: answeringModel,
    agentId,
    instructions: request.instructions ?? null,
    tools: request.tools ?? null,
    completionArgs: request.completion_args ?? null,
    entries: [],
  };
  const turn = { inputs: request.inputs, args: conversation.completionArgs, store: request.store !== false, stream: request.stream === true };
  await answerConversationTurn(exchange, state, conversation, turn, faults);
}

/** `POST /v1/conversations/{id}`: the next turn of a stored conversation. */
async function handleConversationAppend(exchange: Exchange, state: ServerState, conversationId: string, body: unknown, faults: Readonly<Faults>) {
  const { res } = exchange;
  const validated = validateBody(ConversationAppendSchema, body);
  if (!validated.ok) return sendError(res, errors.validationFailed(validated.detail));
  const request = validated.value;
  const conversation = state.conversations.get(conversationId);
  if (!conversation) return sendError(res, errors.conversationNotFound(conversationId));
  if (request.inputs === undefined) return sendError(res, errors.inputsRequired());
  const args = request.completion_args ?? conversation.completionArgs;
  const turn = { inputs: request.inputs, args, store: request.store !== false, stream: request.stream === true };
  await answerConversationTurn(exchange, state, conversation, turn, faults);
}

/**
 * `POST /v1/conversations/{id}/restart`: a new conversation (new id) with the history up to and including
 * `from_entry_id`, and its next turn; the original conversation is left as it was.
 */
async function handleConversationRestart(exchange: Exchange, state: ServerState, conversationId: string, body: unknown, faults: Readonly<Faults>) {
  const { res } = exchange;
  const validated = validateBody(ConversationRestartSchema, body);
  if (!validated.ok) return sendError(res, errors.validationFailed(validated.detail));
  const request = validated.value;
  const original = state.conversations.get(conversationId);
  if (!original) return sendError(res, errors.conversationNotFound(conversationId));
  const at = original.entries.findIndex((entry) => entry.id === request.from_entry_id);
  if (at === -1) return sendError(res, errors.entryNotFound(conversationId, request.from_entry_id));
  if (request.inputs === undefined) return sendError(res, errors.inputsRequired());
  const restarted: Conversation = { ...original, id: newConversationId(), entries: original.entries.slice(0, at + 1) };
  const args = request.completion_args ?? original.completionArgs;
  const turn = { inputs: request.inputs, args, store: request.store !== false, stream: request.stream === true };
  await answerConversationTurn(exchange, state, restarted, turn, faults);
}

async function handleFim(exchange: Exchange, state: ServerState, body: unknown, faults: Readonly<Faults>) {
  const validated = validateBody(FimRequestSchema, body);
  if (!validated.ok) return sendError(exchange.res, errors.validationFailed(validated.detail));
  const request = validated.value;
  if (!state.catalogue.find(request.model)?.card.capabilities.completion_fim) {
    return sendError(exchange.res, errors.invalidModel(request.model));
  }
  await respondCompletion(exchange, generateFim(request), request.model, request.stream === true, 'mistral', faults);
}

function handleEmbeddings(exchange: Exchange, state: ServerState, body: unknown) {
  const validated = validateBody(EmbeddingRequestSchema, body);
  if (!validated.ok) return sendError(exchange.res, errors.validationFailed(validated.detail));
  const request = validated.value;
  const dimension = state.catalogue.find(request.model)?.embeddingDimension;
  if (dimension === undefined) return sendError(exchange.res, errors.invalidModel(request.model));
  const inputs = typeof request.input === 'string' ? [request.input] : request.input;
  const { data, usage } = generateEmbeddings(inputs, request.output_dimension ?? dimension, request.encoding_format);
  sendJson(exchange.res, 200, { id: `embd-${hexId()}`, object: 'list', data, model: request.model, usage });
}

async function handle(exchange: Exchange, state: ServerState): Promise<void> {
  const { req, res } = exchange;
  let faults: Readonly<Faults>;
  try {
    faults = parseFaults(headerValue(req, FAULT_HEADER), state.faults);
  } catch (err) {
    return sendError(res, errors.fakeControlError(`${FAULT_HEADER}: ${(err as Error).message}`));
  }
  const raw = await readBody(req);
  const parsed: ParsedBody | undefined = raw === '' ? undefined : parseJsonBody(raw);
  if (state.record) {
    const body = parsed === undefined ? undefined : parsed.ok ? parsed.value : parsed.raw;
    state.requests.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body });
  }

  if (faults.latencyMs > 0) {
    try {
      await delay(faults.latencyMs, undefined, { signal: exchange.signal });
    } catch {
      return; // client went away while we waited
    }
  }
  if (faults.hang) return; // the connection stays open until the client or close() ends it
  if (faults.reset) return exchange.reset();
  if (faults.status !== null) return sendError(res, errors.errorForStatus(faults.status, faults.retryAfterSeconds));

  const path = (req.url ?? '/').split('?', 1)[0]!;
  const route = routeOf(path);
  if (!route) return sendError(res, errors.routeNotFound());
  if (req.method !== route.method) return sendError(res, errors.methodNotAllowed());
  if (!authorized(req, state.apiKey)) return sendError(res, errors.unauthorized());

  switch (route.route) {
    case 'models':
      return sendJson(res, 200, state.catalogue.list);
    case 'model': {
      const model = state.catalogue.find(route.modelId!);
      return model ? sendJson(res, 200, model.card) : sendError(res, errors.modelNotFound(route.modelId!));
    }
  }
  if (parsed === undefined || !parsed.ok) {
    return sendError(res, errors.invalidJson(parsed === undefined ? 'empty body' : parsed.reason));
  }
  switch (route.route) {
    case 'chat':
      return handleChat(exchange, state, parsed.value, faults);
    case 'agents':
      return handleAgentsCompletion(exchange, parsed.value, faults);
    case 'conversations.start':
      return handleConversationStart(exchange, state, parsed.value, faults);
    case 'conversations.append':
      return handleConversationAppend(exchange, state, route.conversationId!, parsed.value, faults);
    case 'conversations.restart':
      return handleConversationRestart(exchange, state, route.conversationId!, parsed.value, faults);
    case 'fim':
      return handleFim(exchange, state, parsed.value, faults);
    case 'embeddings':
      return handleEmbeddings(exchange, state, parsed.value);
  }
}

export async function startFakeMistral(options: FakeMistralOptions = {}): Promise<FakeMistral> {
  const state: ServerState = {
    apiKey: options.apiKey,
    faults: parseFaults(options.faults),
    record: options.record ?? false,
    requests: [],
    aborted: 0,
    closing: false,
    abortWaiters: new Set(),
    catalogue: createModelCatalogue(now()),
    conversations: new Map(),
  };

  const server = createServer((req, res) => {
    const exchange = new Exchange(req, res, state);
    handle(exchange, state).catch(() => {
      if (res.headersSent) res.destroy();
      else sendError(res, errors.serverError(500));
    });
  });
  server.keepAliveTimeout = 60_000;

  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const urlHost = host.includes(':') ? `[${host}]` : host;

  return {
    url: `http://${urlHost}:${port}`,
    port,
    requests: state.requests,
    get aborted() {
      return state.aborted;
    },
    setFaults(spec) {
      state.faults = parseFaults(spec);
    },
    waitForAborted(count, timeoutMs = 2000) {
      return new Promise<void>((resolve, reject) => {
        const check = () => {
          if (state.aborted < count) return;
          clearTimeout(timer);
          state.abortWaiters.delete(check);
          resolve();
        };
        const timer = setTimeout(() => {
          state.abortWaiters.delete(check);
          reject(new Error(`expected ${count} aborted request(s), saw ${state.aborted} after ${timeoutMs} ms`));
        }, timeoutMs);
        state.abortWaiters.add(check);
        check();
      });
    },
    close() {
      state.closing = true;
      return new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      });
    },
  };
}
