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

const LF = 10;
const CR = 13;

/** Where the scan is relative to line ends; kept between pushes, so every character is looked at once. */
const enum Scan {
  /** Inside a line (or at the start of an event). */
  InLine,
  /** Just after a line end (\n or \r\n): another line end makes a blank line. */
  AfterLineEnd,
  /** Just after a \r ending a line: a \n may follow as part of it. */
  AfterCr,
  /** Just after a blank line that is a lone \r: the event has ended, with the next \n if one follows. */
  AfterBlankCr,
}

export class SseParser {
  /** Text of the event under way, received in earlier pushes (joined only when the event completes). */
  private pieces: string[] = [];
  private scan = Scan.InLine;
  /**
   * The bytes of a UTF-8 character a read began and the next one finishes (kept here, not in a decoder's hidden state,
   * so `hasPending` knows of them: a relay must not pass the next read on as if nothing were held).
   */
  private held: Buffer | null = null;

  /** Parses newly received bytes; returns the events they complete (in order). Linear in the bytes received. */
  push(chunk: Uint8Array | string): SseEvent[] {
    const text = typeof chunk === 'string' ? chunk : this.decode(chunk);
    const events: SseEvent[] = [];
    let start = 0;
    let scan = this.scan;
    // Inside a line the scan jumps to the next line break (native indexOf); the next \r is looked up only when
    // passed, so a text with few \r is not searched again for each line.
    let nextCr = text.indexOf('\r');
    for (let i = 0; i < text.length; i++) {
      if (scan === Scan.InLine) {
        let next = text.indexOf('\n', i);
        if (nextCr >= 0 && nextCr < i) nextCr = text.indexOf('\r', i);
        if (nextCr >= 0 && (next < 0 || nextCr < next)) next = nextCr;
        if (next < 0) break;
        i = next;
      }
      const c = text.charCodeAt(i);
      let end = -1;
      if (scan === Scan.AfterBlankCr) {
        scan = Scan.InLine;
        if (c === LF) end = i + 1;
        else {
          end = i;
          i--; // this character starts the next event: scanned again from Scan.InLine
        }
      } else if (c === LF) {
        if (scan === Scan.AfterLineEnd) {
          end = i + 1;
          scan = Scan.InLine;
        } else scan = Scan.AfterLineEnd;
      } else if (c === CR) scan = scan === Scan.InLine ? Scan.AfterCr : Scan.AfterBlankCr;
      else scan = Scan.InLine;
      if (end >= 0) {
        const tail = text.slice(start, end);
        events.push(parseEvent(this.pieces.length === 0 ? tail : this.pieces.join('') + tail));
        this.pieces = [];
        start = end;
      }
    }
    this.scan = scan;
    if (start < text.length) this.pieces.push(start === 0 ? text : text.slice(start));
    return events;
  }

  /** True when bytes have been received that no blank line has ended yet (cheap: nothing is joined). */
  get hasPending(): boolean {
    return this.pieces.length > 0 || this.held !== null;
  }

  /** The text of `chunk` up to its last whole character; the bytes after it wait for the next read. */
  private decode(chunk: Uint8Array): string {
    const bytes = this.held ? Buffer.concat([this.held, chunk]) : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const cut = bytes.length - unfinishedCharacter(bytes);
    this.held = cut < bytes.length ? Buffer.from(bytes.subarray(cut)) : null;
    return bytes.toString('utf8', 0, cut);
  }

  /** Text received but not yet terminated by a blank line (joined: for the end of a stream, not for every read). */
  get pending(): string {
    if (this.pieces.length > 1) this.pieces = [this.pieces.join('')];
    return this.pieces[0] ?? '';
  }
}

/** How many bytes at the end of `bytes` begin a UTF-8 character they do not finish (0 when the last one is whole). */
function unfinishedCharacter(bytes: Buffer): number {
  for (let i = bytes.length - 1; i >= Math.max(0, bytes.length - 4); i--) {
    const b = bytes[i]!;
    if ((b & 0xc0) === 0x80) continue; // a continuation byte: its lead is further back
    const length = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
    const have = bytes.length - i;
    return have < length ? have : 0;
  }
  return 0;
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
