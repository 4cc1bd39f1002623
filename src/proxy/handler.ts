/**
 * The governed request path for provider routes `/<provider>/v1/*`, as a list of stages:
 * provider -> audit health -> authenticate -> route -> read body -> decide -> PII -> adapt parameters -> forward
 * (relay + tool calls).
 * Every outcome, including each failure, completes exactly one audit record (the exchange).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { BlockList } from 'node:net';
import type { AuditWriter } from '../audit/writer.js';
import type { PolicyRegistry } from '../governance/policy-registry.js';
import { isJsonContentType, parseJsonObject, readBody, requireJsonContentType } from '../http/body.js';
import { badRequest, notFound } from '../http/errors.js';
import { forwardingHeaders } from '../http/forwarded.js';
import { gatewayKey } from '../http/gateway-key.js';
import { Exchange } from '../pipeline/exchange.js';
import { governanceStages, runPipeline, type GovernanceDeps, type Stage } from '../pipeline/stages.js';
import { resolveRoute, type GovernedBody, type RouteSpec } from '../providers/routes.js';
import type { Upstream } from '../providers/upstream.js';
import { adaptParameters, ParameterConflict } from '../translators/provider-parameters.js';
import { openaiCompatibleRequest } from '../translators/requests.js';
import type { ToolDenial } from '../translators/tool-verdicts.js';
import { forward } from './relay.js';

export interface ProxyDeps extends GovernanceDeps {
  upstreams: Map<string, Upstream>;
  maxBodyBytes: number;
  toolDenial: ToolDenial;
  /** Peers whose forwarding headers are kept (null: none). */
  trustedProxies: BlockList | null;
}

/** A provider-route exchange: what routing establishes on top of the shared fields. */
export class ProxyExchange extends Exchange {
  upstream!: Upstream;
  /** The path after `/<provider>/v1`, e.g. "/chat/completions". */
  subpath = '';
  spec!: RouteSpec;
  /** For `/models/{id}`: the model named in the path. */
  pathModel: string | undefined;
  /** The X-Forwarded-* headers the provider is sent. */
  forwarding: Record<string, string> = {};

  constructor(
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
    search: string,
    now: number,
    audit: AuditWriter,
    /** Judges the response's tool calls. */
    readonly policies: PolicyRegistry,
    readonly toolDenial: ToolDenial,
  ) {
    super(req, res, path, search, now, audit);
  }
}

export class ProviderProxy {
  private readonly stages: readonly Stage<ProxyExchange>[];

  constructor(private readonly deps: ProxyDeps) {
    const shared = governanceStages(deps);
    this.stages = [this.provider, shared.auditHealth, shared.agentId, shared.authenticate, this.route, this.readBody, shared.decide, shared.pii, this.adaptParameters, { name: 'forward', run: forward }];
  }

  /** `path` is the canonical URL path, `search` its query string ("" or "?..."). Never throws. */
  handle(req: IncomingMessage, res: ServerResponse, path: string, search: string): Promise<void> {
    const ex = new ProxyExchange(req, res, path, search, Date.now(), this.deps.audit, this.deps.policies, this.deps.toolDenial);
    return runPipeline(ex, this.stages);
  }

  /** path = /<provider>/v1/<rest>: the provider, its wire (key header, error shape) and the calling agent. */
  private readonly provider: Stage<ProxyExchange> = {
    name: 'provider',
    run: (ex) => {
      const { path, req, record } = ex;
      const slash = path.indexOf('/', 1);
      const name = slash < 0 ? path.slice(1) : path.slice(1, slash);
      const upstream = this.deps.upstreams.get(name);
      if (!upstream) {
        throw notFound(
          'unknown_provider',
          // Which providers are enabled is configuration: not told to a caller not yet authenticated (admin: GET /api/v1/health).
          `Unknown or disabled provider "${name}" (providers are enabled with CZ_GATEWAY_<PROVIDER>_ENABLED=true)`,
        );
      }
      ex.upstream = upstream;
      record.provider = name;
      record.agent_id ??= `${name}-direct`;
      const wire = upstream.config.wire;
      ex.errorShape = upstream.config.errorShape;
      ex.streamErrors = upstream.config.errorShape === 'mistral' && isMistralSdk(req.headers['user-agent']) ? 'mistral-chunk' : upstream.config.errorShape;
      ex.presentedKey = gatewayKey(req, wire);
      ex.subpath = slash < 0 ? '' : path.slice(slash);
      ex.forwarding = forwardingHeaders(req, this.deps.trustedProxies);
    },
  };

  private readonly route: Stage<ProxyExchange> = {
    name: 'route',
    run(ex) {
      const rest = ex.subpath;
      const provider = ex.record.provider!;
      if (!rest.startsWith('/v1/') && rest !== '/v1') {
        throw notFound('unknown_route', `No route ${ex.req.method} ${ex.path}: provider routes live under /${provider}/v1/`);
      }
      ex.subpath = rest.slice(3);
      const resolved = resolveRoute(ex.req.method ?? 'GET', ex.subpath);
      if ('miscased' in resolved) {
        throw notFound('unknown_route', `No route ${ex.req.method} ${ex.path}: routes are case-sensitive; did you mean /${provider}/v1${resolved.miscased}?`);
      }
      ex.spec = resolved.spec;
      ex.pathModel = resolved.pathModel;
      ex.translator = resolved.spec.translator;
      if (resolved.spec.streamErrors) ex.streamErrors = resolved.spec.streamErrors;
      ex.record.action = resolved.spec.action;
    },
  };

  /**
   * The provider's parameter table (src/translators/provider-parameters.ts) applied to OpenAI-shaped bodies, after the decision
   * and the PII scan saw what the client sent: the provider is sent its own field names, the audit says what changed.
   */
  private readonly adaptParameters: Stage<ProxyExchange> = {
    name: 'adapt-parameters',
    run: (ex) => {
      if (!ex.body || ex.spec.translator !== openaiCompatibleRequest) return;
      let adapted;
      try {
        adapted = adaptParameters(ex.body, ex.upstream.config.parameters);
      } catch (err) {
        if (err instanceof ParameterConflict) throw badRequest('invalid_parameter', err.message, err.field);
        throw err;
      }
      if (adapted.length === 0) return;
      ex.record.details = { ...ex.record.details, adapted };
      if (ex.rawBody) ex.rawBody = Buffer.from(JSON.stringify(ex.body));
    },
  };

  /**
   * Reads the body of routes that have one. A known route's body must be its JSON; any other body except a
   * multipart upload is read too (whatever its content type: some servers parse JSON regardless), and when it
   * parses to an object with a `model`, that model is governed: an unknown route is never a way around a model
   * rule. Multipart uploads (files, audio) stream through unread.
   */
  private readonly readBody: Stage<ProxyExchange> = {
    name: 'read-body',
    run: async (ex) => {
      const { req, record, spec } = ex;
      const method = req.method ?? 'GET';
      if (spec.body) {
        requireJsonContentType(req);
        ex.rawBody = await readBody(req, this.deps.maxBodyBytes);
        ex.body = validateBody(spec.body, parseJsonObject(ex.rawBody), ex);
      } else if (method !== 'GET' && method !== 'HEAD' && !isMultipart(req.headers['content-type'])) {
        ex.rawBody = await readBody(req, this.deps.maxBodyBytes);
        if (ex.rawBody.length > 0 || isJsonContentType(req.headers['content-type'])) {
          const parsed = parseJsonOrUndefined(ex.rawBody);
          if (parsed === undefined && isJsonContentType(req.headers['content-type'])) parseJsonObject(ex.rawBody); // throws the precise 400
          if (parsed && typeof parsed.model !== 'string' && parsed.model !== undefined) {
            throw badRequest('invalid_parameter', "Invalid parameter 'model': must be a string naming the model", 'model');
          }
          ex.body = parsed;
        }
      }
      const model = typeof ex.body?.model === 'string' ? ex.body.model : ex.pathModel;
      record.model = model ?? null;
      // Mistral agents (agents/completions, conversations) name an agent instead of a model: that is what is governed.
      const agent = model === undefined && typeof ex.body?.agent_id === 'string' && ex.body.agent_id !== '' ? ex.body.agent_id : undefined;
      record.resource = `${record.provider}/${agent === undefined ? (model ?? '*') : `agents/${agent}`}`;
      if (ex.body) ex.policyBody = spec.translator.policyView(ex.body);
    },
  };
}

/**
 * Mistral's own SDKs (`mistral-client-typescript/<v>`, `mistral-client-python/<v>`; Speakeasy's default
 * `speakeasy-sdk/... mistralai` when unset) validate every stream event as a completion chunk, so they are told a
 * mid-stream error as one.
 */
function isMistralSdk(userAgent: string | undefined): boolean {
  if (userAgent === undefined) return false;
  return userAgent.startsWith('mistral-client-') || (userAgent.startsWith('speakeasy-sdk/') && userAgent.includes('mistralai'));
}

function isMultipart(contentType: string | undefined): boolean {
  return contentType !== undefined && contentType.trimStart().toLowerCase().startsWith('multipart/');
}

function parseJsonOrUndefined(buf: Buffer): GovernedBody | undefined {
  try {
    const value: unknown = JSON.parse(buf.toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as GovernedBody) : undefined;
  } catch {
    return undefined;
  }
}

function validateBody(schema: NonNullable<RouteSpec['body']>, value: Record<string, unknown>, ex: Exchange): GovernedBody {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const param = issue.path.map(String).join('.') || null;
  if (typeof value.model === 'string') ex.record.model = value.model;
  const given = issue.path.reduce<unknown>((v, k) => (v as Record<PropertyKey, unknown> | undefined)?.[k], value);
  if (given === undefined && param) throw badRequest('missing_required_parameter', `Missing required parameter: '${param}'`, param);
  throw badRequest('invalid_parameter', `Invalid parameter '${param}': ${issue.message}`, param);
}
