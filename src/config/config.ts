/**
 * Gateway configuration: read once at start-up from the environment (and the optional config file), validated as a
 * whole. Every problem is collected and reported together, naming the variable at fault, and the gateway refuses to
 * start on any of them.
 */
import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import path from 'node:path';
import { z } from 'zod';
import type { AuditDurability } from '../audit/writer.js';
import { PII_ACTIONS, type PiiAction } from '../policy/prompt-scan.js';
import { DENY_DETAILS, TOOL_DENY_MODES, type DenyDetail, type ToolDenyMode } from '../translators/tool-verdicts.js';
import { checkKrakendService, krakendServiceShape, loadLlmEndpoints, type LlmEndpoint } from './krakend/endpoints.js';
import type { TrustedProxy } from '../http/forwarded.js';
import { BUILTIN_PROVIDERS, type ProviderConfig } from './providers.js';
import type { CorsOrigins } from '../http/cors.js';
import { parameterTable } from '../translators/provider-parameters.js';

export type AuditFailureMode = 'closed' | 'open';

export interface GatewayConfig {
  host: string | undefined;
  port: number;
  dataDir: string;
  adminToken: string | undefined;
  configFile: string | undefined;
  providers: Map<string, ProviderConfig>;
  /** Templated LLM endpoints from the config file's KrakenD-format `endpoints` (docs/templated-endpoints.md). */
  endpoints: LlmEndpoint[];
  /** Parts of the config file accepted but not applied; logged at start-up. */
  warnings: string[];
  /** When true, a gateway with no policy denies everything instead of running in observe mode. */
  strictPolicy: boolean;
  maxBodyBytes: number;
  /** What a client gets in place of a denied tool call (docs/policies.md, "Tool calls"). */
  toolDenyMode: ToolDenyMode;
  /** How much a replace-mode tool-denial notice tells the end user (CZ_GATEWAY_DENY_DETAIL). */
  denyDetail: DenyDetail;
  /** Prompt PII scan: record hits, mask them before forwarding, or refuse the request. */
  piiAction: PiiAction;
  audit: {
    failureMode: AuditFailureMode;
    queueMax: number;
    flushIntervalMs: number;
    batchSize: number;
    /** `batch`: written within a flush interval; `sync`: a response ends only once its record is durable. */
    durability: AuditDurability;
  };
  /** Audit records older than this many days are deleted (in small batches, off the request path); null keeps all. */
  auditRetentionDays: number | null;
  shutdownGraceMs: number;
  /** Origins whose browsers may call provider routes and templated endpoints (null: CORS off). */
  corsOrigins: CorsOrigins | null;
  /** Peers whose X-Forwarded-* / Forwarded / X-Real-IP headers are kept (extended); everyone else's are replaced. */
  trustedProxies: TrustedProxy[];
  /** How often to pick up key and policy changes made by other processes sharing the store. */
  syncIntervalMs: number;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
}

/** `10.0.0.1, 10.1.0.0/16, ::1`: addresses or CIDR subnets, IPv4 or IPv6. */
function parseTrustedProxies(value: string | undefined, problems: string[]): TrustedProxy[] {
  if (value === undefined || value.trim() === '') return [];
  const proxies: TrustedProxy[] = [];
  for (const entry of value.split(',').map((e) => e.trim()).filter(Boolean)) {
    const [address = '', prefixText] = entry.split('/');
    const version = isIP(address);
    const max = version === 6 ? 128 : 32;
    const prefix = prefixText === undefined ? max : Number(prefixText);
    if (version === 0 || !Number.isInteger(prefix) || prefix < 0 || prefix > max || (prefixText !== undefined && !/^\d+$/.test(prefixText))) {
      problems.push(`CZ_GATEWAY_TRUSTED_PROXIES: ${JSON.stringify(entry)} is not an IP address or CIDR subnet (e.g. 10.0.0.1, 10.1.0.0/16, ::1)`);
      continue;
    }
    proxies.push({ address, prefix, family: version === 6 ? 'ipv6' : 'ipv4' });
  }
  return proxies;
}

/** `CZ_GATEWAY_CORS_ORIGINS`: null when unset (CORS off); problems name each entry that is not an origin. */
function parseCorsOrigins(value: string | undefined, problems: string[]): CorsOrigins | null {
  if (value === undefined || value.trim() === '') return null;
  if (value.trim() === '*') return '*';
  const origins = new Set<string>();
  for (const entry of value.split(',').map((e) => e.trim()).filter(Boolean)) {
    let url: URL | null = null;
    try {
      url = new URL(entry);
    } catch {
      url = null;
    }
    if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.origin !== entry) {
      problems.push(`CZ_GATEWAY_CORS_ORIGINS: ${JSON.stringify(entry)} is not an origin (scheme://host[:port], no path or trailing slash, e.g. https://app.example.com), or use * for any`);
      continue;
    }
    origins.add(entry);
  }
  return origins;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid gateway configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

const PREFIX = 'CZ_GATEWAY_';
const PROVIDER_SUFFIXES = ['ENABLED', 'API_KEY', 'BASE_URL', 'TIMEOUT_MS', 'MAX_CONNECTIONS'] as const;
type ProviderSuffix = (typeof PROVIDER_SUFFIXES)[number];

/** Suffixes of the gateway-wide CZ_GATEWAY_* variables (everything else must be a provider variable). */
const GLOBAL_VARIABLES = [
  'HOST',
  'PORT',
  'DATA_DIR',
  'ADMIN_TOKEN',
  'CONFIG',
  'STRICT_POLICY',
  'MAX_BODY_BYTES',
  'TOOL_DENY_MODE',
  'DENY_DETAIL',
  'PII_ACTION',
  'AUDIT_FAILURE_MODE',
  'AUDIT_QUEUE_MAX',
  'AUDIT_FLUSH_MS',
  'AUDIT_BATCH_SIZE',
  'AUDIT_DURABILITY',
  'AUDIT_RETENTION_DAYS',
  'SHUTDOWN_GRACE_MS',
  'TRUSTED_PROXIES',
  'CORS_ORIGINS',
  'SYNC_MS',
  'LOG_LEVEL',
  'URL', // used by the CLI to reach a running gateway
] as const;

const providerFileSchema = z.strictObject({
  base_url: z.url({ protocol: /^https?$/ }),
  api_key: z.string().min(1).optional(),
  api_key_env: z.string().min(1).optional(),
  timeout_ms: z.int().positive().optional(),
  max_connections: z.int().min(1).max(1_000_000).optional(),
  path_rewrites: z.record(z.string().startsWith('/'), z.string().startsWith('/')).optional(),
  parameters: z
    .record(z.string().min(1), z.union([z.enum(['drop', 'emulate', 'keep']), z.strictObject({ rename: z.string().min(1) })]))
    .optional(),
  enabled: z.boolean().optional(),
});

const configFileSchema = z.strictObject({
  $schema: z.string().optional(),
  providers: z.record(z.string().regex(/^[a-z][a-z0-9_-]*$/), providerFileSchema).optional(),
  ...krakendServiceShape,
});

export type ConfigFile = z.infer<typeof configFileSchema>;

function parseBool(env: NodeJS.ProcessEnv, name: string, fallback: boolean, problems: string[]): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const v = raw.trim().toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(v)) return true;
  if (['false', '0', 'no', 'off'].includes(v)) return false;
  problems.push(`${name}=${JSON.stringify(raw)}: must be true or false`);
  return fallback;
}

function parseInteger(
  env: NodeJS.ProcessEnv,
  name: string,
  fallback: number,
  bounds: { min: number; max: number },
  problems: string[],
): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < bounds.min || n > bounds.max) {
    problems.push(`${name}=${JSON.stringify(raw)}: must be an integer from ${bounds.min} to ${bounds.max}`);
    return fallback;
  }
  return n;
}

function parseChoice<T extends string>(
  env: NodeJS.ProcessEnv,
  name: string,
  choices: readonly T[],
  fallback: T,
  problems: string[],
): T {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if ((choices as readonly string[]).includes(raw)) return raw as T;
  problems.push(`${name}=${JSON.stringify(raw)}: must be one of ${choices.join(', ')}`);
  return fallback;
}

/** Checks an upstream origin: http(s), no path beyond "/", since the gateway appends `/v1/...` itself. */
function checkBaseUrl(value: string, name: string, problems: string[]): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    problems.push(`${name}=${JSON.stringify(value)}: not a valid URL`);
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    problems.push(`${name}=${JSON.stringify(value)}: must be an http:// or https:// URL`);
    return undefined;
  }
  if (url.pathname.replace(/\/+$/, '').endsWith('/v1')) {
    problems.push(`${name}=${JSON.stringify(value)}: give the origin without /v1 (the gateway adds /v1/...)`);
    return undefined;
  }
  if (url.search || url.hash) {
    problems.push(`${name}=${JSON.stringify(value)}: must not have a query string or fragment`);
    return undefined;
  }
  return url.origin + url.pathname.replace(/\/+$/, '');
}

/** Groups CZ_GATEWAY_<NAME>_<SUFFIX> variables by provider name; returns the names of unknown variables. */
function collectProviderVariables(env: NodeJS.ProcessEnv): {
  byProvider: Map<string, Partial<Record<ProviderSuffix, string>>>;
  unknown: string[];
} {
  const byProvider = new Map<string, Partial<Record<ProviderSuffix, string>>>();
  const unknown: string[] = [];
  for (const name of Object.keys(env)) {
    if (!name.startsWith(PREFIX)) continue;
    const rest = name.slice(PREFIX.length);
    if ((GLOBAL_VARIABLES as readonly string[]).includes(rest)) continue;
    const suffix = PROVIDER_SUFFIXES.find((s) => rest.endsWith(`_${s}`));
    const provider = suffix ? rest.slice(0, -(suffix.length + 1)) : '';
    if (!suffix || !/^[A-Z][A-Z0-9_]*$/.test(provider)) {
      unknown.push(name);
      continue;
    }
    const key = provider.toLowerCase().replace(/_/g, '-');
    const entry = byProvider.get(key) ?? {};
    entry[suffix] = env[name];
    byProvider.set(key, entry);
  }
  return { byProvider, unknown };
}

function providersFromEnv(env: NodeJS.ProcessEnv, problems: string[]): Map<string, ProviderConfig> {
  const providers = new Map<string, ProviderConfig>();
  const { byProvider, unknown } = collectProviderVariables(env);
  for (const name of unknown) {
    problems.push(
      `${name}: unknown variable (provider variables are ${PREFIX}<PROVIDER>_{${PROVIDER_SUFFIXES.join(',')}}; ` +
        `global ones are ${GLOBAL_VARIABLES.map((g) => PREFIX + g).join(', ')})`,
    );
  }
  for (const [name, vars] of byProvider) {
    const envName = (suffix: ProviderSuffix) => `${PREFIX}${name.toUpperCase().replace(/-/g, '_')}_${suffix}`;
    const enabled = parseBool(env, envName('ENABLED'), false, problems);
    if (!enabled) {
      const stray = PROVIDER_SUFFIXES.filter((s) => s !== 'ENABLED' && vars[s] !== undefined).map(envName);
      if (stray.length > 0) {
        problems.push(`${stray.join(', ')} set but ${envName('ENABLED')} is not true: enable the provider or remove them`);
      }
      continue;
    }
    const builtin = BUILTIN_PROVIDERS[name];
    const apiKey = vars.API_KEY?.trim();
    if (!apiKey) problems.push(`${envName('API_KEY')}: required when ${envName('ENABLED')}=true`);
    const rawBase = vars.BASE_URL ?? builtin?.baseUrl;
    if (rawBase === undefined) {
      problems.push(`${envName('BASE_URL')}: required for provider "${name}", which has no built-in default`);
    }
    const baseUrl = rawBase === undefined ? undefined : checkBaseUrl(rawBase, envName('BASE_URL'), problems);
    const timeoutMs = parseInteger(env, envName('TIMEOUT_MS'), 120_000, { min: 100, max: 3_600_000 }, problems);
    const maxConnections = parseInteger(env, envName('MAX_CONNECTIONS'), 0, { min: 1, max: 1_000_000 }, problems) || null;
    if (apiKey && baseUrl) {
      providers.set(name, { name, baseUrl, apiKey, timeoutMs, maxConnections, pathRewrites: { ...(builtin?.pathRewrites ?? {}) }, wire: builtin?.wire ?? 'openai', errorShape: builtin?.errorShape ?? 'openai', parameters: builtin?.parameters ?? {} });
    }
  }
  return providers;
}

function providersFromFile(
  file: ConfigFile,
  fileName: string,
  env: NodeJS.ProcessEnv,
  providers: Map<string, ProviderConfig>,
  problems: string[],
): void {
  for (const [name, p] of Object.entries(file.providers ?? {})) {
    const where = `${fileName}: providers.${name}`;
    if (p.enabled === false) continue;
    if (providers.has(name)) {
      problems.push(`${where}: provider "${name}" is also configured by ${PREFIX}${name.toUpperCase()}_* variables; keep one`);
      continue;
    }
    if ((p.api_key === undefined) === (p.api_key_env === undefined)) {
      problems.push(`${where}: set exactly one of api_key and api_key_env`);
      continue;
    }
    const apiKey = p.api_key ?? env[p.api_key_env!];
    if (!apiKey) {
      problems.push(`${where}.api_key_env: environment variable ${p.api_key_env} is not set`);
      continue;
    }
    const baseUrl = checkBaseUrl(p.base_url, `${where}.base_url`, problems);
    if (!baseUrl) continue;
    providers.set(name, {
      name,
      baseUrl,
      apiKey,
      timeoutMs: p.timeout_ms ?? 120_000,
      maxConnections: p.max_connections ?? null,
      pathRewrites: { ...(BUILTIN_PROVIDERS[name]?.pathRewrites ?? {}), ...(p.path_rewrites ?? {}) },
      wire: BUILTIN_PROVIDERS[name]?.wire ?? 'openai',
      errorShape: BUILTIN_PROVIDERS[name]?.errorShape ?? 'openai',
      parameters: parameterTable(BUILTIN_PROVIDERS[name]?.parameters ?? {}, p.parameters ?? {}, `${where}.parameters`, problems),
    });
  }
}

function isBareEndpoint(json: unknown): boolean {
  return typeof json === 'object' && json !== null && !Array.isArray(json) && 'endpoint' in json && 'backend' in json && !('endpoints' in json);
}

async function readConfigFile(file: string, problems: string[]): Promise<ConfigFile | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    problems.push(`CZ_GATEWAY_CONFIG=${file}: cannot read: ${(err as Error).message}`);
    return undefined;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    problems.push(`${file}: not valid JSON: ${(err as Error).message}`);
    return undefined;
  }
  if (isBareEndpoint(json)) {
    // The product docs show one endpoint object; the file holds a list of them.
    problems.push(`${file}: $: this is one KrakenD endpoint, not a config file: wrap it as {"version": 3, "endpoints": [ <the endpoint> ]}`);
    return undefined;
  }
  const parsed = configFileSchema.safeParse(json);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      problems.push(`${file}: ${['$', ...issue.path.map(String)].join('.')}: ${issue.message}`);
    }
    return undefined;
  }
  return parsed.data;
}

/** Reads and validates the whole configuration. Throws ConfigError listing every problem. */
export async function loadConfig(env: NodeJS.ProcessEnv, argv: string[] = []): Promise<GatewayConfig> {
  const problems: string[] = [];
  const configFlag = argv.indexOf('--config');
  const configFile = configFlag >= 0 ? argv[configFlag + 1] : env.CZ_GATEWAY_CONFIG || undefined;
  if (configFlag >= 0 && !configFile) problems.push('--config: needs a file path');

  const providers = providersFromEnv(env, problems);
  const warnings: string[] = [];
  let endpoints: LlmEndpoint[] = [];
  let filePort: number | undefined;
  if (configFile) {
    const file = await readConfigFile(configFile, problems);
    if (file) {
      providersFromFile(file, configFile, env, providers, problems);
      checkKrakendService(file, configFile, problems, warnings);
      endpoints = await loadLlmEndpoints(file, configFile, env, problems, warnings);
      filePort = file.port;
    }
  }

  const config: GatewayConfig = {
    host: env.CZ_GATEWAY_HOST || undefined,
    // CZ_GATEWAY_PORT wins over the config file's `port`, so one file serves several deployments.
    port: parseInteger(env, 'CZ_GATEWAY_PORT', filePort ?? 8000, { min: 0, max: 65535 }, problems),
    dataDir: path.resolve(env.CZ_GATEWAY_DATA_DIR || './data'),
    adminToken: env.CZ_GATEWAY_ADMIN_TOKEN || undefined,
    configFile,
    providers,
    endpoints,
    warnings,
    strictPolicy: parseBool(env, 'CZ_GATEWAY_STRICT_POLICY', false, problems),
    maxBodyBytes: parseInteger(env, 'CZ_GATEWAY_MAX_BODY_BYTES', 10 * 1024 * 1024, { min: 1024, max: 1 << 30 }, problems),
    toolDenyMode: parseChoice(env, 'CZ_GATEWAY_TOOL_DENY_MODE', TOOL_DENY_MODES, 'replace', problems),
    denyDetail: parseChoice(env, 'CZ_GATEWAY_DENY_DETAIL', DENY_DETAILS, 'minimal', problems),
    piiAction: parseChoice(env, 'CZ_GATEWAY_PII_ACTION', PII_ACTIONS, 'detect', problems),
    audit: {
      failureMode: parseChoice(env, 'CZ_GATEWAY_AUDIT_FAILURE_MODE', ['closed', 'open'] as const, 'closed', problems),
      queueMax: parseInteger(env, 'CZ_GATEWAY_AUDIT_QUEUE_MAX', 10_000, { min: 10, max: 10_000_000 }, problems),
      flushIntervalMs: parseInteger(env, 'CZ_GATEWAY_AUDIT_FLUSH_MS', 50, { min: 1, max: 60_000 }, problems),
      batchSize: parseInteger(env, 'CZ_GATEWAY_AUDIT_BATCH_SIZE', 500, { min: 1, max: 100_000 }, problems),
      durability: parseChoice(env, 'CZ_GATEWAY_AUDIT_DURABILITY', ['batch', 'sync'] as const, 'batch', problems),
    },
    auditRetentionDays: parseInteger(env, 'CZ_GATEWAY_AUDIT_RETENTION_DAYS', 0, { min: 1, max: 36_500 }, problems) || null,
    shutdownGraceMs: parseInteger(env, 'CZ_GATEWAY_SHUTDOWN_GRACE_MS', 10_000, { min: 0, max: 600_000 }, problems),
    trustedProxies: parseTrustedProxies(env.CZ_GATEWAY_TRUSTED_PROXIES, problems),
    corsOrigins: parseCorsOrigins(env.CZ_GATEWAY_CORS_ORIGINS, problems),
    syncIntervalMs: parseInteger(env, 'CZ_GATEWAY_SYNC_MS', 1_000, { min: 50, max: 3_600_000 }, problems),
    logLevel: parseChoice(env, 'CZ_GATEWAY_LOG_LEVEL', ['debug', 'info', 'warn', 'error'] as const, 'info', problems),
  };
  if (config.adminToken !== undefined && config.adminToken.length < 16) {
    problems.push('CZ_GATEWAY_ADMIN_TOKEN: must be at least 16 characters');
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}
