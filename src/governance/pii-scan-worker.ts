/**
 * A PII scan thread: finds the detector spans of large prompts off the gateway's event loop
 * (src/governance/pii-scanner.ts). Job: the prompt's texts; answer: one encoded span list per text, transferred.
 */
import { parentPort } from 'node:worker_threads';
import { findSensitiveSpans } from '../policy/detectors.js';
import { encodeSpans } from '../policy/prompt-scan.js';
import { serveJobs } from '../workers/job-thread.js';

export interface PiiScanJob {
  texts: string[];
}

if (parentPort) {
  serveJobs<PiiScanJob>(({ texts }) => {
    const spans = texts.map((text) => encodeSpans(findSensitiveSpans(text)));
    return { result: spans, transfer: spans.map((s) => s.buffer as ArrayBuffer) };
  });
}
