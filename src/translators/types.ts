/**
 * The contract of a wire-API translator's tool-call side (pure, no I/O). One implementation per API shape (OpenAI
 * Chat Completions, OpenAI Responses, Anthropic Messages, Mistral Conversations); the relay runs all of them, so a
 * response governs the same whichever route it came from (docs/policies.md, "Tool calls").
 */
import type { SseEvent } from '../sse/parser.js';
import type { ToolCallJudge, ToolCallVerdict, ToolDenyMode } from './tool-verdicts.js';

export type Json = Record<string, unknown>;

export const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** What governing tool calls needs: the judge, the deny mode and its notice, and the list each decision is appended to, in order. */
export interface ToolGovernance {
  judge: ToolCallJudge;
  mode: ToolDenyMode;
  verdicts: ToolCallVerdict[];
  /** The text that replaces a denied call in replace mode. */
  notice: (verdict: ToolCallVerdict) => string;
}

/** The tool-call side of one wire API. */
export interface ToolCallShape {
  readonly name: string;
  /**
   * Governs every tool call of a complete (non-streamed) JSON response of this API, rewriting `body` in place per
   * `ctx.mode`; returns true when it changed. A body not of this shape is left alone (false). In error mode, throws
   * ToolCallDenied at the first denied call, after appending its verdict.
   */
  governResponse(body: Json, ctx: ToolGovernance): boolean;
  /** A fresh governor for one event stream. */
  streamGovernor(ctx: ToolGovernance): StreamShapeGovernor;
}

/**
 * Governs one event stream of one API. The relay hands it every event it `claims`, and every event at all while it is
 * `holding` (so it can keep the stream's order while a call is held back). Output is SSE text, each event ending with
 * a blank line; an event passed on unchanged is sent as `event.raw` (the upstream's bytes).
 */
export interface StreamShapeGovernor {
  /** True when this event (with its `data` parsed as JSON, null when it is not JSON) is part of this API's stream. */
  claims(event: SseEvent, json: Json | null): boolean;
  /** True while events are held back (a tool call is not complete yet). */
  readonly holding: boolean;
  /** Takes one event; returns the SSE text to send now ('' when nothing yet). Throws ToolCallDenied (error mode). */
  push(event: SseEvent, json: Json | null): string;
  /** End of the stream: judges and releases whatever is still held; returns the SSE text to send. */
  flush(): string;
}

/** One SSE event's text: `event:` line when named, one `data:` line of JSON, blank line. */
export function sseEvent(name: string, data: unknown): string {
  return `${name ? `event: ${name}\n` : ''}data: ${JSON.stringify(data)}\n\n`;
}
