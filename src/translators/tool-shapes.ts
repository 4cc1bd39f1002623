/**
 * Tool-call governance over every wire API at once (pure). A response is governed in whichever shapes it carries
 * tool calls (chat `tool_calls` and legacy `function_call`, Responses `function_call` items, Anthropic `tool_use`
 * blocks, Mistral Conversations `function.call` entries), whatever route it came from: the gateway fails closed on
 * responses it was not told to expect. What costs nothing on most responses is the byte scan `mayCarryToolCalls`:
 * only a body or event it flags is parsed.
 */
import type { SseEvent } from '../sse/parser.js';
import { anthropicMessagesToolCalls } from './anthropic-messages.js';
import { chatCompletionsToolCalls } from './chat-completions.js';
import { mistralConversationsToolCalls } from './mistral-conversations.js';
import { openaiResponsesToolCalls } from './openai-responses.js';
import { sseEvent, type Json, type StreamShapeGovernor, type ToolCallShape, type ToolGovernance } from './types.js';

export const TOOL_CALL_SHAPES: readonly ToolCallShape[] = [chatCompletionsToolCalls, openaiResponsesToolCalls, anthropicMessagesToolCalls, mistralConversationsToolCalls];

/** Governs a complete JSON response in every shape; true when it changed. Throws ToolCallDenied in error mode. */
export function governResponse(body: Json, ctx: ToolGovernance): boolean {
  let changed = false;
  for (const shape of TOOL_CALL_SHAPES) if (shape.governResponse(body, ctx)) changed = true;
  return changed;
}

/**
 * Governs one event stream: each event goes to the shape governor holding a call, else to the one claiming it. The
 * shape governors (and the governance context) are made on the first event that needs them: most streams carry no
 * tool call and never do.
 */
export class StreamGovernor {
  private governors: StreamShapeGovernor[] | null = null;
  private ctx: ToolGovernance | null = null;

  constructor(private readonly context: () => ToolGovernance) {}

  get holding(): boolean {
    if (!this.governors) return false;
    for (const g of this.governors) if (g.holding) return true;
    return false;
  }

  /** The SSE text to send for `event`. Throws ToolCallDenied in error mode. */
  push(event: SseEvent, json: Json | null): string {
    const ctx = (this.ctx ??= this.context());
    const governors = (this.governors ??= TOOL_CALL_SHAPES.map((shape) => shape.streamGovernor(ctx)));
    let target: StreamShapeGovernor | undefined;
    for (const g of governors) if (g.holding) target = g;
    target ??= governors.find((g) => g.claims(event, json));
    if (target) return target.push(event, json);
    // An event no API's stream claims may still hold a complete response of some shape: governed whole.
    return json && governResponse(json, ctx) ? sseEvent(event.event, json) : event.raw;
  }

  flush(): string {
    if (!this.governors) return '';
    let out = '';
    for (const g of this.governors) out += g.flush();
    return out;
  }
}

/**
 * Names whose presence means a body or event may hold tool calls. `"<name>": null` (sent on every plain message by
 * some providers) is not a reason to parse. An escaped ASCII character (`\u0000`-`\u007f`) is: JSON keys may be
 * written escaped (`"tool\u005fcalls"`), and every marker is ASCII. Escaped non-ASCII text (`ensure_ascii` JSON) is not.
 */
const MARKERS = ['tool_calls', 'function_call', 'custom_tool_call', 'tool_use', 'function.call'];
/**
 * Every marker holds one of two anchors, so a body is scanned twice (natively, by indexOf), not once per marker;
 * each anchor hit is then checked against the markers that hold it.
 */
const ANCHORS = ['tool_', 'function'].map((anchor) => ({
  bytes: Buffer.from(anchor),
  markers: MARKERS.filter((m) => m.includes(anchor)).map((m) => ({ bytes: Buffer.from(m), offset: m.indexOf(anchor) })),
}));
const ESCAPE = Buffer.from('\\u00');

/** True when `bytes` holds a `\u00XX` escape of an ASCII character. */
function hasEscapedAscii(bytes: Buffer): boolean {
  for (let at = bytes.indexOf(ESCAPE); at >= 0; at = bytes.indexOf(ESCAPE, at + 1)) {
    const digit = bytes[at + 4];
    if (digit !== undefined && digit >= 48 && digit <= 55) return true;
  }
  return false;
}

function isSpace(c: number | undefined): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13;
}

/** True when the occurrence of a marker at `at` is exactly `"<marker>" : null`. */
function isNullKey(bytes: Buffer, at: number, length: number): boolean {
  if (bytes[at - 1] !== 34 || bytes[at + length] !== 34) return false;
  let i = at + length + 1;
  while (isSpace(bytes[i])) i++;
  if (bytes[i] !== 58) return false;
  i++;
  while (isSpace(bytes[i])) i++;
  return bytes[i] === 110 && bytes[i + 1] === 117 && bytes[i + 2] === 108 && bytes[i + 3] === 108;
}

/** True unless `text` certainly holds no tool call in any known shape (the cheap test in front of every parse). */
export function mayCarryToolCalls(text: Buffer | string): boolean {
  const bytes = typeof text === 'string' ? Buffer.from(text) : text;
  if (hasEscapedAscii(bytes)) return true;
  for (const anchor of ANCHORS) {
    for (let at = bytes.indexOf(anchor.bytes); at >= 0; at = bytes.indexOf(anchor.bytes, at + 1)) {
      for (const marker of anchor.markers) {
        const start = at - marker.offset;
        const end = start + marker.bytes.length;
        if (start < 0 || end > bytes.length || bytes.compare(marker.bytes, 0, marker.bytes.length, start, end) !== 0) continue;
        if (!isNullKey(bytes, start, marker.bytes.length)) return true;
      }
    }
  }
  return false;
}
