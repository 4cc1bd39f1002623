/**
 * Keeps a gateway's in-memory keys and policies in step with changes other processes make to the shared store
 * (another gateway worker, a CLI): it polls the store's revisions and reloads what changed: the keys changed since
 * the revision it has (all of them only after a delete), and the policies.
 */
import type { KeyRegistry } from '../keys/registry.js';
import type { Logger } from '../log.js';
import type { Revisions, Store } from '../store/types.js';
import type { PolicyRegistry } from './policy-registry.js';

export interface StoreSync {
  /** Checks once now; resolves when anything changed has been reloaded. */
  check(): Promise<void>;
  stop(): void;
}

/** `loadedAt`: the revisions read before `keys` and `policies` were loaded, so a change made meanwhile is not missed. */
export async function startStoreSync(
  store: Store,
  keys: KeyRegistry,
  policies: PolicyRegistry,
  intervalMs: number,
  logger: Logger,
  loadedAt?: Revisions,
): Promise<StoreSync> {
  let seen: Revisions = loadedAt ?? (await store.revisions());
  let running: Promise<void> | null = null;
  const check = (): Promise<void> =>
    (running ??= (async () => {
      try {
        const now = await store.revisions();
        if (now.keysRemoved !== seen.keysRemoved) await keys.load();
        else if (now.keys !== seen.keys) keys.apply(await store.keys.changedSince(seen.keys));
        if (now.policies !== seen.policies) await policies.load();
        seen = now;
      } catch (err) {
        logger.warn('could not reload keys/policies changed in the store; retrying', { error: (err as Error).message });
      } finally {
        running = null;
      }
    })());
  const timer = setInterval(() => void check(), intervalMs);
  timer.unref();
  return { check, stop: () => clearInterval(timer) };
}
