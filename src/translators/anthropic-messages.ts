/**
 * Tool-call governance for the Anthropic Messages API (`POST /v1/messages`): the `tool_use` content blocks (client
 * tools; server tools run at Anthropic and are not the client's to govern), complete or streamed as content block
 * events. A denied block becomes a text block carrying the notice (replace), or goes (strip; later block `index`es
 * move down); with no tool_use left, `stop_reason: "tool_use"` becomes `"end_turn"`.
 */
import type { SseEvent } from '../sse/parser.js';
import { HeldCallStream, judgeCall, withoutDenied, type HeldCall } from './held-events.js';
import { toolName } from './judge-calls.js';
import { isObject, sseEvent, type Json, type ToolCallShape, type ToolGovernance } from './types.js';

const STREAM_EVENT_TYPES = new Set<unknown>([
  'message_start',
  'content_block_start',
  'content_block_delta',
  'content_block_stop',
  'message_delta',
  'message_stop',
  'ping',
  'error',
]);

const isToolUse = (block: unknown): block is Json => isObject(block) && block.type === 'tool_use';
/** A tool_use input as the judge's arguments text. */
const inputText = (input: unknown): string => JSON.stringify(input ?? {});

/**
 * A streamed input as the judge's arguments text: the assembled partial_json serialised like a complete block's
 * input, the start block's input when no delta came, the raw text when it does not parse (the judge fails closed).
 */
function streamedInputText(partialJson: string, startInput: unknown): string {
  if (partialJson.trim() === '') return inputText(startInput);
  try {
    return inputText(JSON.parse(partialJson));
  } catch {
    return partialJson;
  }
}

interface ToolUseCall extends HeldCall {
  readonly name: string;
  /** The input of content_block_start (`{}` when streamed: the input comes as partial_json deltas). */
  readonly startInput: unknown;
  partialJson: string;
}

/** Governs the tool_use blocks of a complete message; true when it changed. */
function governMessage(body: Json, ctx: ToolGovernance): boolean {
  if (body.type !== 'message' || !Array.isArray(body.content)) return false;
  const verdictOf = (block: unknown) => (isToolUse(block) ? judgeCall(ctx, toolName(block.name), inputText(block.input)) : null);
  const content = withoutDenied(body.content, verdictOf, ctx, (_block, notice) => ({ type: 'text', text: notice }));
  if (!content) return false;
  body.content = content;
  if (body.stop_reason === 'tool_use' && !content.some(isToolUse)) body.stop_reason = 'end_turn';
  return true;
}

class AnthropicStreamGovernor extends HeldCallStream<ToolUseCall> {
  private readonly toolUses: ToolUseCall[] = [];

  claims(_event: SseEvent, json: Json | null): boolean {
    return STREAM_EVENT_TYPES.has(json?.type);
  }

  protected take(event: SseEvent, json: Json | null): void {
    const blockIndex = typeof json?.type === 'string' && json.type.startsWith('content_block_') && typeof json.index === 'number' ? json.index : null;
    if (json === null || blockIndex === null) {
      if (json?.type === 'message_delta' || json?.type === 'message_stop') this.completeAll();
      return this.enqueue(event, json, null);
    }
    let call = this.openCallAt(blockIndex);
    if (json.type === 'content_block_start' && isToolUse(json.content_block)) {
      const block = json.content_block;
      call = { index: blockIndex, named: event.event !== '', verdict: null, name: toolName(block.name), startInput: block.input, partialJson: '' };
      this.toolUses.push(call);
      this.open(call);
    }
    if (!call) return this.enqueue(event, json, null);
    const delta = json.delta;
    if (json.type === 'content_block_delta' && isObject(delta) && delta.type === 'input_json_delta' && typeof delta.partial_json === 'string') {
      call.partialJson += delta.partial_json;
    }
    this.enqueue(event, json, call);
    if (json.type === 'content_block_stop') this.complete(call);
  }

  protected describe(call: ToolUseCall): { name: string; args: string } {
    return { name: call.name, args: streamedInputText(call.partialJson, call.startInput) };
  }

  protected pass(event: SseEvent, json: Json | null): string {
    if (json === null) return event.raw;
    // message_start carries the message as it starts; a content list there (normally empty) is governed like a body.
    if (json.type === 'message_start' && isObject(json.message) && governMessage(json.message, this.ctx)) return sseEvent(event.event, json);
    if (typeof json.index === 'number' && typeof json.type === 'string' && json.type.startsWith('content_block_')) {
      const index = this.clientIndex(json.index);
      return index === json.index ? event.raw : sseEvent(event.event, { ...json, index });
    }
    const delta = json.delta;
    if (json.type === 'message_delta' && isObject(delta) && delta.stop_reason === 'tool_use' && this.everyToolUseDenied()) {
      return sseEvent(event.event, { ...json, delta: { ...delta, stop_reason: 'end_turn' } });
    }
    return event.raw;
  }

  protected replacement(call: ToolUseCall, notice: string): string {
    const index = this.clientIndex(call.index);
    return this.eventsText(call, [
      { type: 'content_block_start', index, content_block: { type: 'text', text: '' } },
      { type: 'content_block_delta', index, delta: { type: 'text_delta', text: notice } },
      { type: 'content_block_stop', index },
    ]);
  }

  private everyToolUseDenied(): boolean {
    return this.toolUses.length > 0 && this.toolUses.every((call) => call.verdict?.decision === 'deny');
  }
}

export const anthropicMessagesToolCalls: ToolCallShape = {
  name: 'anthropic',

  governResponse: governMessage,

  streamGovernor(ctx: ToolGovernance) {
    return new AnthropicStreamGovernor(ctx);
  },
};
