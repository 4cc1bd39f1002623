/**
 * Incremental server-sent-events parser (WHATWG event-stream rules), pure: feed it bytes as they arrive and it returns
 * the events completed by them. Each event also carries the exact raw text it was parsed from, so a caller that
 * forwards events can pass the upstream's bytes through unchanged.
 */
export interface SseEvent {
  /** The `event:` field, or "" when absent (meaning "message"). */
  event: string;
  /** The `data:` lines joined with "\n". */
  data: string;
  id: string | undefined;
  /** The event's raw text including its terminating blank line. */
  raw: string;
}

export class SseParser {
  private buffer = '';
  private readonly decoder = new TextDecoder('utf-8');

  /** Parses newly received bytes; returns the events they complete (in order). */
  push(chunk: Uint8Array | string): SseEvent[] {
    this.buffer += typeof chunk === 'string' ? chunk : this.decoder.decode(chunk, { stream: true });
    const events: SseEvent[] = [];
    let start = 0;
    for (;;) {
      const end = findEventEnd(this.buffer, start);
      if (end < 0) break;
      const raw = this.buffer.slice(start, end);
      events.push(parseEvent(raw));
      start = end;
    }
    if (start > 0) this.buffer = this.buffer.slice(start);
    return events;
  }

  /** Text received but not yet terminated by a blank line. */
  get pending(): string {
    return this.buffer;
  }
}

/** Index just past the blank line ending the first event at or after `from`, or -1. Accepts \n, \r\n and \r. */
function findEventEnd(text: string, from: number): number {
  for (let i = from; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c !== 10 && c !== 13) continue;
    // End of one line at i; the line break is \r\n, \n or \r.
    let next = i + 1;
    if (c === 13) {
      if (next >= text.length) return -1; // might be \r\n split across chunks
      if (text.charCodeAt(next) === 10) next++;
    }
    const d = text.charCodeAt(next);
    if (d === 10) return next + 1;
    if (d === 13) {
      if (next + 1 >= text.length) return -1;
      return text.charCodeAt(next + 1) === 10 ? next + 2 : next + 1;
    }
    i = next - 1;
  }
  return -1;
}

function parseEvent(raw: string): SseEvent {
  let event = '';
  let id: string | undefined;
  const data: string[] = [];
  for (const line of raw.split(/\r\n|\r|\n/)) {
    if (line === '' || line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') data.push(value);
    else if (field === 'event') event = value;
    else if (field === 'id') id = value;
  }
  return { event, data: data.join('\n'), id, raw };
}
