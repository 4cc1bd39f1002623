/**
 * Tool-call governance for the OpenAI Responses API (`POST /v1/responses`): the `function_call` and
 * `custom_tool_call` items of `output[]`, complete or streamed as `response.*` events. A denied call's item becomes an
 * assistant message carrying the notice (replace), or goes (strip; later `output_index`es move down).
 */
import type { SseEvent } from '../sse/parser.js';
import { argumentsText, HeldCallStream, withoutDenied, type HeldCall } from './held-events.js';
import { judgeToolCall, toolName } from './judge-calls.js';
import type { ToolCallVerdict } from './tool-verdicts.js';
import { isObject, sseEvent, type Json, type ToolCallShape, type ToolGovernance } from './types.js';

/** An output item type that calls one of the client's tools: the field and the events that carry its arguments. */
interface CallItemKind {
  argumentsField: 'arguments' | 'input';
  deltaType: string;
  doneType: string;
}

const CALL_ITEM_KINDS = new Map<unknown, CallItemKind>([
  ['function_call', { argumentsField: 'arguments', deltaType: 'response.function_call_arguments.delta', doneType: 'response.function_call_arguments.done' }],
  ['custom_tool_call', { argumentsField: 'input', deltaType: 'response.custom_tool_call_input.delta', doneType: 'response.custom_tool_call_input.done' }],
]);

/** Events that end the response; their `response.output` is final, so every call still open is complete. */
const TERMINAL_EVENTS = new Set(['response.completed', 'response.incomplete', 'response.failed']);

const callKind = (item: unknown): CallItemKind | undefined => (isObject(item) ? CALL_ITEM_KINDS.get(item.type) : undefined);

function judgeItem(ctx: ToolGovernance, item: Json, kind: CallItemKind): ToolCallVerdict {
  return judgeToolCall(ctx, item.name, item[kind.argumentsField]);
}

/** How a call is recognised across events and `response.output`: its item id, else its call_id, else its position. */
function itemKey(item: Json, index: number): string {
  if (typeof item.id === 'string') return `id:${item.id}`;
  return typeof item.call_id === 'string' ? `call:${item.call_id}` : `#${index}`;
}

const noticePart = (text: string): Json => ({ type: 'output_text', text, annotations: [] });

/** The completed assistant message that takes a denied call item's place (same id, so stream and snapshot agree). */
function noticeMessage(call: Json, notice: string): Json {
  const id = typeof call.id === 'string' ? call.id : typeof call.call_id === 'string' ? call.call_id : '';
  return { type: 'message', id, role: 'assistant', status: 'completed', content: [noticePart(notice)] };
}

interface ResponsesCall extends HeldCall {
  readonly kind: CallItemKind;
  readonly key: string;
  /** The item as last seen (added, then done). */
  item: Json;
  name: string;
  /** The deltas so far; replaced by the arguments of a later done event, which are authoritative. */
  args: string;
  /** sequence_number of each of its events, reused by the events that replace it. */
  readonly sequenceNumbers: number[];
}

class ResponsesStreamGovernor extends HeldCallStream<ResponsesCall> {
  /** Every call judged so far (streamed or only seen in a response snapshot), by itemKey. */
  private readonly callsByKey = new Map<string, { verdict: ToolCallVerdict | null }>();

  claims(_event: SseEvent, json: Json | null): boolean {
    return typeof json?.type === 'string' && json.type.startsWith('response.');
  }

  protected take(event: SseEvent, json: Json | null): void {
    if (json === null) return this.enqueue(event, json, null);
    const index = typeof json.output_index === 'number' ? json.output_index : null;
    let call = index === null ? undefined : this.openCallAt(index);
    const kind = callKind(json.item);
    const startsCall = json.type === 'response.output_item.added' || (json.type === 'response.output_item.done' && !call);
    if (index !== null && kind && startsCall) call = this.start(event, index, json.item as Json, kind);
    if (!call) {
      if (isObject(json.response) && Array.isArray(json.response.output)) this.judgeSnapshot(json.response.output, TERMINAL_EVENTS.has(json.type as string));
      return this.enqueue(event, json, null);
    }
    if (typeof json.sequence_number === 'number') call.sequenceNumbers.push(json.sequence_number);
    if (json.type === call.kind.deltaType && typeof json.delta === 'string') call.args += json.delta;
    if (json.type === call.kind.doneType) this.absorb(call, json);
    if (isObject(json.item)) {
      call.item = json.item;
      this.absorb(call, json.item);
    }
    this.enqueue(event, json, call);
    if (json.type === 'response.output_item.done') this.complete(call);
  }

  protected describe(call: ResponsesCall): { name: string; args: string } {
    return { name: call.name, args: call.args };
  }

  protected pass(event: SseEvent, json: Json | null): string {
    if (json === null) return event.raw;
    let sent = json;
    if (typeof json.output_index === 'number') {
      const outputIndex = this.clientIndex(json.output_index);
      if (outputIndex !== json.output_index) sent = { ...sent, output_index: outputIndex };
    }
    const response = json.response;
    if (isObject(response) && Array.isArray(response.output)) {
      const verdictOf = (item: unknown, index: number) => (callKind(item) ? (this.callsByKey.get(itemKey(item as Json, index))?.verdict ?? null) : null);
      const output = withoutDenied(response.output, verdictOf, this.ctx, noticeMessage);
      if (output) sent = { ...sent, response: { ...response, output } };
    }
    return sent === json ? event.raw : sseEvent(event.event, sent);
  }

  protected replacement(call: ResponsesCall, notice: string): string {
    const output_index = this.clientIndex(call.index);
    const message = noticeMessage(call.item, notice);
    const item_id = message.id;
    const content_index = 0;
    const events: Json[] = [
      { type: 'response.output_item.added', output_index, item: { ...message, status: 'in_progress', content: [] } },
      { type: 'response.content_part.added', item_id, output_index, content_index, part: noticePart('') },
      { type: 'response.output_text.delta', item_id, output_index, content_index, delta: notice, logprobs: [] },
      { type: 'response.output_text.done', item_id, output_index, content_index, text: notice, logprobs: [] },
      { type: 'response.content_part.done', item_id, output_index, content_index, part: noticePart(notice) },
      { type: 'response.output_item.done', output_index, item: message },
    ];
    // Numbers from the call's own events, so the stream never shows one belonging to another event.
    const { sequenceNumbers } = call;
    const numbered = events.map((data, i) => {
      const sequence_number = sequenceNumbers[Math.min(i, sequenceNumbers.length - 1)];
      return sequence_number === undefined ? data : { ...data, sequence_number };
    });
    return this.eventsText(call, numbered);
  }

  private start(event: SseEvent, index: number, item: Json, kind: CallItemKind): ResponsesCall {
    const call: ResponsesCall = { index, named: event.event !== '', verdict: null, kind, key: itemKey(item, index), item, name: '', args: '', sequenceNumbers: [] };
    this.callsByKey.set(call.key, call);
    this.open(call);
    return call;
  }

  /** Takes the name and arguments a done event or an item carries (later events win). */
  private absorb(call: ResponsesCall, source: Json): void {
    if (source.name !== undefined) call.name = toolName(source.name);
    const args = source[call.kind.argumentsField];
    if (args !== undefined) call.args = argumentsText(args);
  }

  /**
   * A response snapshot: judges the call items not seen streamed; a terminal one also completes the calls still open
   * (taking their final item from it).
   */
  private judgeSnapshot(output: unknown[], terminal: boolean): void {
    output.forEach((item, index) => {
      const kind = callKind(item);
      if (!kind) return;
      const open = this.openCallAt(index);
      if (open) {
        if (!terminal) return;
        open.item = item as Json;
        this.absorb(open, item as Json);
        return this.complete(open);
      }
      const key = itemKey(item as Json, index);
      if (!this.callsByKey.has(key)) this.callsByKey.set(key, { verdict: judgeItem(this.ctx, item as Json, kind) });
    });
    if (terminal) this.completeAll();
  }
}

export const openaiResponsesToolCalls: ToolCallShape = {
  name: 'responses',

  governResponse(body: Json, ctx: ToolGovernance): boolean {
    if (!Array.isArray(body.output)) return false;
    const verdictOf = (item: unknown) => {
      const kind = callKind(item);
      return kind ? judgeItem(ctx, item as Json, kind) : null;
    };
    const output = withoutDenied(body.output, verdictOf, ctx, noticeMessage);
    if (!output) return false;
    body.output = output;
    return true;
  },

  streamGovernor(ctx: ToolGovernance) {
    return new ResponsesStreamGovernor(ctx);
  },
};
