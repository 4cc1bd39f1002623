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
  malformed: boolean;
  /** Write about half of the events, then destroy the socket. */
  resetMidStream: boolean;
  signal: AbortSignal;
  /** Destroys the connection (a `reset-mid-stream` fault, not a client abort). */
  resetConnection: () => void;
}

/** `data:` events for `payloads` (already JSON text), then `data: [DONE]`. */
export function sseEvents(payloads: readonly string[], malformed: boolean): string[] {
  const events = payloads.map((p) => `data: ${p}\n\n`);
  if (malformed) events.splice(1, 0, MALFORMED_EVENT);
  events.push('data: [DONE]\n\n');
  return events;
}

const written = (res: ServerResponse, chunk: string) => new Promise<void>((resolve) => res.write(chunk, () => resolve()));

export async function writeSse(res: ServerResponse, payloads: readonly string[], options: SseOptions): Promise<void> {
  const events = sseEvents(payloads, options.malformed);
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
