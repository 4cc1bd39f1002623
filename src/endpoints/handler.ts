/**
 * The governed request path of templated LLM endpoints (KrakenD `ai/llm` backends), built from the same stages as
 * the provider routes: endpoint -> audit health -> authenticate -> read body -> decide (llm:chat.completions on
 * <vendor>/<model>) -> PII -> call the vendor (input template, vendor request, output template, `mapping`).
 * Every outcome completes exactly one audit record (provider = vendor, route = endpoint path).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Dispatcher } from 'undici';
import { applyUsage, elapsedMs } from '../audit/record.js';
import { parseJsonObject, readBody, requireJsonContentType } from '../http/body.js';
import { GatewayError, methodNotAllowed, upstreamInvalidResponse } from '../http/errors.js';
import { gatewayKey } from '../http/gateway-key.js';
import type { Logger } from '../log.js';
import { Exchange } from '../pipeline/exchange.js';
import { governanceStages, runPipeline, type GovernanceDeps, type Stage } from '../pipeline/stages.js';
import { governAnswer, toolGovernance } from '../pipeline/tool-governance.js';
import { GoInt, TemplateExecError, fromGoJson } from '../templates/index.js';
import { templatedEndpointRequest } from '../translators/requests.js';
import { mayCarryToolCalls } from '../translators/tool-shapes.js';
import type { ToolDenial } from '../translators/tool-verdicts.js';
import { isObject } from '../translators/types.js';
import { upstreamErrorToGateway } from '../upstream/failures.js';
import type { UpstreamPools } from '../upstream/pools.js';
import type { LlmEndpoint } from '../config/krakend/endpoints.js';
import { requestData, responseData } from './template-data.js';

export const LLM_ENDPOINT_ACTION = 'llm:chat.completions';

export interface LlmEndpointDeps extends GovernanceDeps {
  endpoints: readonly LlmEndpoint[];
  pools: UpstreamPools;
  maxBodyBytes: number;
  toolDenial: ToolDenial;
  logger: Logger;
}

class EndpointExchange extends Exchange {
  endpoint!: LlmEndpoint;
}

export class LlmEndpointHandler {
  private readonly byPath = new Map<string, LlmEndpoint[]>();
  private readonly stages: readonly Stage<EndpointExchange>[];

  constructor(private readonly deps: LlmEndpointDeps) {
    for (const endpoint of deps.endpoints) {
      const list = this.byPath.get(endpoint.path) ?? [];
      list.push(endpoint);
      this.byPath.set(endpoint.path, list);
    }
    const shared = governanceStages(deps);
    this.stages = [this.endpoint, shared.auditHealth, shared.agentId, shared.authenticate, this.readBody, shared.decide, shared.pii, this.callVendor];
  }

  /** True when `path` is a configured endpoint (exact match, whatever the method). */
  serves(path: string): boolean {
    return this.byPath.has(path);
  }

  /** `path` is the canonical URL path. Never throws. */
  handle(req: IncomingMessage, res: ServerResponse, path: string, search: string): Promise<void> {
    return runPipeline(new EndpointExchange(req, res, path, search, Date.now(), this.deps.audit), this.stages);
  }

  private readonly endpoint: Stage<EndpointExchange> = {
    name: 'endpoint',
    run: (ex) => {
      const { req, res, record } = ex;
      const candidates = this.byPath.get(ex.path) ?? [];
      const endpoint = candidates.find((e) => e.method === req.method);
      const vendor = (endpoint ?? candidates[0])?.vendor.vendor ?? null;
      record.provider = vendor;
      record.agent_id ??= `${vendor}-direct`;
      record.action = LLM_ENDPOINT_ACTION;
      if (!endpoint) {
        const allowed = candidates.map((e) => e.method);
        res.setHeader('allow', allowed.join(', '));
        throw methodNotAllowed(`${req.method} ${ex.path} is not allowed; use ${allowed.join(' or ')}`);
      }
      ex.endpoint = endpoint;
      record.model = endpoint.model;
      record.resource = `${endpoint.vendor.vendor}/${endpoint.model ?? '*'}`;
      ex.requiresKey = !endpoint.public;
      ex.presentedKey = gatewayKey(req);
      ex.translator = templatedEndpointRequest;
    },
  };

  /** The JSON body, decoded as Go does; the policy sees the endpoint's model and limits and the caller's text. */
  private readonly readBody: Stage<EndpointExchange> = {
    name: 'read-body',
    run: async (ex) => {
      requireJsonContentType(ex.req);
      ex.body = parseJsonObject(await readBody(ex.req, this.deps.maxBodyBytes), fromGoJson);
      const { endpoint } = ex;
      ex.policyBody = { ...governedVariables(endpoint.variables), model: endpoint.model ?? undefined, ...templatedEndpointRequest.policyView(ex.body) };
    },
  };

  private readonly callVendor: Stage<EndpointExchange> = {
    name: 'call-vendor',
    run: async (ex) => {
      const { endpoint, record } = ex;
      const reqData = requestData(endpoint, ex.body, ex.req.headers, ex.search);
      const payload = render(endpoint, 'input', () => endpoint.input.execute(reqData), ex);
      this.debug(endpoint, 'payload sent', { url: endpoint.origin + endpoint.upstreamPath, payload });

      const upstreamStarted = performance.now();
      const response = await this.deps.pools.get(endpoint.origin, { timeoutMs: endpoint.timeoutMs, maxConnections: null }).request({
        path: endpoint.upstreamPath,
        method: endpoint.upstreamMethod as Dispatcher.HttpMethod,
        headers: { 'content-type': 'application/json', 'accept-encoding': 'identity', ...endpoint.vendor.authHeaders(endpoint.credentials) },
        body: payload,
        signal: ex.abort,
      });
      const text = await response.body.text();
      record.upstream_latency_ms = elapsedMs(upstreamStarted);
      this.debug(endpoint, 'response received', { status: response.statusCode, body: text });
      if (response.statusCode >= 400) throw upstreamErrorToGateway(endpoint.vendor.vendor, response.statusCode, text, { keyVariable: `the endpoint's credentials (${endpoint.path})`, keepBody: false });

      let respBody: unknown;
      try {
        respBody = fromGoJson(text);
      } catch (err) {
        throw upstreamInvalidResponse(endpoint.vendor.vendor, `answered with invalid JSON (${(err as Error).message})`);
      }
      // Tool calls in the vendor's answer are governed before any template sees them (a custom output template may
      // pass them on), in whatever shape they come.
      if (isObject(respBody) && mayCarryToolCalls(text)) governAnswer(respBody, toolGovernance(ex, this.deps.policies, this.deps.toolDenial));
      const usage = endpoint.vendor.usage(respBody);
      if (usage) applyUsage(record, usage);
      const respData = responseData(reqData, response.statusCode, response.headers, respBody);
      const rendered = render(endpoint, 'output', () => endpoint.output.execute(respData), ex);
      const body = JSON.stringify(applyMapping(parseOutput(rendered, ex), endpoint.mapping));
      ex.res.writeHead(response.statusCode, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
      ex.end(response.statusCode, body);
    },
  };

  /** `debug: true` logs what is sent and received; the vendor credentials are redacted wherever they appear. */
  private debug(endpoint: LlmEndpoint, what: string, fields: Record<string, unknown>): void {
    if (!endpoint.debug) return;
    const text = JSON.stringify(fields).split(endpoint.credentials).join('[REDACTED]');
    this.deps.logger.info(`ai/llm ${endpoint.vendor.vendor}/${endpoint.vendor.version} ${endpoint.path}: ${what}`, JSON.parse(text) as Record<string, unknown>);
  }
}

function render(endpoint: LlmEndpoint, which: 'input' | 'output', run: () => string, ex: Exchange): string {
  try {
    return run();
  } catch (err) {
    if (!(err instanceof TemplateExecError)) throw err;
    ex.record.error_message = `${which} template failed: ${err.message}`;
    ex.record.details = { ...ex.record.details, template: which };
    throw new GatewayError(500, 'server_error', 'template_error', `The endpoint's ${which} template failed: ${err.message}`);
  }
}

function parseOutput(rendered: string, ex: Exchange): unknown {
  try {
    return JSON.parse(rendered);
  } catch (err) {
    ex.record.error_message = `output template produced invalid JSON: ${(err as Error).message}`;
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
