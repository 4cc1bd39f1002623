/**
 * The `endpoints` of a KrakenD-format config file (`"version": 3`), turned into Tollgate's templated LLM endpoints.
 * Validation is as strict as KrakenD's schema for the `ai/llm` block (exactly one vendor, one version, no unknown
 * keys, required credentials/variables/model); every problem names the endpoint and the JSON path at fault. Parts of
 * the file Tollgate does not implement are reported: harmless ones as warnings ("ignored"), ones that would change
 * behaviour (other namespaces, non-LLM backends) as errors. Templates are read and parsed here, once.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { TemplateExecError, TemplateParseError, goInt, parseTemplate, type CompiledTemplate } from '../../templates/index.js';
import { parseGoDuration } from './duration.js';
import { jsonPath } from './json-path.js';
import { VENDORS, type VendorDefinition } from './vendors.js';

export interface LlmEndpoint {
  /** Exact request path, e.g. "/mistral". */
  path: string;
  method: string;
  /** Served without a gateway key (`extra_config.tollgate.public: true`); policies still apply. */
  public: boolean;
  vendor: VendorDefinition;
  /** Upstream origin, e.g. "https://api.mistral.ai". */
  origin: string;
  /** Upstream path: the host's path (if any) + `url_pattern`. */
  upstreamPath: string;
  upstreamMethod: string;
  credentials: string;
  debug: boolean;
  /** The model governed and audited (`variables.model`, or the model in a Gemini url_pattern); null if unknown. */
  model: string | null;
  /** `.variables` as templates see them: defaults and sentinels merged, Go ints converted. */
  variables: Record<string, unknown>;
  input: CompiledTemplate;
  output: CompiledTemplate;
  /** Top-level response field renames (backend `mapping`). */
  mapping: Record<string, string>;
  /** Lower-case request headers exposed to templates as `.req_headers`; null = all but the gateway's credentials. */
  inputHeaders: string[] | null;
  /** Query string parameters exposed as `.req_querystring`; null = all. */
  inputQueryStrings: string[] | null;
  timeoutMs: number;
}

/** The parts of the config file this module reads. */
export interface KrakendService {
  endpoints?: unknown[];
  host?: unknown;
  timeout?: unknown;
}

const DEFAULT_TIMEOUT_MS = 120_000;
const HTTP_METHOD = z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']);
const TOLLGATE_NAMESPACE = 'tollgate';
const LLM_NAMESPACE = 'ai/llm';

const endpointSchema = z.looseObject({
  endpoint: z.string().regex(/^\/[^{}?#]*$/, 'must be a path starting with "/" (path parameters {x} are not supported)'),
  method: HTTP_METHOD.default('GET'),
  backend: z.array(z.record(z.string(), z.unknown())).min(1),
  extra_config: z.record(z.string(), z.unknown()).optional(),
  input_headers: z.array(z.string()).optional(),
  input_query_strings: z.array(z.string()).optional(),
  timeout: z.string().optional(),
});

const backendSchema = z.looseObject({
  host: z.array(z.string()).min(1).optional(),
  url_pattern: z.string().regex(/^\/[^{}]*$/, 'must be a path starting with "/" (placeholders {x} are not supported)'),
  method: HTTP_METHOD.optional(),
  extra_config: z.record(z.string(), z.unknown()).optional(),
  mapping: z.record(z.string(), z.string()).optional(),
});

const tollgateSchema = z.strictObject({ public: z.boolean().optional() });

const llmSettingsSchema = z.strictObject({
  credentials: z.string(),
  debug: z.boolean().optional(),
  input_template: z.string().min(1).optional(),
  output_template: z.string().min(1).optional(),
  variables: z.record(z.string(), z.unknown()),
});

/** Collects problems for one endpoint, each prefixed with the file, the endpoint and the JSON path. */
class Reporter {
  constructor(
    private readonly prefix: string,
    private readonly problems: string[],
    private readonly warnings: string[],
  ) {}

  error(at: ReadonlyArray<PropertyKey>, message: string): void {
    this.problems.push(`${this.prefix}${jsonPath(at)}: ${message}`);
  }

  warn(at: ReadonlyArray<PropertyKey>, message: string): void {
    this.warnings.push(`${this.prefix}${jsonPath(at)}: ${message}`);
  }

  /** Reports zod issues under `at`; returns the parsed value or undefined. */
  parse<T>(schema: z.ZodType<T>, value: unknown, at: ReadonlyArray<PropertyKey>): T | undefined {
    const parsed = schema.safeParse(value);
    if (parsed.success) return parsed.data;
    for (const issue of parsed.error.issues) {
      if (issue.code === 'unrecognized_keys') {
        for (const key of issue.keys) this.error([...at, ...issue.path, key], 'unknown key');
      } else {
        this.error([...at, ...issue.path], issue.message);
      }
    }
    return undefined;
  }

  ignoreUnknownKeys(value: Record<string, unknown>, known: ReadonlySet<string>, at: ReadonlyArray<PropertyKey>): void {
    for (const key of Object.keys(value)) if (!known.has(key)) this.warn([...at, key], 'not supported by Tollgate, ignored');
  }
}

const ENDPOINT_KEYS = new Set(Object.keys(endpointSchema.shape));
const BACKEND_KEYS = new Set(Object.keys(backendSchema.shape));

/** Reads, validates and compiles every endpoint; problems and warnings are appended. */
export async function loadLlmEndpoints(
  service: KrakendService,
  fileName: string,
  env: NodeJS.ProcessEnv,
  problems: string[],
  warnings: string[],
): Promise<LlmEndpoint[]> {
  const templateEnv = stringEnv(env);
  const baseDir = path.dirname(path.resolve(fileName));
  const defaultHosts = Array.isArray(service.host) ? service.host.filter((h): h is string => typeof h === 'string') : [];
  let defaultTimeoutMs = DEFAULT_TIMEOUT_MS;
  if (service.timeout !== undefined) {
    const ms = typeof service.timeout === 'string' ? parseGoDuration(service.timeout) : null;
    if (ms === null) problems.push(`${fileName}: $.timeout: must be a Go duration such as "30s"`);
    else defaultTimeoutMs = ms;
  }

  const endpoints: LlmEndpoint[] = [];
  const seen = new Set<string>();
  for (const [i, raw] of (service.endpoints ?? []).entries()) {
    const name = typeof (raw as { endpoint?: unknown })?.endpoint === 'string' ? (raw as { endpoint: string }).endpoint : `#${i}`;
    const report = new Reporter(`${fileName}: endpoint "${name}": `, problems, warnings);
    const endpoint = await loadEndpoint(raw, ['endpoints', i], report, { baseDir, templateEnv, defaultHosts, defaultTimeoutMs });
    if (!endpoint) continue;
    const id = `${endpoint.method} ${endpoint.path}`;
    if (seen.has(id)) report.error(['endpoints', i], `duplicate endpoint ${id}`);
    seen.add(id);
    endpoints.push(endpoint);
  }
  return endpoints;
}

interface LoadContext {
  baseDir: string;
  templateEnv: Record<string, string>;
  defaultHosts: string[];
  defaultTimeoutMs: number;
}

async function loadEndpoint(raw: unknown, at: PropertyKey[], report: Reporter, ctx: LoadContext): Promise<LlmEndpoint | undefined> {
  const ep = report.parse(endpointSchema, raw, at);
  if (!ep) return undefined;
  report.ignoreUnknownKeys(ep, ENDPOINT_KEYS, at);
  if (ep.endpoint === '/healthz' || ep.endpoint === '/api' || ep.endpoint.startsWith('/api/')) {
    report.error([...at, 'endpoint'], 'clashes with a gateway route (/healthz, /api/...)');
    return undefined;
  }

  let isPublic = false;
  for (const [ns, value] of Object.entries(ep.extra_config ?? {})) {
    if (ns === TOLLGATE_NAMESPACE) isPublic = report.parse(tollgateSchema, value, [...at, 'extra_config', ns])?.public ?? false;
    else report.error([...at, 'extra_config', ns], `namespace not supported by Tollgate (supported at endpoint level: "${TOLLGATE_NAMESPACE}")`);
  }

  if (ep.backend.length > 1) {
    report.error([...at, 'backend'], `${ep.backend.length} backends: Tollgate serves exactly one ai/llm backend per endpoint`);
    return undefined;
  }
  const backendAt = [...at, 'backend', 0];
  const backend = report.parse(backendSchema, ep.backend[0], backendAt);
  if (!backend) return undefined;
  report.ignoreUnknownKeys(backend, BACKEND_KEYS, backendAt);

  const namespaces = Object.keys(backend.extra_config ?? {});
  for (const ns of namespaces) {
    if (ns !== LLM_NAMESPACE) report.error([...backendAt, 'extra_config', ns], `namespace not supported by Tollgate (supported: "${LLM_NAMESPACE}")`);
  }
  if (!namespaces.includes(LLM_NAMESPACE)) {
    report.error([...backendAt, 'extra_config'], `missing "${LLM_NAMESPACE}": Tollgate serves only ai/llm backends`);
    return undefined;
  }
  const llm = validateLlmBlock(backend.extra_config![LLM_NAMESPACE], [...backendAt, 'extra_config', LLM_NAMESPACE], report);
  if (!llm) return undefined;

  const hosts = backend.host ?? ctx.defaultHosts;
  const upstream = resolveHost(hosts, backend.url_pattern, backendAt, report);
  const credentials = resolveCredentials(llm.settings.credentials, [...llm.at, 'credentials'], report, ctx.templateEnv);
  const input = await loadTemplate(llm.settings.input_template, llm.vendor.inputTemplate, 'input', [...llm.at, 'input_template'], report, ctx);
  const output = await loadTemplate(llm.settings.output_template, llm.vendor.outputTemplate, 'output', [...llm.at, 'output_template'], report, ctx);
  let timeoutMs = ctx.defaultTimeoutMs;
  if (ep.timeout !== undefined) {
    const ms = parseGoDuration(ep.timeout);
    if (ms === null) report.error([...at, 'timeout'], 'must be a Go duration such as "30s"');
    else timeoutMs = ms;
  }
  if (!upstream || credentials === undefined || !input || !output) return undefined;

  const model = typeof llm.variables.model === 'string' ? llm.variables.model : (/\/models\/([^/:]+)/.exec(backend.url_pattern)?.[1] ?? null);
  return {
    path: ep.endpoint,
    method: ep.method,
    public: isPublic,
    vendor: llm.vendor,
    origin: upstream.origin,
    upstreamPath: upstream.path,
    upstreamMethod: backend.method ?? 'POST',
    credentials,
    debug: llm.settings.debug ?? false,
    model,
    variables: templateVariables(llm.vendor, llm.variables),
    input,
    output,
    mapping: backend.mapping ?? {},
    inputHeaders: ep.input_headers?.includes('*') === false ? ep.input_headers.map((h) => h.toLowerCase()) : null,
    inputQueryStrings: ep.input_query_strings?.includes('*') === false ? ep.input_query_strings : null,
    timeoutMs,
  };
}

/** Exactly one vendor, exactly one version, no unknown keys, the vendor's variables typed. */
function validateLlmBlock(
  value: unknown,
  at: PropertyKey[],
  report: Reporter,
): { vendor: VendorDefinition; settings: z.infer<typeof llmSettingsSchema>; variables: Record<string, unknown>; at: PropertyKey[] } | undefined {
  const block = report.parse(z.record(z.string(), z.unknown()), value, at);
  if (!block) return undefined;
  const vendors = Object.keys(block);
  if (vendors.length !== 1) {
    report.error(at, `must configure exactly one vendor (one of ${Object.keys(VENDORS).join(', ')}), found ${vendors.length}`);
    return undefined;
  }
  const vendorName = vendors[0]!;
  const versions = VENDORS[vendorName];
  if (!versions) {
    report.error([...at, vendorName], `unknown vendor (supported: ${Object.keys(VENDORS).join(', ')})`);
    return undefined;
  }
  const versionBlock = report.parse(z.record(z.string(), z.unknown()), block[vendorName], [...at, vendorName]);
  if (!versionBlock) return undefined;
  const versionNames = Object.keys(versionBlock);
  if (versionNames.length !== 1) {
    report.error([...at, vendorName], `must configure exactly one version (one of ${Object.keys(versions).join(', ')}), found ${versionNames.length}`);
    return undefined;
  }
  const versionName = versionNames[0]!;
  const vendor = versions[versionName];
  if (!vendor) {
    report.error([...at, vendorName, versionName], `unknown version of ${vendorName} (supported: ${Object.keys(versions).join(', ')})`);
    return undefined;
  }
  const settingsAt = [...at, vendorName, versionName];
  const settings = report.parse(llmSettingsSchema, versionBlock[versionName], settingsAt);
  if (!settings) return undefined;
  const variables = report.parse(vendor.variables, settings.variables, [...settingsAt, 'variables']);
  if (!variables) return undefined;
  return { vendor, settings, variables, at: settingsAt };
}

function resolveHost(hosts: string[], urlPattern: string, at: PropertyKey[], report: Reporter): { origin: string; path: string } | undefined {
  if (hosts.length === 0) {
    report.error([...at, 'host'], 'required (here or at the top level of the file)');
    return undefined;
  }
  if (hosts.length > 1) report.warn([...at, 'host'], `only the first host is used (${hosts[0]}); load balancing is not supported`);
  let url: URL;
  try {
    url = new URL(hosts[0]!);
  } catch {
    report.error([...at, 'host', 0], `not a valid URL: ${JSON.stringify(hosts[0])}`);
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    report.error([...at, 'host', 0], 'must be an http:// or https:// URL');
    return undefined;
  }
  return { origin: url.origin, path: url.pathname.replace(/\/+$/, '') + urlPattern };
}

/** Credentials may be a template, as KrakenD configs write them: `{{ env "MISTRAL_API_KEY" }}`. */
function resolveCredentials(text: string, at: PropertyKey[], report: Reporter, env: Record<string, string>): string | undefined {
  let value = text;
  if (text.includes('{{')) {
    try {
      value = parseTemplate('credentials', text, { env }).execute({});
    } catch (err) {
      if (!(err instanceof TemplateParseError || err instanceof TemplateExecError)) throw err;
      report.error(at, err.message);
      return undefined;
    }
  }
  value = value.trim();
  if (value === '') {
    report.error(at, text.includes('{{') ? `${text} resolves to an empty string (is the environment variable set?)` : 'must not be empty');
    return undefined;
  }
  return value;
}

async function loadTemplate(
  file: string | undefined,
  fallback: string,
  kind: string,
  at: PropertyKey[],
  report: Reporter,
  ctx: LoadContext,
): Promise<CompiledTemplate | undefined> {
  const fullPath = file === undefined ? undefined : path.resolve(ctx.baseDir, file);
  let text = fallback;
  if (fullPath) {
    try {
      text = await readFile(fullPath, 'utf8');
    } catch (err) {
      report.error(at, `cannot read ${fullPath}: ${(err as Error).message}`);
      return undefined;
    }
  }
  try {
    return parseTemplate(fullPath ?? `default ${kind} template`, text, { env: ctx.templateEnv });
  } catch (err) {
    if (!(err instanceof TemplateParseError)) throw err;
    report.error(at, `${fullPath ?? `default ${kind} template`}:${err.line}:${err.col}: ${err.message}`);
    return undefined;
  }
}

/** `.variables`: the vendor's defaults (sentinels for unset values) overridden by the configured ones, ints as Go ints. */
function templateVariables(vendor: VendorDefinition, configured: Record<string, unknown>): Record<string, unknown> {
  const variables: Record<string, unknown> = { ...vendor.defaults(), ...configured };
  for (const name of vendor.intVariables) {
    const v = variables[name];
    if (typeof v === 'number') variables[name] = goInt(v);
  }
  return variables;
}

function stringEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) out[k] = v;
  return out;
}

/** Top-level KrakenD service keys accepted in the config file but not applied by Tollgate (reported as ignored). */
const IGNORED_SERVICE_KEYS = [
  'name', 'extra_config', 'cache_ttl', 'output_encoding', 'listen_ip', 'debug_endpoint', 'echo_endpoint', 'read_timeout',
  'write_timeout', 'idle_timeout', 'read_header_timeout', 'disable_rest', 'plugin', 'tls', 'client_tls',
  'max_idle_connections', 'idle_connection_timeout', 'response_header_timeout', 'dialer_timeout', 'dialer_keep_alive',
  'disable_keep_alives', 'disable_compression', 'sequential_start', 'async_agent', 'use_h2c', 'dns_cache_ttl',
  'allow_insecure_connections',
] as const;

/** The zod shape of the KrakenD keys of the config file (merged into the config file schema). */
export const krakendServiceShape = {
  version: z.literal(3, 'only KrakenD configuration version 3 is supported').optional(),
  port: z.int().min(0).max(65535).optional(),
  host: z.array(z.string()).min(1).optional(),
  timeout: z.string().optional(),
  endpoints: z.array(z.unknown()).optional(),
  ...(Object.fromEntries(IGNORED_SERVICE_KEYS.map((k) => [k, z.unknown().optional()])) as Record<
    (typeof IGNORED_SERVICE_KEYS)[number],
    z.ZodOptional<z.ZodUnknown>
  >),
};

/** Warnings for the top-level keys that are accepted but not applied; a problem if endpoints come without version 3. */
export function checkKrakendService(file: Record<string, unknown>, fileName: string, problems: string[], warnings: string[]): void {
  if (file.endpoints !== undefined && file.version === undefined) problems.push(`${fileName}: $.version: must be 3 when "endpoints" is set`);
  for (const key of IGNORED_SERVICE_KEYS) {
    if (file[key] !== undefined) warnings.push(`${fileName}: ${jsonPath([key])}: not supported by Tollgate, ignored`);
  }
}
