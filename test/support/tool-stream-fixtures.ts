/**
 * Fixtures shared by the tool-call translator tests (chat, Responses, Anthropic, Mistral Conversations): a judge and
 * governance, text and byte cutting, SSE writing, a relay like src/proxy/relay.ts, and the streamed = non-streamed
 * comparison the property tests make. What is one API's own stays in its test file.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { SseParser, type SseEvent } from '../../src/sse/parser.js';
import { mayCarryToolCalls } from '../../src/translators/tool-shapes.js';
import { denialNotice, ToolCallDenied, type ToolCallJudge, type ToolCallVerdict, type ToolDenyMode } from '../../src/translators/tool-verdicts.js';
import { isObject, type Json, type StreamShapeGovernor, type ToolCallShape, type ToolGovernance } from '../../src/translators/types.js';

/** Denies every tool whose name starts with delete_ (case-sensitive: case folding is the policy side's); records what it saw. */
export function judgeDeletes(seen: [string, string][] = []): ToolCallJudge {
  return (name, args) => {
    seen.push([name, args]);
    const deny = name.startsWith('delete_');
    return {
      name,
      decision: deny ? 'deny' : 'allow',
      policy: 'p',
      rule: deny ? 'no-delete' : 'tools',
      reason: deny ? 'denied by rule no-delete of policy p' : 'allowed',
      reason_code: 'RULE_MATCH',
    };
  };
}

/** Fresh governance in `mode` with the judgeDeletes judge (recording into `seen`) and no verdicts yet. */
export const governance = (mode: ToolDenyMode, seen: [string, string][] = []): ToolGovernance => ({ judge: judgeDeletes(seen), mode, verdicts: [], notice: (v) => denialNotice(v) });

/** The verdicts so far as [name, decision] pairs. */
export const decisions = (ctx: ToolGovernance) => ctx.verdicts.map((v) => [v.name, v.decision]);

/** Splits text into pieces at the given code-point offsets (a delta never splits a character, as upstreams do). */
export function pieces(text: string, cuts: number[] = []): string[] {
  const chars = [...text];
  const at = [...new Set(cuts.map((c) => c % (chars.length + 1)))].sort((a, b) => a - b);
  const out: string[] = [];
  let from = 0;
  for (const cut of [...at, chars.length]) {
    if (cut > from) out.push(chars.slice(from, cut).join(''));
    from = Math.max(from, cut);
  }
  return out.length > 0 ? out : [''];
}

/** The UTF-8 bytes of `text` cut at the given byte offsets (possibly inside a character or a CRLF). */
export function byteChunks(text: string, cuts: number[]): Uint8Array[] {
  const bytes = Buffer.from(text, 'utf8');
  const at = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks: Uint8Array[] = [];
  let from = 0;
  for (const cut of [...at, bytes.length]) {
    chunks.push(bytes.subarray(from, cut));
    from = cut;
  }
  return chunks;
}

/** How an upstream writes its SSE text. */
export interface SseStyle {
  /** CRLF line ends instead of LF */
  crlf: boolean;
  /** data written over several `data:` lines (the JSON pretty-printed, one line each) */
  multiline: boolean;
  /** keys written with a JSON escape (`"tool\u005fcalls"`), as a hostile upstream may: the API's SseDialect.escapeKeys */
  escapedKeys?: boolean;
}

/** LF, one `data:` line per event, keys as they are. */
export const PLAIN: SseStyle = { crlf: false, multiline: false, escapedKeys: false };

/** One item of a stream to write: a JSON event, `'[DONE]'` (chat's terminating event) or `'ping'` (a comment line). */
export type SseItem = Json | '[DONE]' | 'ping';

/** What differs between the APIs' streams. */
export interface SseDialect {
  /** each JSON event gets an `event: <its type>` line (Responses, Anthropic and Mistral do; chat does not) */
  eventLines: boolean;
  /** how this API's keys are written escaped, for SseStyle.escapedKeys (applied to the JSON text of each event) */
  escapeKeys?: (json: string) => string;
}

/** The writer of one API's stream text: `sse(events, style)`. */
export function sseWriter(dialect: SseDialect): (events: SseItem[], style?: SseStyle) => string {
  return (events, style = PLAIN) => {
    const nl = style.crlf ? '\r\n' : '\n';
    return events
      .map((e) => {
        if (e === 'ping') return `: ping${nl}${nl}`;
        if (e === '[DONE]') return `data: [DONE]${nl}${nl}`;
        let text = style.multiline ? JSON.stringify(e, null, 1) : JSON.stringify(e);
        if (style.escapedKeys) {
          if (!dialect.escapeKeys) throw new Error('escapedKeys: this API has no escapeKeys');
          text = dialect.escapeKeys(text);
        }
        const name = dialect.eventLines ? `event: ${String(e.type)}${nl}` : '';
        return `${name}${text.split('\n').map((line) => `data: ${line}`).join(nl)}${nl}${nl}`;
      })
      .join('');
  };
}

/** An event's data parsed as a JSON object, as the relay does; null when it is not one. */
export function jsonOf(data: string): Json | null {
  try {
    const value: unknown = JSON.parse(data);
    return isObject(value) ? value : null;
  } catch {
    return null;
  }
}

/** Whether the relay hands `event` to a governor that is not holding. */
export type Routing = (governor: StreamShapeGovernor, event: SseEvent, json: Json | null) => boolean;
/** The contract: the relay hands over what the governor claims. */
export const claimed: Routing = (governor, event, json) => governor.claims(event, json);
/** What src/proxy/relay.ts does: it hands over only events its byte scan `mayCarryToolCalls` flags. */
export const mentioningToolCalls: Routing = (_governor, event) => mayCarryToolCalls(event.raw);

/** What the relay does: parse, route to the governor while it holds (or per `routing`), write the rest through, flush. */
export function relay(governor: StreamShapeGovernor, chunks: (Uint8Array | string)[], routing: Routing = claimed): string {
  const parser = new SseParser();
  let out = '';
  for (const chunk of chunks) {
    for (const event of parser.push(chunk)) {
      const json = jsonOf(event.data);
      out += governor.holding || routing(governor, event, json) ? governor.push(event, json) : event.raw;
    }
  }
  return out + governor.flush();
}

/** Pushes every event of `text` straight to `governor`, in order (no routing, no flush), handing `send` each text it returns. */
export function pushEach(governor: StreamShapeGovernor, text: string, send: (out: string) => void): void {
  for (const event of new SseParser().push(text)) send(governor.push(event, jsonOf(event.data)));
}

/** Every event of a stream, its data parsed as JSON (throws on one that is not). */
export const eventsOf = (text: string): Json[] => new SseParser().push(text).map((e) => JSON.parse(e.data) as Json);

/**
 * `governStream(mode, events, seen?)` for one API: writes `events` with `write`, relays them through a fresh stream
 * governor of `shape` in `mode`; returns the text out, its events as `read` reads them, the governance and its verdicts.
 */
export function streamGovernance<In, Out>(shape: ToolCallShape, write: (events: In[]) => string, read: (text: string) => Out[]) {
  return (mode: ToolDenyMode, events: In[], seen: [string, string][] = []) => {
    const ctx = governance(mode, seen);
    const text = relay(shape.streamGovernor(ctx), [write(events)]);
    return { text, events: read(text), ctx, verdicts: ctx.verdicts };
  };
}

/**
 * Error mode on a complete response whose calls are read_file, then delete_file (then any): governResponse throws
 * ToolCallDenied for delete_file, after recording read_file allowed and delete_file denied, and nothing after.
 */
export function assertErrorStopsAtDeleteFile(shape: ToolCallShape, body: Json): void {
  const ctx = governance('error');
  assert.throws(() => shape.governResponse(body, ctx), (e: unknown) => e instanceof ToolCallDenied && e.verdict.name === 'delete_file');
  assert.deepEqual(decisions(ctx), [['read_file', 'allow'], ['delete_file', 'deny']]);
}

/** governResponse with `ctx` leaves `body` as it was, to the byte, and says so (false). */
export function assertLeftAlone(shape: ToolCallShape, body: Json, ctx: ToolGovernance): void {
  const before = JSON.stringify(body);
  assert.equal(shape.governResponse(body, ctx), false);
  assert.equal(JSON.stringify(body), before);
}

/** True when `run` throws ToolCallDenied, false when it returns; any other error is thrown on. */
function denies(run: () => void): boolean {
  try {
    run();
    return false;
  } catch (e) {
    if (e instanceof ToolCallDenied) return true;
    throw e;
  }
}

/**
 * Streamed = non-streamed, the part every API shares: governs `body` (in place) and relays `chunks`, each with fresh
 * governance in `mode`; asserts the same verdicts and the same denial both ways. Returns whether they denied, the
 * streamed text and the verdicts.
 */
export function governBothWays(shape: ToolCallShape, mode: ToolDenyMode, body: Json, chunks: (Uint8Array | string)[]): { denied: boolean; out: string; verdicts: ToolCallVerdict[] } {
  const plain = governance(mode);
  const plainDenied = denies(() => shape.governResponse(body, plain));
  const streamed = governance(mode);
  let out = '';
  const streamDenied = denies(() => (out = relay(shape.streamGovernor(streamed), chunks)));
  assert.deepEqual(streamed.verdicts, plain.verdicts);
  assert.equal(streamDenied, plainDenied);
  return { denied: plainDenied, out, verdicts: streamed.verdicts };
}

/** Offsets to cut deltas or bytes at (taken modulo the length). */
export const arbitraryCuts = fc.array(fc.nat(), { maxLength: 40 });

/** A deny mode. */
export const arbitraryMode = fc.constantFrom<ToolDenyMode>('replace', 'strip', 'error');

/** What a streamed = non-streamed property varies: up to six `items` (the API's outputs), deny mode, SSE style (from `style`), delta and byte cuts. */
export const arbitraryStreamCase = <T>(items: fc.Arbitrary<T>, style: fc.Arbitrary<SseStyle>) =>
  fc.record({ items: fc.array(items, { maxLength: 6 }), mode: arbitraryMode, style, deltaCuts: arbitraryCuts, byteCuts: arbitraryCuts });

/** A tool call's arguments text: mostly a JSON object, sometimes any text. */
export const arbitraryArguments = fc.oneof(
  { arbitrary: fc.dictionary(fc.string({ unit: 'grapheme', maxLength: 6 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 }).map((o) => JSON.stringify(o)), weight: 5 },
  { arbitrary: fc.string({ unit: 'grapheme', maxLength: 12 }), weight: 1 },
);

/** One output: a call to one of `names` with arbitraryArguments, or a non-empty text. */
export const arbitraryCallOrText = (names: string[]) =>
  fc.oneof(
    fc.record({ kind: fc.constant('call' as const), name: fc.constantFrom(...names), args: arbitraryArguments }),
    fc.record({ kind: fc.constant('text' as const), text: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 20 }) }),
  );
