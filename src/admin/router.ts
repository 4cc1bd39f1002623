/**
 * Admin API under /api/v1, authenticated by the admin bearer token: keys, policies, audit queries.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { elapsedMs, startRecord } from '../audit/record.js';
import type { AuditWriter } from '../audit/writer.js';
import { PolicyValidationError, type PolicyRegistry } from '../governance/policy-registry.js';
import { parseJsonObject, readBody, requireJsonContentType } from '../http/body.js';
import { GatewayError, badRequest, notFound } from '../http/errors.js';
import { sendError, sendJson } from '../http/respond.js';
import type { KeyRegistry } from '../keys/registry.js';
import { constantTimeEqual } from '../keys/secrets.js';
import { InvalidAuditQueryError, InvalidCursorError } from '../store/audit-query.js';
import { PolicyNameTakenError, type AuditStore } from '../store/types.js';
import { evaluateJsonLine, validatePolicy } from '../policy/index.js';
import { auditQuerySchema, evaluateSchema, newKeySchema, parseOrThrow, queryTime, toMillis } from './schemas.js';
import { auditView, decisionView, keyView, policyView } from './views.js';

export interface AdminDeps {
  adminToken: string;
  keys: KeyRegistry;
  policies: PolicyRegistry;
  audit: AuditStore;
  auditWriter: AuditWriter;
  maxBodyBytes: number;
  /** The gateway's state in detail (providers, policy mode, audit queue): only for the admin, not on /healthz. */
  health: () => Record<string, unknown>;
}

type Handler = (req: IncomingMessage, params: string[], url: URL) => Promise<[number, unknown]>;

interface Route {
  method: string;
  pattern: RegExp;
  /** Audit action of the route, e.g. "admin:keys.revoke". */
  action: string;
  /** Changes keys or policies: such calls leave an audit record (reads do not). */
  changes: boolean;
  handler: Handler;
}

export class AdminApi {
  private readonly routes: Route[];

  constructor(private readonly deps: AdminDeps) {
    const id = '([A-Za-z0-9_-]+)';
    const route = (method: string, pattern: RegExp, action: string, handler: Handler): Route => ({
      method,
      pattern,
      action: `admin:${action}`,
      changes: method !== 'GET' && action !== 'evaluate',
      handler,
    });
    this.routes = [
      route('GET', /^\/api\/v1\/keys$/, 'keys.list', () => this.listKeys()),
      route('POST', /^\/api\/v1\/keys$/, 'keys.create', (req) => this.createKey(req)),
      route('GET', new RegExp(`^/api/v1/keys/${id}$`), 'keys.get', (_r, [k]) => this.getKey(k!)),
      route('DELETE', new RegExp(`^/api/v1/keys/${id}$`), 'keys.revoke', (_r, [k]) => this.revokeKey(k!)),
      route('GET', /^\/api\/v1\/policies$/, 'policies.list', () => this.listPolicies()),
      route('POST', /^\/api\/v1\/policies$/, 'policies.create', (req) => this.createPolicy(req)),
      route('GET', new RegExp(`^/api/v1/policies/${id}$`), 'policies.get', (_r, [p]) => this.getPolicy(p!)),
      route('PUT', new RegExp(`^/api/v1/policies/${id}$`), 'policies.update', (req, [p]) => this.updatePolicy(req, p!)),
      route('DELETE', new RegExp(`^/api/v1/policies/${id}$`), 'policies.delete', (_r, [p]) => this.deletePolicy(p!)),
      route('GET', /^\/api\/v1\/audit$/, 'audit.query', (_r, _p, url) => this.queryAudit(url)),
      route('POST', /^\/api\/v1\/evaluate$/, 'evaluate', (req) => this.evaluate(req)),
      route('GET', /^\/api\/v1\/health$/, 'health', async () => [200, this.deps.health()]),
    ];
  }

  /**
   * Serves one admin call. Calls that change keys or policies, and every call with a bad admin token, leave an audit
   * record (agent "admin", action "admin:<what>", resource "keys/<id>" or "policies/<id>").
   */
  async handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const started = performance.now();
    const record = startRecord(req.method ?? 'GET', url.pathname, Date.now());
    record.agent_id = 'admin';
    let audited = false;
    try {
      const presented = this.presentedToken(req);
      const authenticated = presented !== '' && constantTimeEqual(presented, this.deps.adminToken);
      record.decision = authenticated ? 'allow' : 'deny';
      record.reason_code = authenticated ? 'ADMIN' : presented === '' ? 'AUTH_MISSING_ADMIN_TOKEN' : 'AUTH_INVALID_ADMIN_TOKEN';
      audited = !authenticated;
      if (presented === '') {
        throw new GatewayError(401, 'authentication_error', 'missing_admin_token', 'missing admin token: send "Authorization: Bearer <admin token>" (CZ_GATEWAY_ADMIN_TOKEN, or the file admin-token in the data dir)');
      }
      if (!authenticated) throw new GatewayError(401, 'authentication_error', 'invalid_admin_token', 'admin token not accepted: it is not this gateway\'s admin token');
      const { route, params } = this.match(req.method ?? 'GET', url.pathname);
      record.action = route.action;
      audited = route.changes;
      const [status, body] = await route.handler(req, params, url);
      const id = (body as { id?: unknown } | null)?.id ?? params[0];
      if (typeof id === 'string') record.resource = `${route.action.slice('admin:'.length).split('.')[0]}/${id}`;
      sendJson(res, status, body);
      record.status = status;
    } catch (err) {
      const error = toGatewayError(err);
      sendError(res, error);
      record.status = error.status;
      record.error_message = error.message;
    }
    if (!audited) return;
    record.latency_ms = elapsedMs(started);
    this.deps.auditWriter.enqueue(record);
  }

  /** The bearer token the caller sent, or "" when there is none. */
  private presentedToken(req: IncomingMessage): string {
    const auth = req.headers.authorization;
    return auth?.toLowerCase().startsWith('bearer ') ? auth.slice(7).trim() : '';
  }

  private match(method: string, pathname: string): { route: Route; params: string[] } {
    let pathKnown = false;
    for (const route of this.routes) {
      const m = route.pattern.exec(pathname);
      if (!m) continue;
      pathKnown = true;
      if (route.method === method) return { route, params: m.slice(1) };
    }
    if (pathKnown) throw new GatewayError(405, 'invalid_request_error', 'method_not_allowed', `${method} is not supported on ${pathname}`);
    throw notFound('unknown_route', `No admin route ${method} ${pathname}`);
  }

  private async jsonBody(req: IncomingMessage): Promise<Record<string, unknown>> {
    requireJsonContentType(req);
    return parseJsonObject(await readBody(req, this.deps.maxBodyBytes));
  }

  private async listKeys(): Promise<[number, unknown]> {
    const now = Date.now();
    return [200, { keys: (await this.deps.keys.list()).map((k) => keyView(k, now)) }];
  }

  private async createKey(req: IncomingMessage): Promise<[number, unknown]> {
    const input = parseOrThrow(newKeySchema, await this.jsonBody(req), 'key');
    const now = Date.now();
    const expiresAt = input.expires_at == null ? null : toMillis(input.expires_at);
    if (expiresAt !== null && expiresAt <= now) throw badRequest('invalid_parameter', 'expires_at must be in the future', 'expires_at');
    const { key, secret } = await this.deps.keys.create({ name: input.name, attributes: input.attributes, expires_at: expiresAt }, now);
    return [201, { ...keyView(key, now), key: secret }];
  }

  private async getKey(id: string): Promise<[number, unknown]> {
    const key = await this.deps.keys.get(id);
    if (!key) throw notFound('key_not_found', `No key ${id}`);
    return [200, keyView(key, Date.now())];
  }

  private async revokeKey(id: string): Promise<[number, unknown]> {
    const now = Date.now();
    const key = await this.deps.keys.revoke(id, now);
    if (!key) throw notFound('key_not_found', `No key ${id}`);
    return [200, keyView(key, now)];
  }

  private async listPolicies(): Promise<[number, unknown]> {
    return [200, { policies: (await this.deps.policies.list()).map(policyView) }];
  }

  private async createPolicy(req: IncomingMessage): Promise<[number, unknown]> {
    const record = await this.deps.policies.create(await this.jsonBody(req), Date.now());
    return [201, policyView(record)];
  }

  private async getPolicy(id: string): Promise<[number, unknown]> {
    const record = await this.deps.policies.get(id);
    if (!record) throw notFound('policy_not_found', `No policy ${id}`);
    return [200, policyView(record)];
  }

  private async updatePolicy(req: IncomingMessage, id: string): Promise<[number, unknown]> {
    const record = await this.deps.policies.update(id, await this.jsonBody(req), Date.now());
    if (!record) throw notFound('policy_not_found', `No policy ${id}`);
    return [200, policyView(record)];
  }

  private async deletePolicy(id: string): Promise<[number, unknown]> {
    if (!(await this.deps.policies.delete(id))) throw notFound('policy_not_found', `No policy ${id}`);
    return [200, { id, deleted: true }];
  }

  /** Decides a request against the given policies, or the live ones when none are given; nothing is stored. */
  private async evaluate(req: IncomingMessage): Promise<[number, unknown]> {
    const raw = await this.jsonBody(req);
    const input = parseOrThrow(evaluateSchema, raw, 'evaluate request');
    if (input.policies === undefined) return [200, decisionView(this.deps.policies.snapshot.evaluate(input.request))];
    const errors = input.policies.flatMap((doc, i) => {
      const result = validatePolicy(doc);
      return result.ok ? [] : result.errors.map((e) => ({ path: e.path.replace(/^\$/, `policies[${i}]`), message: e.message }));
    });
    if (errors.length > 0) throw new PolicyValidationError(errors);
    return [200, JSON.parse(evaluateJsonLine(JSON.stringify(raw)))];
  }

  private async queryAudit(url: URL): Promise<[number, unknown]> {
    const q = parseOrThrow(auditQuerySchema, Object.fromEntries(url.searchParams), 'audit query');
    // Make records of requests that just finished visible to the query.
    await this.deps.auditWriter.flush().catch(() => undefined);
    const page = await this.deps.audit.query({
      provider: q.provider,
      model: q.model,
      key_id: q.key_id,
      agent_id: q.agent_id,
      route: q.route,
      action: q.action,
      decision: q.decision,
      status: q.status,
      since: queryTime(q.since),
      until: queryTime(q.until),
      limit: q.limit,
      cursor: q.cursor,
    });
    return [200, { records: page.records.map(auditView), next_cursor: page.next_cursor }];
  }
}

function toGatewayError(err: unknown): GatewayError {
  if (err instanceof GatewayError) return err;
  if (err instanceof PolicyValidationError) {
    return new GatewayError(400, 'invalid_request_error', 'invalid_policy', err.message, err.errors[0]?.path ?? null, {
      errors: err.errors,
    });
  }
  if (err instanceof PolicyNameTakenError) {
    return new GatewayError(409, 'invalid_request_error', 'policy_name_taken', `${err.message}: policy names are unique (audit records name the deciding policy); update that policy (PUT /api/v1/policies/${err.holderId}, or tollgate policy apply FILE) or choose another name`, 'name', { policy_id: err.holderId });
  }
  if (err instanceof InvalidCursorError) return badRequest('invalid_cursor', err.message, 'cursor');
  if (err instanceof InvalidAuditQueryError) return badRequest('invalid_parameter', err.message, err.param);
  return new GatewayError(500, 'server_error', 'internal_error', `Admin request failed: ${(err as Error).message}`);
}
