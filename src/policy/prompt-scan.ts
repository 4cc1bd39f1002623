/**
 * The gateway-wide prompt PII scan (CZ_GATEWAY_PII_ACTION), pure: finds detector hits in every piece of prompt text
 * the request's API carries (its translator knows where: messages, prompts, inputs, instructions, system) and, in
 * mask mode, replaces each hit with its redaction label in place. The rest of the body (tools, parameters) is not read.
 */
import { findSensitiveSpans, redactionLabel, type DetectorName } from './index.js';
import type { RequestTranslator } from '../translators/requests.js';

/** `off`: no scan at all (the policies' own `prompt_detects` conditions still run when a policy has them). */
export type PiiAction = 'detect' | 'mask' | 'block' | 'off';
export const PII_ACTIONS: readonly PiiAction[] = ['detect', 'mask', 'block', 'off'];

export interface PiiScan {
  /** Detector name -> number of hits; empty when nothing was found. Never holds the matched text. */
  counts: Partial<Record<DetectorName, number>>;
  /** True when mask mode changed the body. */
  masked: boolean;
}

/** Scans the prompt text of `body`; with `mask`, rewrites each hit in place. */
export function scanPrompt(body: Record<string, unknown>, translator: RequestTranslator, mask: boolean): PiiScan {
  const scan: PiiScan = { counts: {}, masked: false };
  translator.visitPrompt(body, (text) => {
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
  });
  return scan;
}

export function hitCount(scan: PiiScan): number {
  let n = 0;
  for (const count of Object.values(scan.counts)) n += count ?? 0;
  return n;
}
