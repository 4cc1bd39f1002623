/**
 * Audit retention (CZ_GATEWAY_AUDIT_RETENTION_DAYS): at start and then every interval, records older than the
 * retention are deleted in batches of a bounded size, each its own short transaction on the store's writer (off the
 * request path), one after another with the event loop free in between, so a large backlog never stalls traffic.
 */
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { Logger } from '../log.js';
import type { AuditStore } from '../store/types.js';

const DAY_MS = 86_400_000;
/** Rows per DELETE: a few milliseconds of work for SQLite. */
export const RETENTION_BATCH = 1_000;

export interface Retention {
  /** One pass now (the timer's work); resolves with how many records it deleted. */
  runOnce(): Promise<number>;
  stop(): Promise<void>;
}

export function startRetention(store: AuditStore, days: number, logger: Logger, intervalMs = 60_000, now: () => number = Date.now): Retention {
  let running: Promise<number> | null = null;
  let stopped = false;
  const pass = async (): Promise<number> => {
    const before = now() - days * DAY_MS;
    let deleted = 0;
    for (;;) {
      const n = await store.pruneBefore(before, RETENTION_BATCH);
      deleted += n;
      if (n < RETENTION_BATCH || stopped) break;
      await yieldToEventLoop();
    }
    if (deleted > 0) logger.info(`audit retention: deleted ${deleted} records older than ${days} days`);
    return deleted;
  };
  const runOnce = (): Promise<number> => {
    running ??= pass()
      .catch((err: Error) => {
        logger.error('audit retention: deleting old records failed; tried again at the next interval', { error: err.message });
        return 0;
      })
      .finally(() => {
        running = null;
      });
    return running;
  };
  void runOnce();
  const timer = setInterval(() => void runOnce(), intervalMs);
  timer.unref();
  return {
    runOnce,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
