/**
 * Tool-call governance for Mistral's Conversations / Agents API (`POST /v1/conversations`, `/v1/conversations/{id}`,
 * `/v1/conversations/{id}/restart`): the `function.call` entries of `outputs[]`, streamed as `function.call.delta`
 * events. Shapes as in @mistralai/mistralai (FunctionCallEntry, FunctionCallEvent, ConversationEvents). A denied call
 * becomes a `message.output` entry / `message.output.delta` event carrying the notice (replace), or goes (strip; later
 * `output_index`es move down, as the entries of the complete response do). `tool.execution` entries are the server's
 * own connectors, already run: not the client's to govern.
 */
import type { SseEvent } from '../sse/parser.js';
import { argumentsText, HeldCallStream, withoutDenied, type HeldCall } from './held-events.js';
import { judgeToolCall, toolName } from './judge-calls.js';
import { isObject, sseEvent, type Json, type ToolCallShape, type ToolGovernance } from './types.js';

/** The event types of a conversation stream (the SDK's ConversationEvents, which it tells apart by `data.type`). */
const CONVERSATION_EVENT_TYPES = new Set<unknown>([
  'conversation.response.started',
  'conversation.response.done',
  'conversation.response.error',
  'message.output.delta',
  'function.call.delta',
  'tool.execution.started',
  'tool.execution.delta',
  'tool.execution.done',
  'agent.handoff.started',
  'agent.handoff.done',
]);

/**
 * An `outputs[]` entry the SDK reads as a FunctionCallEntry: `type` "function.call", or no `type` at all (the SDK
 * defaults it) with the `tool_call_id` only that entry has.
 */
const isFunctionCallEntry = (entry: unknown): entry is Json =>
  isObject(entry) && (entry.type === 'function.call' || (entry.type === undefined && entry.tool_call_id !== undefined));

/** The fields of `from` among `keys` that it has, in that order. */
function fieldsOf(from: Json, keys: readonly string[]): Json {
  const fields: Json = {};
  for (const key of keys) if (from[key] !== undefined) fields[key] = from[key];
  return fields;
}

/** The message entry that takes a denied call entry's place (same id and times, so the history reads the same). */
function noticeEntry(call: Json, notice: string): Json {
  return { object: 'entry', type: 'message.output', ...fieldsOf(call, ['created_at', 'completed_at', 'agent_id', 'model', 'id']), role: 'assistant', content: notice };
}

interface ConversationsCall extends HeldCall {
  /** output_index and id: what tells one streamed call from another. */
  readonly key: string;
  /** The first delta: its name and tool_call_id are the call's, its other fields go to a notice in its place. */
  readonly first: Json;
  args: string;
}

/**
 * A call's deltas are held (and every event after them, to keep the order) until the call is complete: a delta of
 * another output_index or id starts, another event of the response arrives, or the stream ends. Then it is judged and
 * its events released as they came (allowed), dropped (strip) or replaced by one `message.output.delta` (replace).
 */
/** Governs the function.call entries of an `outputs` list (a complete response); true when it changed. */
function governOutputs(body: Json, ctx: ToolGovernance): boolean {
  if (!Array.isArray(body.outputs)) return false;
  const verdictOf = (entry: unknown) => (isFunctionCallEntry(entry) ? judgeToolCall(ctx, entry.name, entry.arguments) : null);
  const outputs = withoutDenied(body.outputs, verdictOf, ctx, noticeEntry);
  if (!outputs) return false;
  body.outputs = outputs;
  return true;
}

class ConversationsStreamGovernor extends HeldCallStream<ConversationsCall> {
  /** Every call seen, by key: deltas resuming a completed call are judged with all its arguments, as a client merging by id sees them. */
  private readonly callsByKey = new Map<string, ConversationsCall>();
  /** Deltas given their call's name / tool_call_id (a client must see one call under one name). */
  private readonly rewritten = new WeakSet<Json>();

  claims(_event: SseEvent, json: Json | null): boolean {
    return CONVERSATION_EVENT_TYPES.has(json?.type);
  }

  protected take(event: SseEvent, json: Json | null): void {
    if (json?.type === 'function.call.delta') return this.takeDelta(event, json);
    // Any other event of the response completes the call held; others (comments, foreign events) just wait their turn.
    if (this.claims(event, json)) this.completeAll();
    this.enqueue(event, json, null);
  }

  protected describe(call: ConversationsCall): { name: string; args: string } {
    return { name: toolName(call.first.name), args: call.args };
  }

  protected pass(event: SseEvent, json: Json | null): string {
    if (json === null || !this.claims(event, json)) return event.raw;
    // An event carrying whole entries (not in the published events, but a client would read them) is governed whole.
    if (governOutputs(json, this.ctx)) return sseEvent(event.event, json);
    const outputIndex = typeof json.output_index === 'number' ? this.clientIndex(json.output_index) : json.output_index;
    if (outputIndex === json.output_index && !this.rewritten.has(json)) return event.raw;
    return sseEvent(event.event, { ...json, output_index: outputIndex });
  }

  protected replacement(call: ConversationsCall, notice: string): string {
    const { first } = call;
    return this.eventsText(call, [
      {
        type: 'message.output.delta',
        ...fieldsOf(first, ['created_at']),
        output_index: this.clientIndex(call.index),
        id: first.id,
        content_index: 0,
        ...fieldsOf(first, ['model', 'agent_id']),
        role: 'assistant',
        content: notice,
      },
    ]);
  }

  private takeDelta(event: SseEvent, json: Json): void {
    const index = typeof json.output_index === 'number' ? json.output_index : 0; // the SDK's default
    const key = JSON.stringify([index, json.id]);
    let call = this.openCallAt(index);
    if (call?.key !== key) {
      this.completeAll();
      const earlier = this.callsByKey.get(key);
      call = { index, named: event.event !== '', verdict: null, key, first: earlier?.first ?? json, args: earlier?.args ?? '' };
      this.callsByKey.set(key, call);
      this.open(call);
    }
    for (const field of ['name', 'tool_call_id']) {
      const value = json[field];
      if (value !== undefined && value !== '' && value !== call.first[field]) {
        json[field] = call.first[field];
        this.rewritten.add(json);
      }
    }
    call.args += argumentsText(json.arguments);
    this.enqueue(event, json, call);
  }
}

export const mistralConversationsToolCalls: ToolCallShape = {
  name: 'conversations',

  governResponse: governOutputs,

  streamGovernor(ctx: ToolGovernance) {
    return new ConversationsStreamGovernor(ctx);
  },
};
