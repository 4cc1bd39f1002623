/**
 * Finds the `usage` object in a JSON response without decoding or parsing the whole response: the gateway needs
 * only the token counts, and OpenAI-compatible providers put `usage` at the top level, after the (possibly long)
 * choices. Works on the raw bytes; falls back to a full parse when the body is not laid out that way.
 */
import { usageOf, type Usage } from './record.js';

const KEY = Buffer.from('"usage"');
const QUOTE = 34;
const BACKSLASH = 92;
const OPEN = 123;
const CLOSE = 125;

function isSpace(c: number | undefined): boolean {
  return c === 32 || c === 10 || c === 13 || c === 9;
}

/** End index (exclusive) of the JSON object starting at `start` ("{"), or -1. Skips over strings. */
function objectEnd(bytes: Buffer, start: number): number {
  let depth = 0;
  for (let i = start; i < bytes.length; i++) {
    const c = bytes[i];
    if (c === QUOTE) {
      for (i++; i < bytes.length; i++) {
        const d = bytes[i];
        if (d === BACKSLASH) i++;
        else if (d === QUOTE) break;
      }
    } else if (c === OPEN) depth++;
    else if (c === CLOSE && --depth === 0) return i + 1;
  }
  return -1;
}

function parseOrNull(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/**
 * The last `"usage": {...}` object in some bytes (a response body, or stream events whose last usage is the final
 * one), or null when there is none. Never parses more than that object.
 */
export function findUsage(bytes: Buffer): Usage | null {
  const at = bytes.lastIndexOf(KEY);
  if (at < 0) return null;
  let i = at + KEY.length;
  while (isSpace(bytes[i])) i++;
  if (bytes[i] !== 58 /* : */) return null;
  i++;
  while (isSpace(bytes[i])) i++;
  const end = bytes[i] === OPEN ? objectEnd(bytes, i) : -1;
  if (end < 0) return null;
  const usage = parseOrNull(bytes.toString('utf8', i, end));
  return usage === null ? null : usageOf({ usage });
}

/** Token usage from a JSON response body, or null when it has none (or is not JSON). */
export function scanUsage(bytes: Buffer): Usage | null {
  if (bytes.lastIndexOf(KEY) < 0) return null;
  return findUsage(bytes) ?? usageOf(parseOrNull(bytes.toString('utf8')));
}
