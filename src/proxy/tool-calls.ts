/**
 * Governing the tool calls a model returns (pure: no I/O). Each call is judged once it is complete; allowed calls go
 * to the client, denied ones never do. What replaces a denied call depends on the deny mode:
 * - replace: the call is removed and a policy-denial notice is appended to the message content;
 * - strip:   the call is removed silently;
 * - error:   the whole response fails (the caller answers 403 / an in-band error event).
 * A choice whose calls are all removed gets finish_reason "stop" instead of "tool_calls".
 * docs/policies.md ("Tool calls") is the user-facing description.
 */

import { denialNotice, ToolCallDenied, type ToolCallJudge, type ToolCallVerdict, type ToolDenyMode } from '../translators/tool-verdicts.js';
export { denialNotice, parseToolArguments, ToolCallDenied, TOOL_DENY_MODES, type ToolCallJudge, type ToolCallVerdict, type ToolDenyMode } from '../translators/tool-verdicts.js';

type Json = Record<string, unknown>;

interface CompleteCall {
  name: string;
  arguments: string;
}

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Judges `calls` in order; returns the allowed ones and the denial notices (throws ToolCallDenied in error mode). */
function judgeCalls<T>(calls: T[], toCall: (c: T) => CompleteCall, judge: ToolCallJudge, mode: ToolDenyMode, verdicts: ToolCallVerdict[]) {
  const allowed: T[] = [];
  const notices: string[] = [];
  for (const call of calls) {
    const { name, arguments: args } = toCall(call);
    const verdict = judge(name, args);
    verdicts.push(verdict);
    if (verdict.decision === 'allow') allowed.push(call);
    else if (mode === 'error') throw new ToolCallDenied(verdict);
    else if (mode === 'replace') notices.push(denialNotice(verdict));
  }
  return { allowed, notices };
}

function appendText(content: unknown, notices: string[]): string {
  const text = notices.join('\n');
  return typeof content === 'string' && content !== '' ? `${content}\n\n${text}` : text;
}

function callOf(raw: unknown): CompleteCall {
  const call = isObject(raw) ? raw : {};
  const fn = isObject(call.function) ? call.function : {};
  return {
    name: typeof fn.name === 'string' ? fn.name : '',
    arguments: typeof fn.arguments === 'string' ? fn.arguments : fn.arguments === undefined ? '' : JSON.stringify(fn.arguments),
  };
}

/**
 * Governs the tool calls of a non-streamed chat completion, rewriting `body` in place; returns true when it changed
 * (some call was denied). Allowed calls keep their original objects. Each decision is appended to `verdicts`, also
 * when it throws ToolCallDenied (error mode).
 */
export function governResponseToolCalls(body: Json, judge: ToolCallJudge, mode: ToolDenyMode, verdicts: ToolCallVerdict[]): boolean {
  let changed = false;
  const choices = Array.isArray(body.choices) ? body.choices : [];
  for (const choice of choices) {
    if (!isObject(choice) || !isObject(choice.message) || !Array.isArray(choice.message.tool_calls)) continue;
    const message = choice.message;
    const raw = message.tool_calls as unknown[];
    const { allowed, notices } = judgeCalls(raw, callOf, judge, mode, verdicts);
    if (allowed.length === raw.length) continue;
    changed = true;
    if (allowed.length > 0) message.tool_calls = allowed;
    else {
      delete message.tool_calls;
      if (choice.finish_reason === 'tool_calls') choice.finish_reason = 'stop';
    }
    if (notices.length > 0) message.content = appendText(message.content, notices);
  }
  return changed;
}

interface PendingCall {
  index: number;
  id?: unknown;
  type?: unknown;
  name: string;
  arguments: string;
}

interface ChoiceState {
  pending: PendingCall[];
  /** Index the next released call gets: released calls are renumbered 0, 1, ... so the client sees no gaps. */
  nextIndex: number;
}

/**
 * Governs tool calls in a stream of chat.completion.chunk objects. Tool-call deltas are held back until their call is
 * complete (a later call starts in the same choice, the choice finishes, or the stream ends), then the call is judged
 * and released as one complete delta, or replaced per the deny mode. Everything else in a chunk passes unchanged.
 */
export class StreamToolCallGovernor {
  private readonly choices = new Map<number, ChoiceState>();
  /** id/object/created/model of the last chunk, for the chunk that flush() emits. */
  private envelope: Json | null = null;

  constructor(
    private readonly judge: ToolCallJudge,
    private readonly mode: ToolDenyMode,
    /** Receives each decision, in order. */
    readonly verdicts: ToolCallVerdict[] = [],
  ) {}

  /** True while some call is held back: the relay must then look at every event (a finish may not mention tools). */
  get holding(): boolean {
    for (const state of this.choices.values()) if (state.pending.length > 0) return true;
    return false;
  }

  /**
   * Processes one chunk; returns the chunk to send in its place (rewritten in place), or null when nothing of it is
   * left to send. Throws ToolCallDenied in error mode.
   */
  push(chunk: Json): Json | null {
    if (!Array.isArray(chunk.choices)) return chunk;
    const { choices: _c, usage: _u, ...envelope } = chunk;
    this.envelope = envelope;
    let keep = chunk.usage !== undefined && chunk.usage !== null;
    for (const choice of chunk.choices) {
      if (!isObject(choice)) continue;
      const index = typeof choice.index === 'number' ? choice.index : 0;
      const delta = isObject(choice.delta) ? choice.delta : {};
      const state = this.stateOf(index);
      const released: Json[] = [];
      const notices: string[] = [];
      if (Array.isArray(delta.tool_calls)) {
        for (const fragment of delta.tool_calls) this.absorb(state, fragment, released, notices);
        delete delta.tool_calls;
      }
      if (choice.finish_reason !== null && choice.finish_reason !== undefined) {
        this.complete(state, state.pending.length, released, notices);
        if (choice.finish_reason === 'tool_calls' && state.nextIndex === 0) choice.finish_reason = 'stop';
      }
      if (released.length > 0) delta.tool_calls = released;
      if (notices.length > 0) delta.content = appendText(delta.content, notices);
      if (Object.keys(delta).length > 0 || (choice.finish_reason !== null && choice.finish_reason !== undefined)) keep = true;
    }
    return keep ? chunk : null;
  }

  /** At the end of the stream: completes every held call; returns a chunk carrying what they became, or null. */
  flush(): Json | null {
    const choices: Json[] = [];
    for (const [index, state] of this.choices) {
      if (state.pending.length === 0) continue;
      const released: Json[] = [];
      const notices: string[] = [];
      this.complete(state, state.pending.length, released, notices);
      const delta: Json = {};
      if (released.length > 0) delta.tool_calls = released;
      if (notices.length > 0) delta.content = appendText(undefined, notices);
      if (Object.keys(delta).length > 0) choices.push({ index, delta, finish_reason: null });
    }
    return choices.length > 0 ? { ...this.envelope, choices } : null;
  }

  private stateOf(index: number): ChoiceState {
    let state = this.choices.get(index);
    if (!state) {
      state = { pending: [], nextIndex: 0 };
      this.choices.set(index, state);
    }
    return state;
  }

  /** Adds one tool-call delta; a delta for a new call index completes the calls held before it. */
  private absorb(state: ChoiceState, fragment: unknown, released: Json[], notices: string[]): void {
    if (!isObject(fragment)) return;
    const fn = isObject(fragment.function) ? fragment.function : {};
    const index = typeof fragment.index === 'number' ? fragment.index : state.pending.length > 0 ? state.pending[state.pending.length - 1]!.index : 0;
    let call = state.pending.find((c) => c.index === index);
    if (!call) {
      this.complete(state, state.pending.length, released, notices);
      call = { index, name: '', arguments: '' };
      state.pending.push(call);
    }
    if (fragment.id !== undefined) call.id = fragment.id;
    if (fragment.type !== undefined) call.type = fragment.type;
    if (typeof fn.name === 'string') call.name += fn.name;
    if (typeof fn.arguments === 'string') call.arguments += fn.arguments;
    else if (isObject(fn.arguments)) call.arguments = JSON.stringify(fn.arguments);
  }

  /** Judges the first `count` held calls and releases the allowed ones as complete deltas. */
  private complete(state: ChoiceState, count: number, released: Json[], notices: string[]): void {
    if (count === 0) return;
    const calls = state.pending.splice(0, count);
    const result = judgeCalls(calls, (c) => c, this.judge, this.mode, this.verdicts);
    notices.push(...result.notices);
    for (const call of result.allowed) {
      const delta: Json = { index: state.nextIndex++ };
      if (call.id !== undefined) delta.id = call.id;
      delta.type = call.type ?? 'function';
      delta.function = { name: call.name, arguments: call.arguments };
      released.push(delta);
    }
  }
}

const TOOL_CALLS_KEY = '"tool_calls"';

/**
 * True when a JSON text (a response body or a stream event) carries a non-empty `tool_calls` array. Providers send
 * `"tool_calls": null` on every plain message, so a bare substring test would parse every response.
 */
export function carriesToolCalls(text: string | Buffer): boolean {
  for (let at = text.indexOf(TOOL_CALLS_KEY); at >= 0; at = text.indexOf(TOOL_CALLS_KEY, at + 1)) {
    let i = at + TOOL_CALLS_KEY.length;
    let colon = false;
    for (; i < text.length; i++) {
      const c = typeof text === 'string' ? text.charCodeAt(i) : text[i]!;
      if (c === 32 || c === 9 || c === 10 || c === 13) continue;
      if (c === 58 /* : */ && !colon) {
        colon = true;
        continue;
      }
      if (colon && c === 91 /* [ */) return true;
      break;
    }
  }
  return false;
}
