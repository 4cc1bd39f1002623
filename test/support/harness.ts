/**
 * A real gateway (in this process, on a random port, with its own SQLite data dir) in front of the fake Mistral
 * upstream, plus small helpers to drive its admin API.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/config/config.js';
import { startFakeMistral, type FakeMistral } from '../../src/fake-mistral/server.js';
import { startGateway, type Gateway } from '../../src/gateway.js';
import { createLogger } from '../../src/log.js';
import { openSqliteStore } from '../../src/store/sqlite.js';

export const UPSTREAM_KEY = 'sk-upstream-secret-0123456789';
export const ADMIN_TOKEN = 'test-admin-token-0123456789';

export interface Harness {
  fake: FakeMistral;
  gateway: Gateway;
  url: string;
  dataDir: string;
  admin<T = any>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }>;
  createKey(name?: string, attributes?: Record<string, string>, expiresAt?: string): Promise<{ id: string; key: string }>;
  createPolicy(doc: unknown): Promise<{ id: string }>;
  /** All audit records, newest first (flushes the writer first). */
  audit(query?: string): Promise<any[]>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  env?: Record<string, string>;
  fakeFaults?: string;
}

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const fake = await startFakeMistral({ apiKey: UPSTREAM_KEY, record: true, faults: options.fakeFaults });
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'tollgate-test-'));
  const config = await loadConfig({
    CZ_GATEWAY_HOST: '127.0.0.1',
    CZ_GATEWAY_PORT: '0',
    CZ_GATEWAY_DATA_DIR: dataDir,
    CZ_GATEWAY_MISTRAL_ENABLED: 'true',
    CZ_GATEWAY_MISTRAL_API_KEY: UPSTREAM_KEY,
    CZ_GATEWAY_MISTRAL_BASE_URL: fake.url,
    CZ_GATEWAY_AUDIT_FLUSH_MS: '5',
    CZ_GATEWAY_SHUTDOWN_GRACE_MS: '2000',
    ...options.env,
  });
  const store = await openSqliteStore(dataDir);
  const gateway = await startGateway(config, store, ADMIN_TOKEN, createLogger('error', () => undefined));

  const admin = async (method: string, p: string, body?: unknown) => {
    const res = await fetch(gateway.url + p, {
      method,
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  };

  return {
    fake,
    gateway,
    url: gateway.url,
    dataDir,
    admin,
    async createKey(name = 'test', attributes = {}, expiresAt?: string) {
      const res = await admin('POST', '/api/v1/keys', { name, attributes, expires_at: expiresAt });
      if (res.status !== 201) throw new Error(`key creation failed: ${JSON.stringify(res.body)}`);
      return { id: res.body.id, key: res.body.key };
    },
    async createPolicy(doc: unknown) {
      const res = await admin('POST', '/api/v1/policies', doc);
      if (res.status !== 201) throw new Error(`policy creation failed: ${JSON.stringify(res.body)}`);
      return { id: res.body.id };
    },
    async audit(query = '') {
      const res = await admin('GET', `/api/v1/audit?limit=1000${query ? `&${query}` : ''}`);
      if (res.status !== 200) throw new Error(`audit query failed: ${JSON.stringify(res.body)}`);
      return res.body.records;
    },
    async close() {
      await gateway.close();
      await fake.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** The seed's policy, verbatim. */
export const SEED_POLICY = {
  name: 'mistral-usage-policy',
  rules: [
    {
      effect: 'allow',
      action: 'llm:chat.completions',
      resource: 'mistral/*',
      conditions: { model: ['mistral-large-latest', 'mistral-medium-latest'] },
    },
    {
      effect: 'deny',
      action: 'llm:chat.completions',
      resource: 'mistral/*',
      conditions: { max_tokens_gt: 8192 },
    },
  ],
};

/** Waits until `check` returns a truthy value (audit records land asynchronously). */
export async function eventually<T>(check: () => Promise<T | undefined | false>, timeoutMs = 3000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}
