/**
 * The gateway's view of its API keys: an in-memory index by hash in front of the store, so authenticating a request
 * costs one SHA-256 and one Map lookup. Changes made through this registry (admin API) take effect on the next request.
 */
import type { ApiKeyRecord, KeyStore } from '../store/types.js';
import { generateId, generateKeySecret, hashKeySecret, KEY_PREFIX, secretPrefix } from './secrets.js';

export type AuthFailureCode = 'missing_api_key' | 'invalid_api_key' | 'revoked_api_key' | 'expired_api_key';

export type AuthResult =
  | { ok: true; key: ApiKeyRecord }
  | { ok: false; code: AuthFailureCode; message: string; key: ApiKeyRecord | null };

export interface NewKey {
  name: string;
  attributes?: Record<string, string>;
  expires_at?: number | null;
}

export class KeyRegistry {
  private readonly byHash = new Map<string, ApiKeyRecord>();

  constructor(private readonly store: KeyStore) {}

  async load(): Promise<void> {
    this.byHash.clear();
    for (const key of await this.store.list()) this.byHash.set(key.hash, key);
  }

  /** Takes in keys another process inserted or changed (revoked), without reloading the rest. */
  apply(changed: readonly ApiKeyRecord[]): void {
    for (const key of changed) this.byHash.set(key.hash, key);
  }

  async authenticate(secret: string | undefined, now: number): Promise<AuthResult> {
    if (!secret) {
      return {
        ok: false,
        code: 'missing_api_key',
        message: 'No gateway API key: send "Authorization: Bearer cz_live_..." or "X-ControlZero-API-Key: cz_live_..."',
        key: null,
      };
    }
    if (!secret.startsWith(KEY_PREFIX)) {
      return { ok: false, code: 'invalid_api_key', message: 'Invalid gateway API key: gateway keys start with cz_live_', key: null };
    }
    const hash = hashKeySecret(secret);
    // A miss may be a key created by another gateway process sharing the store.
    const key = this.byHash.get(hash) ?? (await this.store.findByHash(hash));
    if (!key) return { ok: false, code: 'invalid_api_key', message: 'Invalid gateway API key', key: null };
    this.byHash.set(hash, key);
    if (key.revoked_at !== null) {
      return { ok: false, code: 'revoked_api_key', message: `Gateway API key ${key.id} has been revoked`, key };
    }
    if (key.expires_at !== null && key.expires_at <= now) {
      return {
        ok: false,
        code: 'expired_api_key',
        message: `Gateway API key ${key.id} expired at ${new Date(key.expires_at).toISOString()}`,
        key,
      };
    }
    return { ok: true, key };
  }

  /** Creates a key; the secret is returned here once and never again. */
  async create(input: NewKey, now: number): Promise<{ key: ApiKeyRecord; secret: string }> {
    const secret = generateKeySecret();
    const key: ApiKeyRecord = {
      id: generateId('key'),
      name: input.name,
      prefix: secretPrefix(secret),
      hash: hashKeySecret(secret),
      attributes: input.attributes ?? {},
      created_at: now,
      expires_at: input.expires_at ?? null,
      revoked_at: null,
    };
    await this.store.insert(key);
    this.byHash.set(key.hash, key);
    return { key, secret };
  }

  async revoke(id: string, now: number): Promise<ApiKeyRecord | null> {
    const key = await this.store.revoke(id, now);
    if (key) this.byHash.set(key.hash, key);
    return key;
  }

  list(): Promise<ApiKeyRecord[]> {
    return this.store.list();
  }

  get(id: string): Promise<ApiKeyRecord | null> {
    return this.store.get(id);
  }
}
