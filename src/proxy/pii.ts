/**
 * The gateway-wide prompt PII scan (CZ_GATEWAY_PII_ACTION), pure: finds detector hits in the text of a request's
 * messages (string contents and `text` parts) and, in mask mode, replaces each hit with its redaction label in place.
 * Only message text is scanned: the rest of the body (tools, parameters) is never read.
 */
import { findSensitiveSpans, redactionLabel, type DetectorName } from '../policy/index.js';

export type PiiAction = 'detect' | 'mask' | 'block';
export const PII_ACTIONS: readonly PiiAction[] = ['detect', 'mask', 'block'];

export interface PiiScan {
  /** Detector name -> number of hits; empty when nothing was found. Never holds the matched text. */
  counts: Partial<Record<DetectorName, number>>;
  /** True when mask mode changed the body. */
  masked: boolean;
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Scans `body.messages`; with `mask`, rewrites each hit in place. */
export function scanPrompt(body: Json, mask: boolean): PiiScan {
  const scan: PiiScan = { counts: {}, masked: false };
  const visit = (text: string): string => {
    const spans = findSensitiveSpans(text);
    for (const span of spans) scan.counts[span.detector] = (scan.counts[span.detector] ?? 0) + 1;
    if (!mask || spans.length === 0) return text;
    scan.masked = true;
    let out = '';
    let at = 0;
    for (const span of spans) {
      out += text.slice(at, span.start) + redactionLabel(span.detector);
      at = span.end;
    }
    return out + text.slice(at);
  };
  if (!Array.isArray(body.messages)) return scan;
  for (const message of body.messages) {
    if (!isObject(message)) continue;
    if (typeof message.content === 'string') message.content = visit(message.content);
    else if (Array.isArray(message.content)) {
      for (const part of message.content) {
        if (isObject(part) && part.type === 'text' && typeof part.text === 'string') part.text = visit(part.text);
      }
    }
  }
  return scan;
}

export function hitCount(scan: PiiScan): number {
  let n = 0;
  for (const count of Object.values(scan.counts)) n += count ?? 0;
  return n;
}
