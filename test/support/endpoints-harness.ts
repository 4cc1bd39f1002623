/**
 * A real gateway started from a KrakenD-format config file (templated LLM endpoints), in this process, with its own
 * data dir; log lines are captured so tests can inspect debug output.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/config/config.js';
import { startGateway, type Gateway } from '../../src/gateway.js';
import { createLogger } from '../../src/log.js';
import { openSqliteStore } from '../../src/store/sqlite.js';
import { ADMIN_TOKEN } from './harness.js';

export interface EndpointsHarness {
  gateway: Gateway;
  url: string;
  dir: string;
  logs: string[];
  createKey(name?: string): Promise<string>;
  createPolicy(doc: unknown): Promise<void>;
  audit(): Promise<any[]>;
  post(path: string, body: unknown, headers?: Record<string, string>): Promise<{ status: number; body: any; headers: Headers }>;
  close(): Promise<void>;
}

/** Writes `files` (name -> content; objects are written as JSON) into a fresh temp dir; returns the dir. */
export async function writeFiles(files: Record<string, unknown>): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'tollgate-endpoints-'));
  for (const [name, content] of Object.entries(files)) {
    await writeFile(path.join(dir, name), typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  }
  return dir;
}

/** A KrakenD endpoint with one ai/llm backend. */
export function llmEndpoint(endpoint: string, host: string, urlPattern: string, vendor: string, version: string, settings: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return {
    endpoint,
    method: 'POST',
    backend: [{ host: [host], url_pattern: urlPattern, method: 'POST', extra_config: { 'ai/llm': { [vendor]: { [version]: settings } } }, ...(extra.backend as object) }],
    ...(extra.endpoint as object),
  };
}

export async function startEndpointsHarness(config: Record<string, unknown>, env: Record<string, string> = {}, files: Record<string, unknown> = {}): Promise<EndpointsHarness> {
  const dir = await writeFiles({ ...files, 'tollgate.json': config });
  const gatewayConfig = await loadConfig({
    CZ_GATEWAY_CONFIG: path.join(dir, 'tollgate.json'),
    CZ_GATEWAY_HOST: '127.0.0.1',
    CZ_GATEWAY_PORT: '0',
    CZ_GATEWAY_DATA_DIR: path.join(dir, 'data'),
    CZ_GATEWAY_AUDIT_FLUSH_MS: '5',
    CZ_GATEWAY_SHUTDOWN_GRACE_MS: '2000',
    ...env,
  });
  const store = await openSqliteStore(path.join(dir, 'data'));
  const logs: string[] = [];
  const gateway = await startGateway(gatewayConfig, store, ADMIN_TOKEN, createLogger('debug', (line) => logs.push(line)));
  const admin = async (method: string, p: string, body?: unknown) => {
    const res = await fetch(gateway.url + p, {
      method,
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as any };
  };
  return {
    gateway,
    url: gateway.url,
    dir,
    logs,
    async createKey(name = 'test') {
      const res = await admin('POST', '/api/v1/keys', { name });
      if (res.status !== 201) throw new Error(`key creation failed: ${JSON.stringify(res.body)}`);
      return res.body.key as string;
    },
    async createPolicy(doc: unknown) {
      const res = await admin('POST', '/api/v1/policies', doc);
      if (res.status !== 201) throw new Error(`policy creation failed: ${JSON.stringify(res.body)}`);
    },
    async audit() {
      await gateway.auditWriter.flush();
      const res = await admin('GET', '/api/v1/audit?limit=1000');
      return res.body.records;
    },
    async post(p: string, body: unknown, headers: Record<string, string> = {}) {
      const res = await fetch(gateway.url + p, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : null, headers: res.headers };
    },
    async close() {
      await gateway.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
