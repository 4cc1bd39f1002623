/**
 * The governed request path for provider routes `/<provider>/v1/*`:
 * authenticate -> read and validate the body -> evaluate policy -> forward -> relay the answer -> audit.
 * Every outcome, including each failure, completes exactly one audit record.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Dispatcher } from 'undici';
import type { ZodType } from 'zod';
import type { AuditWriter } from '../audit/writer.js';
import { applyUsage, startRecord, usageOf } from '../audit/record.js';
import { scanUsage } from '../audit/usage-scan.js';
import type { PolicyRegistry } from '../governance/policy-registry.js';
import { isJsonContentType, parseJsonObject, readBody } from '../http/body.js';
import { GatewayError, badRequest, notFound } from '../http/errors.js';
import { sendError } from '../http/respond.js';
import type { KeyRegistry } from '../keys/registry.js';
import type { Decision, EvalRequest } from '../policy/index.js';
import type { WireAdapter } from '../providers/fim-adapter.js';
import { resolveRoute, type GovernedBody } from '../providers/routes.js';
import { responseHeaders, upstreamFailure, type Upstream } from '../providers/upstream.js';
import { SseParser } from '../sse/parser.js';
import type { AuditRecord } from '../store/types.js';
import { ClientAbort } from './client-abort.js';
import { upstreamErrorToGateway } from './upstream-errors.js';

export interface ProxyDeps {
  upstreams: Map<string, Upstream>;
  keys: KeyRegistry;
  policies: PolicyRegistry;
  audit: AuditWriter;
  maxBodyBytes: number;
}

const ENGINE_UNAVAILABLE: Decision = {
  decision: 'deny',
  reason_code: 'ENGINE_UNAVAILABLE',
  policy: null,
  policy_id: null,
  rule: null,
  effect: null,
  reason: 'the policy engine failed on this request; denied (fail closed)',
  warnings: [],
  audit_full_request: false,
};

/** Per-request state shared by the steps below. */
interface Exchange {
  req: IncomingMessage;
  res: ServerResponse;
  record: AuditRecord;
  started: number; // performance.now() at arrival
  /** Aborted when the client goes away before its answer is complete; cancels the upstream request. */
  abort: ClientAbort;
  done: boolean;
}

export class ProviderProxy {
  constructor(private readonly deps: ProxyDeps) {}

  /** `path` is the URL path, `search` its query string ("" or "?..."). Never throws. */
  async handle(req: IncomingMessage, res: ServerResponse, path: string, search: string): Promise<void> {
    const now = Date.now();
    const ex: Exchange = {
      req,
      res,
      record: startRecord(req.method ?? 'GET', path, now),
      started: performance.now(),
      abort: new ClientAbort(),
      done: false,
    };
    res.setHeader('x-tollgate-request-id', ex.record.id);
    res.once('close', () => {
      if (res.writableFinished) return;
      ex.record.client_aborted = true;
      ex.abort.abort();
    });
    try {
      await this.serve(ex, path, search, now);
    } catch (err) {
      const error = err instanceof GatewayError ? err : upstreamFailure(ex.record.provider ?? 'unknown', err);
      if (!(err instanceof GatewayError)) ex.record.error_message = (err as Error).message;
      this.fail(ex, error);
    }
  }

  private async serve(ex: Exchange, path: string, search: string, now: number): Promise<void> {
    const { req, res, record } = ex;
    record.agent_id = headerValue(req, 'x-controlzero-agent-id') ?? null;
    // path = /<provider>/v1/<rest>
    const slash = path.indexOf('/', 1);
    const providerName = slash < 0 ? path.slice(1) : path.slice(1, slash);
    const upstream = this.deps.upstreams.get(providerName);
    if (!upstream) {
      record.reason_code = 'UNKNOWN_PROVIDER';
      throw notFound(
        'unknown_provider',
        `Unknown or disabled provider "${providerName}". Enabled providers: ${[...this.deps.upstreams.keys()].join(', ') || 'none'} ` +
          `(enable one with CZ_GATEWAY_<PROVIDER>_ENABLED=true)`,
      );
    }
    record.provider = providerName;
    record.agent_id ??= `${providerName}-direct`;
    if (!this.deps.audit.accepting) {
      record.reason_code = 'AUDIT_UNAVAILABLE';
      throw new GatewayError(503, 'server_error', 'audit_unavailable', 'The audit store is failing; requests are refused until it recovers (CZ_GATEWAY_AUDIT_FAILURE_MODE=closed)');
    }

    const auth = await this.deps.keys.authenticate(gatewayKey(req), now);
    record.key_id = auth.key?.id ?? null;
    if (!auth.ok) {
      record.reason_code = `AUTH_${auth.code.toUpperCase()}`;
      throw new GatewayError(401, 'authentication_error', auth.code, auth.message);
    }

    const rest = slash < 0 ? '' : path.slice(slash);
    if (!rest.startsWith('/v1/') && rest !== '/v1') {
      record.reason_code = 'UNKNOWN_ROUTE';
      throw notFound('unknown_route', `No route ${req.method} ${path}: provider routes live under /${providerName}/v1/`);
    }
    const subpath = rest.slice(3);
    const { spec, pathModel } = resolveRoute(req.method ?? 'GET', subpath);
    record.action = spec.action;

    let rawBody: Buffer | null = null;
    let body: GovernedBody | undefined;
    if (spec.body || (req.method !== 'GET' && req.method !== 'HEAD' && isJsonContentType(req.headers['content-type']))) {
      rawBody = await this.readGovernedBody(ex, spec.body !== null);
      if (spec.body) body = validateBody(spec.body, parseJsonObject(rawBody), record);
    }
    const model = body?.model ?? pathModel;
    record.model = model ?? null;
    record.resource = `${providerName}/${model ?? '*'}`;

    const decision = this.decide({
      action: spec.action,
      resource: record.resource,
      provider: providerName,
      body,
      key: { id: auth.key.id, attributes: auth.key.attributes },
      agent_id: record.agent_id,
      now,
    });
    record.decision = decision.decision;
    record.reason_code = decision.reason_code;
    record.policy = decision.policy;
    record.rule = decision.rule;
    res.setHeader('x-tollgate-decision', decision.decision);
    if (decision.reason_code === 'OBSERVE_MODE_NO_POLICY') res.setHeader('x-tollgate-policy-mode', 'observe');
    if (decision.warnings.length > 0) {
      // Header values must be visible ASCII: percent-encode anything else a rule's message may contain.
      const text = decision.warnings.map((w) => `${w.policy}#${w.rule}: ${w.message}`).join('; ');
      res.setHeader('x-tollgate-warning', text.replace(/[^\x20-\x7e]/g, (c) => encodeURIComponent(c)));
      record.details = { ...record.details, warnings: decision.warnings };
    }
    if (decision.audit_full_request && body) record.details = { ...record.details, request: body };
    if (decision.decision === 'deny') {
      throw new GatewayError(403, 'permission_error', 'policy_denied', `Request denied by policy: ${decision.reason}`, null, {
        policy: decision.policy,
        rule: decision.rule,
        reason_code: decision.reason_code,
      });
    }

    await this.forward(ex, upstream, subpath, search, rawBody, body);
  }

  private async readGovernedBody(ex: Exchange, required: boolean): Promise<Buffer> {
    const contentType = ex.req.headers['content-type'];
    if (required && !isJsonContentType(contentType)) {
      ex.record.reason_code = 'INVALID_REQUEST';
      throw new GatewayError(
        415,
        'invalid_request_error',
        'unsupported_content_type',
        `Content-Type must be application/json, got ${contentType ? JSON.stringify(contentType) : 'none'}`,
      );
    }
    try {
      return await readBody(ex.req, this.deps.maxBodyBytes);
    } catch (err) {
      ex.record.reason_code = 'INVALID_REQUEST';
      throw err;
    }
  }

  private decide(request: EvalRequest): Decision {
    try {
      return this.deps.policies.snapshot.evaluate(request);
    } catch {
      return ENGINE_UNAVAILABLE;
    }
  }

  private async forward(ex: Exchange, upstream: Upstream, subpath: string, search: string, rawBody: Buffer | null, body: GovernedBody | undefined): Promise<void> {
    const { req, res, record } = ex;
    const adapter = body ? upstream.adapter(subpath) : null;
    if (adapter && body) rawBody = Buffer.from(JSON.stringify(adapter.request(body)));
    // A body we did not read is streamed through; keep its declared length so the provider sees no chunked upload.
    const declaredLength = Number(req.headers['content-length']);
    const contentLength = rawBody ? rawBody.length : Number.isInteger(declaredLength) ? declaredLength : null;
    const upstreamStarted = performance.now();
    const response = await upstream.request({
      path: upstream.path(subpath, search),
      method: (req.method ?? 'GET') as Dispatcher.HttpMethod,
      headers: upstream.requestHeaders(req.headers, contentLength),
      body: rawBody ?? (req.method === 'GET' || req.method === 'HEAD' ? null : req),
      signal: ex.abort,
    });
    const contentType = String(response.headers['content-type'] ?? '');
    const isStream = contentType.startsWith('text/event-stream');
    record.streamed = isStream;

    if (response.statusCode >= 400 && !isStream) {
      const text = await response.body.text();
      record.upstream_latency_ms = round(performance.now() - upstreamStarted);
      const error = upstreamErrorToGateway(upstream.config.name, response.statusCode, text);
      record.error_message = error.message;
      this.fail(ex, error, pickHeaders(response.headers, RATE_LIMIT_HEADERS));
      return;
    }

    if (isStream) {
      await this.relayStream(ex, response, upstreamStarted, adapter);
      return;
    }

    let buf = Buffer.from(await response.body.arrayBuffer());
    record.upstream_latency_ms = round(performance.now() - upstreamStarted);
    if (isJsonContentType(contentType)) {
      if (adapter) {
        const json = parseJsonOrNull(buf.toString('utf8'));
        if (json) {
          const usage = usageOf(json);
          if (usage) applyUsage(record, usage);
          buf = Buffer.from(JSON.stringify(adapter.response(json)));
        } else record.error_message = 'provider returned a JSON content type with an unparsable body';
      } else {
        const usage = scanUsage(buf);
        if (usage) applyUsage(record, usage);
      }
    }
    const headers = responseHeaders(response.headers);
    headers['content-length'] = String(buf.length);
    res.writeHead(response.statusCode, headers);
    res.end(buf);
    this.complete(ex, response.statusCode);
  }

  /**
   * Relays an event stream as it arrives: each upstream chunk is written as soon as it is read (same bytes, no
   * coalescing) unless an adapter must rewrite events, in which case each complete event is written when it completes.
   * Usage is noted on the way.
   */
  private async relayStream(ex: Exchange, response: Dispatcher.ResponseData, upstreamStarted: number, adapter: WireAdapter | null): Promise<void> {
    const { res, record } = ex;
    const headers = responseHeaders(response.headers);
    res.writeHead(response.statusCode, headers);
    res.flushHeaders();
    const parser = new SseParser();
    try {
      for await (const chunk of response.body as AsyncIterable<Buffer>) {
        if (record.upstream_latency_ms === null) record.upstream_latency_ms = round(performance.now() - upstreamStarted);
        if (!adapter && !res.write(chunk)) await waitForDrain(res);
        let out = '';
        for (const event of parser.push(chunk)) {
          const json = event.data.startsWith('{') && (adapter || event.data.includes('"usage"')) ? parseEventJson(event.data, record) : null;
          if (json) {
            const usage = usageOf(json);
            if (usage) applyUsage(record, usage);
          }
          if (adapter) out += json ? `data: ${JSON.stringify(adapter.chunk(json))}\n\n` : event.raw;
        }
        if (out && !res.write(out)) await waitForDrain(res);
      }
    } catch (err) {
      if (record.client_aborted) {
        this.complete(ex, 499);
        return;
      }
      const error = upstreamFailure(record.provider ?? 'unknown', err);
      record.error_message = error.message;
      // Headers are sent: tell the client in-band, then end the stream.
      res.end(`data: ${JSON.stringify(error.toBody())}\n\n`);
      this.complete(ex, error.status);
      return;
    }
    if (record.upstream_latency_ms === null) record.upstream_latency_ms = round(performance.now() - upstreamStarted);
    res.end();
    this.complete(ex, response.statusCode);
  }

  private fail(ex: Exchange, error: GatewayError, headers: Record<string, string> = {}): void {
    if (ex.record.client_aborted) {
      if (ex.record.reason_code === 'INCOMPLETE') ex.record.reason_code = 'CLIENT_ABORTED';
      ex.record.error_message ??= 'client closed the connection';
      this.complete(ex, 499);
      return;
    }
    if (ex.record.error_message === null) ex.record.error_message = error.message;
    if (ex.record.reason_code === 'INCOMPLETE') ex.record.reason_code = 'INVALID_REQUEST';
    sendError(ex.res, error, headers);
    this.complete(ex, error.status);
  }

  /** Completes the audit record (exactly once per request). */
  private complete(ex: Exchange, status: number): void {
    if (ex.done) return;
    ex.done = true;
    ex.record.status = ex.record.client_aborted ? 499 : status;
    ex.record.latency_ms = round(performance.now() - ex.started);
    this.deps.audit.enqueue(ex.record);
  }
}

const RATE_LIMIT_HEADERS = ['retry-after', 'x-ratelimit-limit-requests', 'x-ratelimit-remaining-requests', 'ratelimitbysize-limit', 'ratelimitbysize-remaining', 'ratelimitbysize-reset'];

function pickHeaders(headers: Record<string, string | string[] | undefined>, names: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of names) {
    const v = headers[name];
    if (typeof v === 'string') out[name] = v;
  }
  return out;
}

function parseJsonOrNull(text: string): Record<string, unknown> | null {
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    return null;
  }
}

function parseEventJson(data: string, record: AuditRecord): Record<string, unknown> | null {
  const json = parseJsonOrNull(data);
  if (!json) record.error_message = 'provider sent a stream event that is not valid JSON';
  return json;
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

function headerValue(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** The gateway key: X-ControlZero-API-Key wins (it leaves Authorization to tools that need it), else the bearer token. */
function gatewayKey(req: IncomingMessage): string | undefined {
  const explicit = headerValue(req, 'x-controlzero-api-key');
  if (explicit) return explicit.trim();
  const auth = headerValue(req, 'authorization');
  if (!auth) return undefined;
  return auth.toLowerCase().startsWith('bearer ') ? auth.slice(7).trim() : undefined;
}

function validateBody(schema: ZodType<GovernedBody>, value: Record<string, unknown>, record: AuditRecord): GovernedBody {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const param = issue.path.map(String).join('.') || null;
  record.reason_code = 'INVALID_REQUEST';
  if (typeof value.model === 'string') record.model = value.model;
  const given = issue.path.reduce<unknown>((v, k) => (v as Record<PropertyKey, unknown> | undefined)?.[k], value);
  if (given === undefined && param) throw badRequest('missing_required_parameter', `Missing required parameter: '${param}'`, param);
  throw badRequest('invalid_parameter', `Invalid parameter '${param}': ${issue.message}`, param);
}

function waitForDrain(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.once('drain', done);
    res.once('close', done);
  });
}
