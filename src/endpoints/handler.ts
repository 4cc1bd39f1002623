/**
 * The governed request path of templated LLM endpoints (KrakenD `ai/llm` backends):
 * authenticate -> read the JSON body -> evaluate policy (llm:chat.completions on <vendor>/<model>) -> render the input
 * template -> call the vendor -> render the output template -> apply `mapping` -> answer. Every outcome completes
 * exactly one audit record (provider = vendor, route = endpoint path).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { Pool, type Dispatcher } from 'undici';
import { applyUsage, elapsedMs, startRecord } from '../audit/record.js';
import type { AuditWriter } from '../audit/writer.js';
import { applyDecision } from '../governance/apply-decision.js';
import { ClientAbort } from '../proxy/client-abort.js';
import type { PolicyRegistry } from '../governance/policy-registry.js';
import { parseJsonObject, readBody, requireJsonContentType } from '../http/body.js';
import { GatewayError, auditUnavailable, type ErrorType } from '../http/errors.js';
import { gatewayKey, headerValue } from '../http/gateway-key.js';
import { sendError } from '../http/respond.js';
import type { KeyRegistry } from '../keys/registry.js';
import type { Logger } from '../log.js';
import type { EvalRequest } from '../policy/index.js';
import { upstreamFailure } from '../providers/upstream.js';
import { upstreamMessage } from '../proxy/upstream-errors.js';
import type { AuditRecord } from '../store/types.js';
import { GoInt, TemplateExecError, fromGoJson } from '../templates/index.js';
import type { LlmEndpoint } from './config.js';
import { requestData, responseData } from './template-data.js';

export const LLM_ENDPOINT_ACTION = 'llm:chat.completions';

export interface LlmEndpointDeps {
  endpoints: readonly LlmEndpoint[];
  keys: KeyRegistry;
  policies: PolicyRegistry;
  audit: AuditWriter;
  maxBodyBytes: number;
  logger: Logger;
}

export class LlmEndpointHandler {
  private readonly byPath = new Map<string, LlmEndpoint[]>();
  private readonly pools = new Map<string, Pool>();

  constructor(private readonly deps: LlmEndpointDeps) {
    for (const endpoint of deps.endpoints) {
      const list = this.byPath.get(endpoint.path) ?? [];
      list.push(endpoint);
      this.byPath.set(endpoint.path, list);
      if (!this.pools.has(endpoint.origin)) this.pools.set(endpoint.origin, new Pool(endpoint.origin, { connections: 128, keepAliveTimeout: 30_000 }));
    }
  }

  /** True when `path` is a configured endpoint (exact match, whatever the method). */
  serves(path: string): boolean {
    return this.byPath.has(path);
  }

  /** Never throws. */
  async handle(req: IncomingMessage, res: ServerResponse, path: string, search: string): Promise<void> {
    const now = Date.now();
    const started = performance.now();
    const record = startRecord(req.method ?? 'GET', path, now);
    res.setHeader('x-tollgate-request-id', record.id);
    let done = false;
    const complete = (status: number) => {
      if (done) return;
      done = true;
      record.status = record.client_aborted ? 499 : status;
      record.latency_ms = elapsedMs(started);
      this.deps.audit.enqueue(record);
    };
    // Cancels the vendor request when the client goes away first.
    const abort = new ClientAbort();
    res.once('close', () => {
      if (res.writableFinished) return;
      record.client_aborted = true;
      record.error_message ??= 'client closed the connection';
      abort.abort();
      complete(499);
    });
    try {
      const { status, body } = await this.serve(req, res, record, path, search, now, abort);
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
      res.end(body);
      complete(status);
    } catch (err) {
      const error = err instanceof GatewayError ? err : upstreamFailure(record.provider ?? 'unknown', err);
      record.error_message ??= error.message;
      if (record.reason_code === 'INCOMPLETE') record.reason_code = 'INVALID_REQUEST';
      if (!record.client_aborted) sendError(res, error);
      complete(error.status);
    }
  }

  private async serve(
    req: IncomingMessage,
    res: ServerResponse,
    record: AuditRecord,
    path: string,
    search: string,
    now: number,
    abort: ClientAbort,
  ): Promise<{ status: number; body: string }> {
    const candidates = this.byPath.get(path) ?? [];
    const endpoint = candidates.find((e) => e.method === req.method);
    const vendor = (endpoint ?? candidates[0])?.vendor.vendor ?? null;
    record.provider = vendor;
    record.agent_id = headerValue(req, 'x-controlzero-agent-id') ?? `${vendor}-direct`;
    record.action = LLM_ENDPOINT_ACTION;
    if (!endpoint) {
      res.setHeader('allow', candidates.map((e) => e.method).join(', '));
      record.reason_code = 'UNKNOWN_ROUTE';
      throw new GatewayError(405, 'invalid_request_error', 'method_not_allowed', `${req.method} ${path} is not allowed; use ${candidates.map((e) => e.method).join(' or ')}`);
    }
    record.model = endpoint.model;
    record.resource = `${endpoint.vendor.vendor}/${endpoint.model ?? '*'}`;
    if (!this.deps.audit.accepting) {
      record.reason_code = 'AUDIT_UNAVAILABLE';
      throw auditUnavailable();
    }

    let key: EvalRequest['key'];
    if (!endpoint.public) {
      const auth = await this.deps.keys.authenticate(gatewayKey(req), now);
      record.key_id = auth.key?.id ?? null;
      if (!auth.ok) {
        record.reason_code = `AUTH_${auth.code.toUpperCase()}`;
        throw new GatewayError(401, 'authentication_error', auth.code, auth.message);
      }
      key = { id: auth.key.id, attributes: auth.key.attributes };
    }

    const reqBody = await this.readJsonBody(req);
    this.authorize(endpoint, reqBody, key, record, res, now);

    const reqData = requestData(endpoint, reqBody, req.headers, search);
    const payload = this.render(endpoint, 'input', () => endpoint.input.execute(reqData), record);
    this.debug(endpoint, 'payload sent', { url: endpoint.origin + endpoint.upstreamPath, payload });

    const upstreamStarted = performance.now();
    const response = await this.pools.get(endpoint.origin)!.request({
      path: endpoint.upstreamPath,
      method: endpoint.upstreamMethod as Dispatcher.HttpMethod,
      headers: { 'content-type': 'application/json', 'accept-encoding': 'identity', ...endpoint.vendor.authHeaders(endpoint.credentials) },
      body: payload,
      headersTimeout: endpoint.timeoutMs,
      bodyTimeout: endpoint.timeoutMs,
      signal: abort,
    });
    const text = await response.body.text();
    record.upstream_latency_ms = elapsedMs(upstreamStarted);
    this.debug(endpoint, 'response received', { status: response.statusCode, body: text });
    if (response.statusCode >= 400) throw upstreamError(endpoint.vendor.vendor, response.statusCode, text);

    let respBody: unknown;
    try {
      respBody = fromGoJson(text);
    } catch (err) {
      throw new GatewayError(502, 'upstream_error', 'upstream_invalid_response', `Provider ${endpoint.vendor.vendor} answered with invalid JSON: ${(err as Error).message}`);
    }
    const usage = endpoint.vendor.usage(respBody);
    if (usage) applyUsage(record, usage);
    const respData = responseData(reqData, response.statusCode, response.headers, respBody);
    const rendered = this.render(endpoint, 'output', () => endpoint.output.execute(respData), record);
    return { status: response.statusCode, body: JSON.stringify(applyMapping(parseOutput(rendered, record), endpoint.mapping)) };
  }

  private async readJsonBody(req: IncomingMessage): Promise<unknown> {
    requireJsonContentType(req);
    return parseJsonObject(await readBody(req, this.deps.maxBodyBytes), fromGoJson);
  }


  /** Policy input: the endpoint's model and limits, and the caller's text as chat messages (for prompt conditions). */
  private authorize(endpoint: LlmEndpoint, reqBody: unknown, key: EvalRequest['key'], record: AuditRecord, res: ServerResponse, now: number): void {
    const b = reqBody as Record<string, unknown>;
    const messages = [
      ...(typeof b.instructions === 'string' ? [{ role: 'system', content: b.instructions }] : []),
      ...(typeof b.contents === 'string' ? [{ role: 'user', content: b.contents }] : []),
    ];
    const body: Record<string, unknown> = { ...governedVariables(endpoint.variables), model: endpoint.model ?? undefined, messages, stream: false };
    const decision = this.deps.policies.decide({
      action: LLM_ENDPOINT_ACTION,
      resource: record.resource!,
      provider: endpoint.vendor.vendor,
      body,
      key,
      agent_id: record.agent_id ?? undefined,
      now,
    });
    applyDecision(decision, record, res, reqBody);
  }

  private render(endpoint: LlmEndpoint, which: 'input' | 'output', run: () => string, record: AuditRecord): string {
    try {
      return run();
    } catch (err) {
      if (!(err instanceof TemplateExecError)) throw err;
      record.error_message = `${which} template failed: ${err.message}`;
      record.details = { ...record.details, template: which };
      throw new GatewayError(500, 'server_error', 'template_error', `The endpoint's ${which} template failed: ${err.message}`);
    }
  }

  /** `debug: true` logs what is sent and received; the vendor credentials are redacted wherever they appear. */
  private debug(endpoint: LlmEndpoint, what: string, fields: Record<string, unknown>): void {
    if (!endpoint.debug) return;
    const text = JSON.stringify(fields).split(endpoint.credentials).join('[REDACTED]');
    this.deps.logger.info(`ai/llm ${endpoint.vendor.vendor}/${endpoint.vendor.version} ${endpoint.path}: ${what}`, JSON.parse(text) as Record<string, unknown>);
  }

  close(): Promise<void> {
    return Promise.all([...this.pools.values()].map((p) => p.close())).then(() => undefined);
  }
}

/** The vendor's error, answered with its status in the OpenAI error shape. */
function upstreamError(vendor: string, status: number, text: string): GatewayError {
  const { message, code, param } = upstreamMessage(text);
  const type: ErrorType =
    status === 401 || status === 403 ? 'upstream_error' : status === 429 ? 'rate_limit_error' : status === 404 ? 'not_found_error' : status >= 500 ? 'upstream_error' : 'invalid_request_error';
  return new GatewayError(status, type, code ?? `upstream_${status}`, `Provider ${vendor} answered ${status}: ${message}`, param, { upstream_status: status, provider: vendor });
}

function parseOutput(rendered: string, record: AuditRecord): unknown {
  try {
    return JSON.parse(rendered);
  } catch (err) {
    record.error_message = `output template produced invalid JSON: ${(err as Error).message}`;
    throw new GatewayError(500, 'server_error', 'template_error', `The endpoint's output template produced invalid JSON: ${(err as Error).message}`);
  }
}

/** KrakenD's backend `mapping`: renames top-level fields of the answer. */
function applyMapping(value: unknown, mapping: Record<string, string>): unknown {
  const renames = Object.entries(mapping);
  if (renames.length === 0 || typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[mapping[k] ?? k] = v;
  return out;
}

/** Variables policies can test, under their chat-completions names (unset sentinels left out). */
const GOVERNED_VARIABLES: Record<string, string> = { max_tokens: 'max_tokens', max_output_tokens: 'max_tokens', temperature: 'temperature', top_p: 'top_p', n: 'n' };

function governedVariables(variables: Record<string, unknown>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, as] of Object.entries(GOVERNED_VARIABLES)) {
    const value = variables[name];
    const n = typeof value === 'number' ? value : value instanceof GoInt ? Number(value.value) : NaN;
    if (Number.isFinite(n) && n >= 0) out[as] = n;
  }
  return out;
}

