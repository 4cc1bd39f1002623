/**
 * Framing checks for provider event streams, whose every event's data is one JSON object or array (or `[DONE]`):
 * a linear scan of brackets and strings, without parsing or allocating, so whole streams are not parsed just to catch
 * a malformed event. Every truncation of a JSON value fails it (the top-level value closes only at its last byte);
 * it is not a validator (`{"a":}` passes), so an event that fails is parsed to be sure (src/proxy/relay.ts).
 */

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const LF = 0x0a;
const CR = 0x0d;

const enum State {
  Before,
  Inside,
  Closed,
  Broken,
}

/** Whether the characters fed to it form one bracketed value: balanced outside strings, nothing after the close. */
class Framing {
  private state = State.Before;
  private depth = 0;
  private inString = false;
  private escaped = false;

  feed(c: number): void {
    if (this.state === State.Inside) {
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (c === BACKSLASH) this.escaped = true;
        else if (c === QUOTE) this.inString = false;
      } else if (c === QUOTE) this.inString = true;
      else if (c === OPEN_BRACE || c === OPEN_BRACKET) this.depth++;
      else if ((c === CLOSE_BRACE || c === CLOSE_BRACKET) && --this.depth === 0) this.state = State.Closed;
      return;
    }
    if (c === 0x20 || c === 0x09 || c === LF || c === CR) return;
    if (this.state === State.Before && (c === OPEN_BRACE || c === OPEN_BRACKET)) {
      this.state = State.Inside;
      this.depth = 1;
    } else this.state = State.Broken;
  }

  /** True when nothing was fed but whitespace, or one whole value. */
  get whole(): boolean {
    return this.state === State.Before || this.state === State.Closed;
  }
}

/** True when event data (the `data:` lines joined) is framed as one JSON object or array, or is empty. */
export function dataLooksWhole(data: string): boolean {
  const framing = new Framing();
  for (let i = 0; i < data.length; i++) framing.feed(data.charCodeAt(i));
  return framing.whole;
}

const DATA = Buffer.from('data:');

/**
 * The same check on a chunk of whole events with LF line ends, event by event, on the bytes (the structural
 * characters are ASCII, never part of a UTF-8 sequence). A chunk with a CR answers false: the caller parses it.
 */
export function eventsLookWhole(chunk: Buffer): boolean {
  if (chunk.indexOf(CR) >= 0) return false;
  let framing = new Framing();
  let lineStart = 0;
  while (lineStart < chunk.length) {
    let lineEnd = chunk.indexOf(LF, lineStart);
    if (lineEnd < 0) lineEnd = chunk.length;
    if (lineEnd === lineStart) {
      // A blank line ends the event.
      if (!framing.whole) return false;
      framing = new Framing();
    } else if (lineEnd - lineStart >= DATA.length && chunk.compare(DATA, 0, DATA.length, lineStart, lineStart + DATA.length) === 0) {
      let i = lineStart + DATA.length;
      if (chunk[i] === 0x20) i++;
      for (; i < lineEnd; i++) framing.feed(chunk[i]!);
      framing.feed(LF); // data lines join with a line feed
    }
    lineStart = lineEnd + 1;
  }
  return framing.whole;
}
