/**
 * The gateway-wide prompt PII scan (CZ_GATEWAY_PII_ACTION), pure: finds detector hits in every piece of prompt text
 * the request's API carries (its translator knows where: messages, prompts, inputs, instructions, system) and, in
 * mask mode, replaces each hit with its redaction label in place. The rest of the body (tools, parameters) is not read.
 * The detection itself may run elsewhere (a worker thread for large prompts: src/governance/pii-scanner.ts), so the
 * scan is split in three: the texts, their spans, and what the spans mean for the request.
 */
import { DETECTOR_NAMES, findSensitiveSpans, redactionLabel, type DetectedSpan, type DetectorName } from './index.js';
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

/** Every piece of prompt text in `body`, in the translator's visiting order. */
export function promptTexts(body: Record<string, unknown>, translator: RequestTranslator): string[] {
  const texts: string[] = [];
  translator.visitPrompt(body, (text) => {
    texts.push(text);
    return text;
  });
  return texts;
}

/** The detections of each text (`spans[i]` for `texts[i]`): counted, and in mask mode replaced in `body`. */
export function applyPromptSpans(body: Record<string, unknown>, translator: RequestTranslator, spans: readonly DetectedSpan[][], mask: boolean): PiiScan {
  const scan: PiiScan = { counts: {}, masked: false };
  for (const textSpans of spans) for (const span of textSpans) scan.counts[span.detector] = (scan.counts[span.detector] ?? 0) + 1;
  if (!mask || hitCount(scan) === 0) return scan;
  scan.masked = true;
  let index = 0;
  translator.visitPrompt(body, (text) => {
    const textSpans = spans[index++] ?? [];
    if (textSpans.length === 0) return text;
    let out = '';
    let at = 0;
    for (const span of textSpans) {
      out += text.slice(at, span.start) + redactionLabel(span.detector);
      at = span.end;
    }
    return out + text.slice(at);
  });
  return scan;
}

/** Scans the prompt text of `body` here and now; with `mask`, rewrites each hit in place. */
export function scanPrompt(body: Record<string, unknown>, translator: RequestTranslator, mask: boolean): PiiScan {
  const spans = promptTexts(body, translator).map((text) => findSensitiveSpans(text));
  return applyPromptSpans(body, translator, spans, mask);
}

export function hitCount(scan: PiiScan): number {
  let n = 0;
  for (const count of Object.values(scan.counts)) n += count ?? 0;
  return n;
}

/** Spans as (detector index, start, end) triples, to cross a thread boundary without copying objects. */
export function encodeSpans(spans: readonly DetectedSpan[]): Int32Array {
  const out = new Int32Array(spans.length * 3);
  spans.forEach((span, i) => {
    out[i * 3] = DETECTOR_NAMES.indexOf(span.detector);
    out[i * 3 + 1] = span.start;
    out[i * 3 + 2] = span.end;
  });
  return out;
}

export function decodeSpans(encoded: Int32Array): DetectedSpan[] {
  const spans: DetectedSpan[] = [];
  for (let i = 0; i + 2 < encoded.length; i += 3) {
    const detector = DETECTOR_NAMES[encoded[i]!];
    if (detector === undefined) throw new Error(`unknown detector index ${encoded[i]}`);
    spans.push({ detector, start: encoded[i + 1]!, end: encoded[i + 2]! });
  }
  return spans;
}
