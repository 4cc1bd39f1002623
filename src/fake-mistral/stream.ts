/**
 * SSE writing: one `res.write` per event (never coalesced by us), optional delay between events, and the stream
 * faults. Stops as soon as the exchange is aborted (client gone), so a trickling stream does not outlive its client.
 */
import type { ServerResponse } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';

export const SSE_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache',
} as const;

/** The event a `malformed-sse` fault inserts: its data is not JSON. */
export const MALFORMED_EVENT = 'data: {"id":"malformed","choices":[{\n\n';

export interface SseOptions {
  trickleMs: number;
  /** Write about half of the events, then destroy the socket. */
  resetMidStream: boolean;
  signal: AbortSignal;
  /** Destroys the connection (a `reset-mid-stream` fault, not a client abort). */
  resetConnection: () => void;
}

/** The malformed event after the first one, when asked for. */
function withMalformed(events: string[], malformed: boolean): string[] {
  if (malformed) events.splice(1, 0, MALFORMED_EVENT);
  return events;
}

/** `data:` events for `payloads` (already JSON text), then `data: [DONE]` (chat and FIM completion streams). */
export function sseEvents(payloads: readonly string[], malformed: boolean): string[] {
  const events = withMalformed(payloads.map((p) => `data: ${p}\n\n`), malformed);
  events.push('data: [DONE]\n\n');
  return events;
}

/** Events named by their data's `type` (`event: <type>` then `data: <JSON>`), with no end marker (Conversations streams). */
export function namedSseEvents(payloads: readonly { type: string }[], malformed: boolean): string[] {
  return withMalformed(payloads.map((p) => `event: ${p.type}\ndata: ${JSON.stringify(p)}\n\n`), malformed);
}

const written = (res: ServerResponse, chunk: string) => new Promise<void>((resolve) => res.write(chunk, () => resolve()));

/** Writes `events` (SSE text, from sseEvents / namedSseEvents), applying the stream faults. */
export async function writeSse(res: ServerResponse, events: readonly string[], options: SseOptions): Promise<void> {
  const count = options.resetMidStream ? Math.ceil(events.length / 2) : events.length;
  res.writeHead(200, SSE_HEADERS);
  for (let i = 0; i < count; i++) {
    if (i > 0 && options.trickleMs > 0) {
      try {
        await delay(options.trickleMs, undefined, { signal: options.signal });
      } catch {
        return; // aborted while waiting
      }
    }
    if (options.signal.aborted) return;
    const event = events[i]!;
    if (options.resetMidStream && i === count - 1) {
      await written(res, event);
      options.resetConnection();
      return;
    }
    res.write(event);
  }
  res.end();
}
