/**
 * Tool-call governance for OpenAI Chat Completions (and the providers speaking it: Mistral, DeepSeek, ...): the
 * `tool_calls` (function and custom tools) and legacy `function_call` of `choices[].message`, streamed as
 * `choices[].delta` fragments. A denied call is removed; replace mode appends its notice to the content, error mode
 * throws ToolCallDenied. A choice left without any call gets finish_reason "stop" instead of "tool_calls" /
 * "function_call", so clients do not wait for calls that never come. docs/policies.md ("Tool calls").
 */
import type { SseEvent } from '../sse/parser.js';
import { judgeToolCall } from './judge-calls.js';
import { isObject, sseEvent, type Json, type StreamShapeGovernor, type ToolCallShape, type ToolGovernance } from './types.js';

/** A call's raw name and arguments, before they become the judge's text. */
interface CallParts {
  name: unknown;
  args: unknown;
}

const CALL_FINISH_REASONS = new Set<unknown>(['tool_calls', 'function_call']);

/** Custom tools carry `custom: {name, input}`; function tools (and every other type) `function: {name, arguments}`. */
function partsOf(call: Json, custom: boolean): CallParts {
  const body = custom ? call.custom : call.function;
  if (!isObject(body)) return { name: undefined, args: undefined };
  return { name: body.name, args: custom ? body.input : body.arguments };
}

const toolCallParts = (call: unknown): CallParts => (isObject(call) ? partsOf(call, call.type === 'custom') : { name: undefined, args: undefined });
const functionCallParts = (call: Json): CallParts => ({ name: call.name, args: call.arguments });

/** Judges `calls` in order; returns the allowed ones and, in replace mode, the notices of the denied ones. */
function judgeCalls<T>(calls: readonly T[], partsOfCall: (call: T) => CallParts, ctx: ToolGovernance): { allowed: T[]; notices: string[] } {
  const allowed: T[] = [];
  const notices: string[] = [];
  for (const call of calls) {
    const { name, args } = partsOfCall(call);
    const verdict = judgeToolCall(ctx, name, args);
    if (verdict.decision === 'allow') allowed.push(call);
    else if (ctx.mode === 'replace') notices.push(ctx.notice(verdict));
  }
  return { allowed, notices };
}

/** Content with the notices appended: after a blank line when there is text; as a text part to a list of parts. */
function withNotices(content: unknown, notices: string[]): unknown {
  const text = notices.join('\n');
  if (Array.isArray(content)) return [...content, { type: 'text', text }];
  return typeof content === 'string' && content !== '' ? `${content}\n\n${text}` : text;
}

/** Governs the complete message of one choice, in place; true when it changed. */
function governMessage(choice: Json, message: Json, ctx: ToolGovernance): boolean {
  const toolCalls: unknown[] = Array.isArray(message.tool_calls) ? message.tool_calls : [];
  const functionCalls = isObject(message.function_call) ? [message.function_call] : [];
  const tools = judgeCalls(toolCalls, toolCallParts, ctx);
  const functions = judgeCalls(functionCalls, functionCallParts, ctx);
  if (tools.allowed.length === toolCalls.length && functions.allowed.length === functionCalls.length) return false;
  if (tools.allowed.length < toolCalls.length) {
    if (tools.allowed.length > 0) message.tool_calls = tools.allowed;
    else delete message.tool_calls;
  }
  if (functions.allowed.length < functionCalls.length) delete message.function_call;
  const notices = [...tools.notices, ...functions.notices];
  if (notices.length > 0) message.content = withNotices(message.content, notices);
  if (tools.allowed.length + functions.allowed.length === 0 && CALL_FINISH_REASONS.has(choice.finish_reason)) choice.finish_reason = 'stop';
  return true;
}

/** A tool call being assembled from stream fragments. */
interface HeldToolCall {
  /** The upstream `index` of its first fragment (absent in some OpenAI-compatible streams). */
  readonly index: number | undefined;
  id: string | undefined;
  readonly custom: boolean;
  name: string;
  args: string;
  /** Which `tool_calls` delta of its choice started it (1, 2, ...). */
  readonly startedIn: number;
}

/** A legacy `function_call` being assembled (one per choice: it has no index). */
interface HeldFunctionCall {
  name: string;
  args: string;
}

interface ChoiceState {
  /** Held tool calls, in the order they started. */
  held: HeldToolCall[];
  /** The call each fragment of the previous `tool_calls` delta went to, by its position in that delta's array. */
  positions: (HeldToolCall | undefined)[];
  toolCallDeltas: number;
  functionCall: HeldFunctionCall | null;
  /** Tool calls released so far; they are renumbered 0, 1, ... so removing one leaves no gap in `index`. */
  released: number;
  functionCallReleased: boolean;
  /** Calls removed so far (denied). */
  removed: number;
}

/** What completing held calls gives one choice's delta: the calls released whole, and the notices. */
interface Release {
  toolCalls: Json[];
  functionCall: Json | null;
  notices: string[];
}

const fragmentId = (fragment: Json): string | undefined => (typeof fragment.id === 'string' && fragment.id !== '' ? fragment.id : undefined);

function latest(calls: readonly HeldToolCall[], matches: (call: HeldToolCall) => boolean): HeldToolCall | undefined {
  for (let i = calls.length - 1; i >= 0; i--) if (matches(calls[i]!)) return calls[i];
  return undefined;
}

/**
 * The keying rule: the held call a fragment of `delta.tool_calls` (at `position` in that array) continues, or
 * undefined when the fragment starts a new call.
 * 1. With a numeric `index`: the latest held call of that index, unless both carry ids and they differ (a new id is a
 *    new call).
 * 2. Else with an `id`: the held call of that id.
 * 3. Else (neither): a fragment naming its function starts a call; a nameless one continues the call that the same
 *    position of the previous `tool_calls` delta of the choice went to, if still held.
 * So two calls without `index` never merge: they differ in id, in position, or each comes with its own name.
 */
function heldCallFor(state: ChoiceState, fragment: Json, position: number): HeldToolCall | undefined {
  const id = fragmentId(fragment);
  if (typeof fragment.index === 'number') {
    const call = latest(state.held, (c) => c.index === fragment.index);
    return call && (id === undefined || call.id === undefined || call.id === id) ? call : undefined;
  }
  if (id !== undefined) return latest(state.held, (c) => c.id === id);
  const { name } = partsOf(fragment, fragment.type === 'custom');
  if (typeof name === 'string' && name !== '') return undefined;
  const call = state.positions[position];
  return call && state.held.includes(call) ? call : undefined;
}

/** Adds a fragment's pieces: names and arguments text are concatenated; arguments sent as an object replace them. */
function absorb(call: HeldToolCall | HeldFunctionCall, parts: CallParts): void {
  if (typeof parts.name === 'string') call.name += parts.name;
  if (typeof parts.args === 'string') call.args += parts.args;
  else if (parts.args !== undefined && parts.args !== null) call.args = JSON.stringify(parts.args);
}

/** A released call: one delta carrying the whole call, as judged (nothing else of its fragments reaches the client). */
function releasedToolCall(call: HeldToolCall, index: number): Json {
  const delta: Json = { index };
  if (call.id !== undefined) delta.id = call.id;
  if (call.custom) Object.assign(delta, { type: 'custom', custom: { name: call.name, input: call.args } });
  else Object.assign(delta, { type: 'function', function: { name: call.name, arguments: call.args } });
  return delta;
}

/**
 * Governs a stream of chat.completion.chunk events. Tool-call fragments are held back (removed from their chunks)
 * until their call is complete: a later delta of the choice starts another call, the choice finishes, `[DONE]`, or
 * the end. The call is then judged and, if allowed, released whole in the chunk that completed it. Everything else
 * in a chunk (content, role, usage, other choices) passes at once.
 */
class ChatStreamGovernor implements StreamShapeGovernor {
  private readonly choices = new Map<number, ChoiceState>();
  /** The last chunk's fields other than choices and usage, and its event name, for the chunk flush() makes. */
  private envelope: Json = {};
  private eventName = '';

  constructor(private readonly ctx: ToolGovernance) {}

  claims(event: SseEvent, json: Json | null): boolean {
    return json === null ? isDone(event) : Array.isArray(json.choices);
  }

  get holding(): boolean {
    for (const state of this.choices.values()) if (state.held.length > 0 || state.functionCall !== null) return true;
    return false;
  }

  push(event: SseEvent, json: Json | null): string {
    if (json === null || !Array.isArray(json.choices)) return isDone(event) ? this.flush() + event.raw : event.raw;
    const { choices, usage, ...envelope } = json;
    this.envelope = envelope;
    this.eventName = event.event;
    let changed = false;
    for (const choice of choices) if (isObject(choice) && this.governChoice(choice)) changed = true;
    if (!changed) return event.raw;
    const sends = (usage !== undefined && usage !== null) || choices.some(hasSomethingToSend);
    return sends ? sseEvent(event.event, json) : '';
  }

  flush(): string {
    const choices: Json[] = [];
    for (const [index, state] of this.choices) {
      const delta: Json = {};
      writeRelease(delta, this.completeAll(state, emptyRelease()));
      if (Object.keys(delta).length > 0) choices.push({ index, delta, finish_reason: null });
    }
    return choices.length > 0 ? sseEvent(this.eventName, { ...this.envelope, choices }) : '';
  }

  /** Governs one choice of a chunk in place; true when it changed. */
  private governChoice(choice: Json): boolean {
    const state = this.stateOf(typeof choice.index === 'number' ? choice.index : 0);
    const release = emptyRelease();
    // A complete message inside a chunk is governed as one: some clients read it.
    let changed = isObject(choice.message) && governMessage(choice, choice.message, this.ctx);
    const delta = isObject(choice.delta) ? choice.delta : null;
    if (delta && delta.tool_calls !== undefined && delta.tool_calls !== null) {
      if (Array.isArray(delta.tool_calls)) this.absorbToolCalls(state, delta.tool_calls, release);
      delete delta.tool_calls;
      changed = true;
    }
    if (delta && delta.function_call !== undefined && delta.function_call !== null) {
      if (isObject(delta.function_call)) absorb((state.functionCall ??= { name: '', args: '' }), functionCallParts(delta.function_call));
      delete delta.function_call;
      changed = true;
    }
    if (choice.finish_reason !== null && choice.finish_reason !== undefined) {
      this.completeAll(state, release);
      if (CALL_FINISH_REASONS.has(choice.finish_reason) && state.removed > 0 && state.released === 0 && !state.functionCallReleased) {
        choice.finish_reason = 'stop';
        changed = true;
      }
    }
    if (release.toolCalls.length > 0 || release.functionCall !== null || release.notices.length > 0) {
      writeRelease(delta ?? (choice.delta = {}), release);
      changed = true;
    }
    return changed;
  }

  private absorbToolCalls(state: ChoiceState, fragments: unknown[], release: Release): void {
    const delta = ++state.toolCallDeltas;
    const positions: (HeldToolCall | undefined)[] = [];
    fragments.forEach((fragment, position) => {
      if (!isObject(fragment)) return;
      let call = heldCallFor(state, fragment, position);
      if (!call) {
        // Calls stream one after another: a new one completes those held from earlier deltas (not the ones started
        // in this delta: a delta carrying several calls carries them in parallel).
        this.complete(state, state.held.filter((c) => c.startedIn < delta).length, release);
        call = { index: typeof fragment.index === 'number' ? fragment.index : undefined, id: undefined, custom: fragment.type === 'custom', name: '', args: '', startedIn: delta };
        state.held.push(call);
      }
      call.id ??= fragmentId(fragment);
      absorb(call, partsOf(fragment, call.custom));
      positions[position] = call;
    });
    state.positions = positions;
  }

  /** Judges the first `count` held tool calls and releases the allowed ones. */
  private complete(state: ChoiceState, count: number, release: Release): void {
    if (count === 0) return;
    const { allowed, notices } = judgeCalls(state.held.splice(0, count), (c) => ({ name: c.name, args: c.args }), this.ctx);
    for (const call of allowed) release.toolCalls.push(releasedToolCall(call, state.released++));
    state.removed += count - allowed.length;
    release.notices.push(...notices);
  }

  private completeAll(state: ChoiceState, release: Release): Release {
    this.complete(state, state.held.length, release);
    const call = state.functionCall;
    if (call) {
      state.functionCall = null;
      const { allowed, notices } = judgeCalls([call], (c) => ({ name: c.name, args: c.args }), this.ctx);
      if (allowed.length > 0) {
        release.functionCall = { name: call.name, arguments: call.args };
        state.functionCallReleased = true;
      } else state.removed++;
      release.notices.push(...notices);
    }
    return release;
  }

  private stateOf(index: number): ChoiceState {
    let state = this.choices.get(index);
    if (!state) {
      state = { held: [], positions: [], toolCallDeltas: 0, functionCall: null, released: 0, functionCallReleased: false, removed: 0 };
      this.choices.set(index, state);
    }
    return state;
  }
}

const isDone = (event: SseEvent): boolean => event.data.trim() === '[DONE]';

const emptyRelease = (): Release => ({ toolCalls: [], functionCall: null, notices: [] });

function writeRelease(delta: Json, release: Release): void {
  if (release.toolCalls.length > 0) delta.tool_calls = release.toolCalls;
  if (release.functionCall) delta.function_call = release.functionCall;
  if (release.notices.length > 0) delta.content = withNotices(delta.content, release.notices);
}

/** Whether a rewritten choice still tells the client something (else a chunk of only such choices is dropped). */
function hasSomethingToSend(choice: unknown): boolean {
  if (!isObject(choice)) return false;
  if (choice.finish_reason !== null && choice.finish_reason !== undefined) return true;
  return isObject(choice.message) || (isObject(choice.delta) && Object.keys(choice.delta).length > 0);
}

export const chatCompletionsToolCalls: ToolCallShape = {
  name: 'chat',

  governResponse(body: Json, ctx: ToolGovernance): boolean {
    if (!Array.isArray(body.choices)) return false;
    let changed = false;
    for (const choice of body.choices) if (isObject(choice) && isObject(choice.message) && governMessage(choice, choice.message, ctx)) changed = true;
    return changed;
  },

  streamGovernor(ctx: ToolGovernance): StreamShapeGovernor {
    return new ChatStreamGovernor(ctx);
  },
};
