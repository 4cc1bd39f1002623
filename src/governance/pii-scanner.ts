/**
 * The gateway's prompt PII scan (CZ_GATEWAY_PII_ACTION) with the event loop in mind: prompts up to
 * `inlineMaxChars` of text are scanned in place (a 128K-character scan takes 1-4 ms here; a thread hop would cost
 * more than it saves), larger ones on one of a few scan threads, so a 10 MB prompt's ~100 ms scan never stalls the
 * other requests. A thread that fails or dies costs latency, not governance: its job is scanned in place.
 */
import { availableParallelism } from 'node:os';
import { findSensitiveSpans, type DetectedSpan } from '../policy/index.js';
import { applyPromptSpans, decodeSpans, promptTexts, type PiiAction, type PiiScan } from '../policy/prompt-scan.js';
import type { RequestTranslator } from '../translators/requests.js';
import { JobThread } from '../workers/job-thread.js';
import type { PiiScanJob } from './pii-scan-worker.js';

export const PII_INLINE_MAX_CHARS = 128 * 1024;

export interface PromptScannerOptions {
  /** Prompts with more text than this are scanned on a thread (0: every prompt). */
  inlineMaxChars?: number;
  /** Scan threads, started on first use; default: one per core but one, at most 4. */
  threads?: number;
  /** The thread's script (tests point it at a failing one). */
  script?: URL;
}

export class PromptScanner {
  private readonly inlineMaxChars: number;
  private readonly threads: JobThread<PiiScanJob>[];

  constructor(
    readonly action: PiiAction,
    options: PromptScannerOptions = {},
  ) {
    this.inlineMaxChars = options.inlineMaxChars ?? PII_INLINE_MAX_CHARS;
    const count = options.threads ?? Math.max(1, Math.min(4, availableParallelism() - 1));
    const script = options.script ?? new URL('./pii-scan-worker.js', import.meta.url);
    // Idle threads do not keep the process alive: a gateway that is not closed can still exit.
    this.threads = Array.from({ length: count }, () => new JobThread<PiiScanJob>(script, null, 'PII scan thread', 'unref'));
  }

  /** The scan of `body`'s prompt text (mask mode rewrites it in place): at once, or once a thread has it. */
  scan(body: Record<string, unknown>, translator: RequestTranslator): PiiScan | Promise<PiiScan> {
    const mask = this.action === 'mask';
    const texts = promptTexts(body, translator);
    let chars = 0;
    for (const text of texts) chars += text.length;
    if (chars <= this.inlineMaxChars) return applyPromptSpans(body, translator, inPlace(texts), mask);
    return this.onThread(texts).then((spans) => applyPromptSpans(body, translator, spans, mask));
  }

  close(): Promise<void> {
    return Promise.all(this.threads.map((t) => t.close())).then(() => undefined);
  }

  private async onThread(texts: string[]): Promise<DetectedSpan[][]> {
    const thread = this.threads.reduce((a, b) => (b.load < a.load ? b : a));
    try {
      const encoded = (await thread.post({ texts })) as Int32Array[];
      if (!Array.isArray(encoded) || encoded.length !== texts.length) throw new Error('the PII scan thread answered for other texts');
      return encoded.map(decodeSpans);
    } catch {
      return inPlace(texts);
    }
  }
}

function inPlace(texts: readonly string[]): DetectedSpan[][] {
  return texts.map((text) => findSensitiveSpans(text));
}
