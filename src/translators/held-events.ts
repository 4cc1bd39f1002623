/**
 * What the event-stream translators whose tool calls are items of an indexed list (e.g. OpenAI Responses
 * `output_index`, Anthropic Messages content block `index`) share: judging one call, rewriting a complete list per the deny mode, and
 * a stream governor that holds a call's events (and every event after them, to keep the order) until the call is
 * judged, then releases them, replaces them or drops them and renumbers the later indices.
 */
import type { SseEvent } from '../sse/parser.js';
import { ToolCallDenied, type ToolCallVerdict } from './tool-verdicts.js';
import { sseEvent, type Json, type StreamShapeGovernor, type ToolGovernance } from './types.js';

/** Judges one complete call and records the verdict; throws ToolCallDenied (error mode) after recording it. */
export function judgeCall(ctx: ToolGovernance, name: string, args: string): ToolCallVerdict {
  const verdict = ctx.judge(name, args);
  ctx.verdicts.push(verdict);
  if (verdict.decision === 'deny' && ctx.mode === 'error') throw new ToolCallDenied(verdict);
  return verdict;
}

/**
 * `items` with every denied call replaced by `replacement(call, notice)` (replace mode) or removed (strip); null when
 * no item was denied. `verdictOf` is null for items that are not calls; it is called once per item, in order.
 */
export function withoutDenied(
  items: readonly unknown[],
  verdictOf: (item: unknown, index: number) => ToolCallVerdict | null,
  ctx: Pick<ToolGovernance, 'mode' | 'notice'>,
  replacement: (call: Json, notice: string) => Json,
): unknown[] | null {
  let denied = false;
  const kept: unknown[] = [];
  items.forEach((item, index) => {
    const verdict = verdictOf(item, index);
    if (verdict === null || verdict.decision === 'allow') kept.push(item);
    else {
      denied = true;
      if (ctx.mode === 'replace') kept.push(replacement(item as Json, ctx.notice(verdict)));
    }
  });
  return denied ? kept : null;
}

/** A call's arguments as the judge's text: strings as they are, anything else serialised. */
export function argumentsText(value: unknown): string {
  return typeof value === 'string' ? value : value === undefined ? '' : JSON.stringify(value);
}

/** One call held back: where it sits upstream, and its verdict once judged. */
export interface HeldCall {
  /** Its index in the upstream's list (output_index, content block index). */
  readonly index: number;
  /** Whether the upstream names its events (`event:` line), so the ones made in its place are named alike. */
  readonly named: boolean;
  verdict: ToolCallVerdict | null;
}

interface QueuedEvent<C> {
  event: SseEvent;
  json: Json | null;
  /** The call this event is part of, null for any other event. */
  call: C | null;
}

/**
 * The stream side. A subclass classifies each event (`take`: `open` a call, `enqueue` the event with the call it
 * belongs to, `complete` the call when it is whole) and says how events are written (`pass`) and what replaces a
 * denied call (`replacement`). Events leave in arrival order once every call before them is judged.
 */
export abstract class HeldCallStream<C extends HeldCall> implements StreamShapeGovernor {
  private readonly queue: QueuedEvent<C>[] = [];
  /** Calls started and not yet judged, by upstream index. */
  private readonly openCalls = new Map<number, C>();
  /** Upstream indices of the calls removed (strip): later indices move down by one per removed call before them. */
  private readonly removedIndices: number[] = [];
  /** Denied calls already replaced or removed at their first event; their other events are dropped. */
  private readonly replacedOrRemoved = new WeakSet<C>();

  constructor(protected readonly ctx: ToolGovernance) {}

  abstract claims(event: SseEvent, json: Json | null): boolean;

  /**
   * Also true once a call was removed: every later event may carry an index to move down, and the relay hands an
   * event over only while the governor holds or the event's bytes mention a tool call.
   */
  get holding(): boolean {
    return this.queue.length > 0 || this.removedIndices.length > 0;
  }

  push(event: SseEvent, json: Json | null): string {
    this.take(event, json);
    return this.release();
  }

  flush(): string {
    this.completeAll();
    return this.release();
  }

  /** Classifies one event: must `enqueue` it, and may `open` / `complete` calls. */
  protected abstract take(event: SseEvent, json: Json | null): void;
  /** The name and arguments text the judge gets for a complete call. */
  protected abstract describe(call: C): { name: string; args: string };
  /** An event not part of a denied call, as sent to the client (`event.raw` when nothing of it changes). */
  protected abstract pass(event: SseEvent, json: Json | null): string;
  /** The events that take a denied call's place in replace mode. */
  protected abstract replacement(call: C, notice: string): string;

  protected open(call: C): void {
    const previous = this.openCalls.get(call.index);
    if (previous) this.complete(previous); // a malformed stream restarting an index must not strand the first call
    this.openCalls.set(call.index, call);
  }

  protected openCallAt(index: number): C | undefined {
    return this.openCalls.get(index);
  }

  protected enqueue(event: SseEvent, json: Json | null, call: C | null): void {
    this.queue.push({ event, json, call });
  }

  protected complete(call: C): void {
    this.openCalls.delete(call.index);
    const { name, args } = this.describe(call);
    call.verdict = judgeCall(this.ctx, name, args);
  }

  /** Judges every open call, in the order they started (the end of the message / stream completes them). */
  protected completeAll(): void {
    for (const call of [...this.openCalls.values()]) this.complete(call);
  }

  /** Events made in place of `call`, as SSE text, named by their type when the upstream names its events. */
  protected eventsText(call: C, events: Json[]): string {
    return events.map((data) => sseEvent(call.named ? String(data.type) : '', data)).join('');
  }

  /** Where an upstream index lands for the client, after the calls removed before it. */
  protected clientIndex(upstream: number): number {
    return upstream - this.removedIndices.filter((removed) => removed < upstream).length;
  }

  /** Sends every queued event up to the first one of a call not yet judged. */
  private release(): string {
    let out = '';
    let sent = 0;
    for (const { event, json, call } of this.queue) {
      if (call === null || call.verdict?.decision === 'allow') out += this.pass(event, json);
      else if (call.verdict === null) break;
      else if (!this.replacedOrRemoved.has(call)) {
        this.replacedOrRemoved.add(call);
        if (this.ctx.mode === 'replace') out += this.replacement(call, this.ctx.notice(call.verdict));
        else this.removedIndices.push(call.index);
      }
      sent++;
    }
    this.queue.splice(0, sent);
    return out;
  }
}
