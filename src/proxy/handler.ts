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
import { applyUsage, elapsedMs, startRecord, usageOf } from '../audit/record.js';
import { findUsage, scanUsage } from '../audit/usage-scan.js';
import { applyDecision } from '../governance/apply-decision.js';
import type { PolicyRegistry } from '../governance/policy-registry.js';
import { isJsonContentType, parseJsonObject, readBody, requireJsonContentType } from '../http/body.js';
import { GatewayError, auditUnavailable, badRequest, notFound } from '../http/errors.js';
import { gatewayKey, headerValue } from '../http/gateway-key.js';
import { sendError } from '../http/respond.js';
import type { KeyRegistry } from '../keys/registry.js';
import { DLP_BLOCKED, type EvalRequest } from '../policy/index.js';
import type { WireAdapter } from '../providers/fim-adapter.js';
import { resolveRoute, type GovernedBody } from '../providers/routes.js';
import { responseHeaders, upstreamFailure, type Upstream } from '../providers/upstream.js';
import { SseParser, type SseEvent } from '../sse/parser.js';
import type { AuditRecord } from '../store/types.js';
import { ClientAbort } from './client-abort.js';
import { hitCount, scanPrompt, type PiiAction } from './pii.js';
import {
  carriesToolCalls,
  governResponseToolCalls,
  parseToolArguments,
  StreamToolCallGovernor,
  ToolCallDenied,
  type ToolCallJudge,
  type ToolCallVerdict,
  type ToolDenyMode,
} from './tool-calls.js';
import { upstreamErrorToGateway } from './upstream-errors.js';

export interface ProxyDeps {
  upstreams: Map<string, Upstream>;
  keys: KeyRegistry;
  policies: PolicyRegistry;
  audit: AuditWriter;
  maxBodyBytes: number;
  toolDenyMode: ToolDenyMode;
  piiAction: PiiAction;
}


/** Per-request state shared by the steps below. */
interface Exchange {
  req: IncomingMessage;
  res: ServerResponse;
  record: AuditRecord;
  started: number; // performance.now() at arrival
  /** Aborted when the client goes away before its answer is complete; cancels the upstream request. */
  abort: ClientAbort;
  done: boolean;
  /** Decisions on the tool calls of the response, in order (audit `details.tool_calls`). */
  toolCalls: ToolCallVerdict[];
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
      toolCalls: [],
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
      throw auditUnavailable();
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
      if (spec.body) requireJsonContentType(req);
      rawBody = await readBody(req, this.deps.maxBodyBytes);
      if (spec.body) body = validateBody(spec.body, parseJsonObject(rawBody), record);
    }
    const model = body?.model ?? pathModel;
    record.model = model ?? null;
    record.resource = `${providerName}/${model ?? '*'}`;

    const facts = { provider: providerName, body, key: { id: auth.key.id, attributes: auth.key.attributes }, agent_id: record.agent_id, now };
    const decision = this.deps.policies.decide({ action: spec.action, resource: record.resource, ...facts });
    applyDecision(decision, record, res, body);

    if (body && Array.isArray(body.messages) && this.scanPii(ex, body)) rawBody = Buffer.from(JSON.stringify(body));

    const judge: ToolCallJudge | null = spec.generative ? (name, args) => this.judgeToolCall(facts, name, args) : null;
    await this.forward(ex, upstream, subpath, search, rawBody, body, judge);
  }

  /** The prompt PII scan (CZ_GATEWAY_PII_ACTION); true when it masked the body. Throws the DLP 403 in block mode. */
  private scanPii(ex: Exchange, body: GovernedBody): boolean {
    const action = this.deps.piiAction;
    const scan = scanPrompt(body, action === 'mask');
    if (hitCount(scan) === 0) return false;
    ex.record.details = { ...ex.record.details, pii: { action, detectors: scan.counts } };
    if (action === 'block') {
      const { record } = ex;
      record.decision = 'deny';
      record.reason_code = DLP_BLOCKED;
      record.policy = null;
      record.rule = null;
      ex.res.setHeader('x-tollgate-decision', 'deny');
      const found = Object.entries(scan.counts).map(([d, n]) => `${d} x${n}`).join(', ');
      throw new GatewayError(403, 'permission_error', 'dlp_blocked', `Request blocked: the prompt contains sensitive data (${found}) and CZ_GATEWAY_PII_ACTION=block`, null, {
        reason_code: DLP_BLOCKED,
        detectors: scan.counts,
      });
    }
    return scan.masked;
  }

  /** Evaluates one returned tool call as action tool:call on resource <provider>/tools/<name>. */
  private judgeToolCall(facts: Omit<EvalRequest, 'action' | 'resource'> & { provider: string }, name: string, args: string): ToolCallVerdict {
    const tool = { name, arguments: parseToolArguments(args) };
    const d = this.deps.policies.decide({ ...facts, action: 'tool:call', resource: `${facts.provider}/tools/${name}`, tool });
    return { name, decision: d.decision, policy: d.policy, rule: d.rule, reason: d.reason, reason_code: d.reason_code };
  }

  private async forward(
    ex: Exchange,
    upstream: Upstream,
    subpath: string,
    search: string,
    rawBody: Buffer | null,
    body: GovernedBody | undefined,
    judge: ToolCallJudge | null,
  ): Promise<void> {
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
      record.upstream_latency_ms = elapsedMs(upstreamStarted);
      const error = upstreamErrorToGateway(upstream.config.name, response.statusCode, text);
      record.error_message = error.message;
      this.fail(ex, error, pickHeaders(response.headers, RATE_LIMIT_HEADERS));
      return;
    }

    if (isStream) {
      const governor = judge && !adapter ? new StreamToolCallGovernor(judge, this.deps.toolDenyMode, ex.toolCalls) : null;
      await this.relayStream(ex, response, upstreamStarted, adapter, governor);
      return;
    }

    let buf: Buffer = Buffer.from(await response.body.arrayBuffer());
    record.upstream_latency_ms = elapsedMs(upstreamStarted);
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
        if (judge && carriesToolCalls(buf)) buf = this.governToolCalls(ex, buf, judge);
      }
    }
    const headers = responseHeaders(response.headers);
    headers['content-length'] = String(buf.length);
    res.writeHead(response.statusCode, headers);
    res.end(buf);
    this.complete(ex, response.statusCode);
  }

  /** Governs the tool calls of a complete JSON response; returns the bytes to send (the same buffer when unchanged). */
  private governToolCalls(ex: Exchange, buf: Buffer, judge: ToolCallJudge): Buffer {
    const json = parseJsonOrNull(buf.toString('utf8'));
    if (!json) return buf;
    try {
      return governResponseToolCalls(json, judge, this.deps.toolDenyMode, ex.toolCalls) ? Buffer.from(JSON.stringify(json)) : buf;
    } catch (err) {
      if (!(err instanceof ToolCallDenied)) throw err;
      ex.res.setHeader('x-tollgate-decision', 'deny');
      throw toolCallDenied(ex.record, err);
    }
  }

  /**
   * Relays an event stream as it arrives: each upstream chunk is written as soon as it is read (same bytes, no
   * coalescing) unless events must be rewritten: by an adapter (each complete event is written when it completes), or
   * by the tool-call governor, which only takes over for events that carry `"tool_calls"` (or while it holds a call
   * back); a chunk made of whole events none of which does is still written as is. Usage is noted on the way.
   */
  private async relayStream(
    ex: Exchange,
    response: Dispatcher.ResponseData,
    upstreamStarted: number,
    adapter: WireAdapter | null,
    governor: StreamToolCallGovernor | null,
  ): Promise<void> {
    const { res, record } = ex;
    const headers = responseHeaders(response.headers);
    // No flushHeaders(): the headers leave with the first chunk, one write instead of two.
    res.writeHead(response.statusCode, headers);
    const parser = new SseParser();
    try {
      for await (const chunk of response.body as AsyncIterable<Buffer>) {
        if (record.upstream_latency_ms === null) record.upstream_latency_ms = elapsedMs(upstreamStarted);
        // Fast path, most chunks: whole events without tool calls are relayed as they are, without parsing them;
        // usage (on the final event) is read straight from the bytes.
        if (!adapter && parser.pending === '' && !governor?.holding && endsAnEvent(chunk) && !carriesToolCalls(chunk)) {
          // A chunk that ends with [DONE] ends the response in the same write as its last bytes.
          if (endsWithDone(chunk)) res.end(chunk);
          else if (!res.write(chunk)) await waitForDrain(res);
          const usage = findUsage(chunk);
          if (usage) applyUsage(record, usage);
          continue;
        }
        const aligned = parser.pending === '';
        const events = parser.push(chunk);
        const passThrough = !adapter && (!governor || (aligned && parser.pending === '' && !events.some((e) => governs(governor, e))));
        if (passThrough && !res.write(chunk)) await waitForDrain(res);
        let out = '';
        for (const event of events) {
          const governed = !passThrough && governor !== null && governs(governor, event);
          const json = event.data.startsWith('{') && (adapter || governed || event.data.includes('"usage"')) ? parseEventJson(event.data, record) : null;
          if (json) {
            const usage = usageOf(json);
            if (usage) applyUsage(record, usage);
          }
          if (passThrough) continue;
          if (adapter) out += json ? `data: ${JSON.stringify(adapter.chunk(json))}\n\n` : event.raw;
          else if (!governed) out += event.raw;
          else {
            const outcome = governEvent(governor!, event, json);
            if (outcome instanceof ToolCallDenied) {
              this.endWithToolDenial(ex, out, outcome);
              return;
            }
            out += outcome;
          }
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
      if (res.writableEnded) {
        // The client already has the whole stream ([DONE]); the provider failed only afterwards.
        this.complete(ex, response.statusCode);
        return;
      }
      // Headers are sent: tell the client in-band, then end the stream.
      res.end(`data: ${JSON.stringify(error.toBody())}\n\n`);
      this.complete(ex, error.status);
      return;
    }
    if (governor && !res.writableEnded) {
      const rest = flushGovernor(governor);
      if (rest instanceof ToolCallDenied) {
        this.endWithToolDenial(ex, '', rest);
        return;
      }
      if (rest) res.write(rest);
    }
    if (record.upstream_latency_ms === null) record.upstream_latency_ms = elapsedMs(upstreamStarted);
    res.end();
    this.complete(ex, response.statusCode);
  }

  /** Error mode, stream: what was released so far, then the 403 as an in-band error event, then the end of the stream. */
  private endWithToolDenial(ex: Exchange, released: string, denied: ToolCallDenied): void {
    const error = toolCallDenied(ex.record, denied);
    ex.record.error_message = error.message;
    ex.res.end(`${released}data: ${JSON.stringify(error.toBody())}\n\n`);
    this.complete(ex, error.status);
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
    if (ex.toolCalls.length > 0) ex.record.details = { ...ex.record.details, tool_calls: ex.toolCalls };
    ex.record.status = ex.record.client_aborted ? 499 : status;
    ex.record.latency_ms = elapsedMs(ex.started);
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

const DONE_EVENT = Buffer.from('data: [DONE]\n\n');

function endsWithDone(chunk: Buffer): boolean {
  return chunk.length >= DONE_EVENT.length && chunk.subarray(chunk.length - DONE_EVENT.length).equals(DONE_EVENT);
}

/** True when a chunk ends exactly at the end of an SSE event (a blank line), so nothing of it is left pending. */
function endsAnEvent(chunk: Buffer): boolean {
  const n = chunk.length;
  if (n < 2) return false;
  const last = chunk[n - 1];
  const before = chunk[n - 2];
  if (last === 10) return before === 10 || (before === 13 && n >= 4 && chunk[n - 3] === 10 && chunk[n - 4] === 13);
  return last === 13 && before === 13;
}

/** True when the governor must see `event`: it mentions tool calls, or a call is held back (its finish may not). */
function governs(governor: StreamToolCallGovernor, event: SseEvent): boolean {
  return governor.holding || carriesToolCalls(event.data);
}

/** The text to send for a governed stream event, or the denial (error mode). Held calls are released before [DONE]. */
function governEvent(governor: StreamToolCallGovernor, event: SseEvent, json: Record<string, unknown> | null): string | ToolCallDenied {
  if (event.data === '[DONE]') {
    const rest = flushGovernor(governor);
    return rest instanceof ToolCallDenied ? rest : rest + event.raw;
  }
  if (!json) return event.raw;
  try {
    const chunk = governor.push(json);
    return chunk ? `data: ${JSON.stringify(chunk)}\n\n` : '';
  } catch (err) {
    if (err instanceof ToolCallDenied) return err;
    throw err;
  }
}

function flushGovernor(governor: StreamToolCallGovernor): string | ToolCallDenied {
  try {
    const chunk = governor.flush();
    return chunk ? `data: ${JSON.stringify(chunk)}\n\n` : '';
  } catch (err) {
    if (err instanceof ToolCallDenied) return err;
    throw err;
  }
}

/** Error mode: the response fails with a 403 naming the denied tool and the deciding policy and rule. */
function toolCallDenied(record: AuditRecord, denied: ToolCallDenied): GatewayError {
  const { name, policy, rule, reason, reason_code } = denied.verdict;
  record.decision = 'deny';
  record.reason_code = reason_code;
  record.policy = policy;
  record.rule = rule;
  const by = policy ? ` by policy "${policy}"${rule ? ` (rule ${rule})` : ''}` : '';
  return new GatewayError(403, 'permission_error', 'tool_call_denied', `Tool call "${name}" denied${by}: ${reason}`, null, {
    policy,
    rule,
    reason_code,
    tool: name,
  });
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
