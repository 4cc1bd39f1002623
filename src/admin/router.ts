/**
 * Admin API under /api/v1, authenticated by the admin bearer token: keys, policies, audit queries.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AuditWriter } from '../audit/writer.js';
import { PolicyValidationError, type PolicyRegistry } from '../governance/policy-registry.js';
import { isJsonContentType, parseJsonObject, readBody } from '../http/body.js';
import { GatewayError, badRequest, notFound } from '../http/errors.js';
import { sendError, sendJson } from '../http/respond.js';
import type { KeyRegistry } from '../keys/registry.js';
import { constantTimeEqual } from '../keys/secrets.js';
import { InvalidAuditQueryError, InvalidCursorError } from '../store/audit-query.js';
import type { AuditStore } from '../store/types.js';
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
}

type Handler = (req: IncomingMessage, params: string[], url: URL) => Promise<[number, unknown]>;

export class AdminApi {
  private readonly routes: { method: string; pattern: RegExp; handler: Handler }[];

  constructor(private readonly deps: AdminDeps) {
    const id = '([A-Za-z0-9_-]+)';
    this.routes = [
      { method: 'GET', pattern: /^\/api\/v1\/keys$/, handler: () => this.listKeys() },
      { method: 'POST', pattern: /^\/api\/v1\/keys$/, handler: (req) => this.createKey(req) },
      { method: 'GET', pattern: new RegExp(`^/api/v1/keys/${id}$`), handler: (_r, [k]) => this.getKey(k!) },
      { method: 'DELETE', pattern: new RegExp(`^/api/v1/keys/${id}$`), handler: (_r, [k]) => this.revokeKey(k!) },
      { method: 'GET', pattern: /^\/api\/v1\/policies$/, handler: () => this.listPolicies() },
      { method: 'POST', pattern: /^\/api\/v1\/policies$/, handler: (req) => this.createPolicy(req) },
      { method: 'GET', pattern: new RegExp(`^/api/v1/policies/${id}$`), handler: (_r, [p]) => this.getPolicy(p!) },
      { method: 'PUT', pattern: new RegExp(`^/api/v1/policies/${id}$`), handler: (req, [p]) => this.updatePolicy(req, p!) },
      { method: 'DELETE', pattern: new RegExp(`^/api/v1/policies/${id}$`), handler: (_r, [p]) => this.deletePolicy(p!) },
      { method: 'GET', pattern: /^\/api\/v1\/audit$/, handler: (_r, _p, url) => this.queryAudit(url) },
      { method: 'POST', pattern: /^\/api\/v1\/evaluate$/, handler: (req) => this.evaluate(req) },
    ];
  }

  async handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    try {
      this.authenticate(req);
      const route = this.match(req.method ?? 'GET', url.pathname);
      const [status, body] = await route.handler(req, route.params, url);
      sendJson(res, status, body);
    } catch (err) {
      sendError(res, toGatewayError(err));
    }
  }

  private authenticate(req: IncomingMessage): void {
    const auth = req.headers.authorization;
    const token = auth?.toLowerCase().startsWith('bearer ') ? auth.slice(7).trim() : '';
    if (!token || !constantTimeEqual(token, this.deps.adminToken)) {
      throw new GatewayError(401, 'authentication_error', 'invalid_admin_token', 'Admin API needs "Authorization: Bearer <admin token>" (CZ_GATEWAY_ADMIN_TOKEN)');
    }
  }

  private match(method: string, pathname: string): { handler: Handler; params: string[] } {
    let pathKnown = false;
    for (const route of this.routes) {
      const m = route.pattern.exec(pathname);
      if (!m) continue;
      pathKnown = true;
      if (route.method === method) return { handler: route.handler, params: m.slice(1) };
    }
    if (pathKnown) throw new GatewayError(405, 'invalid_request_error', 'method_not_allowed', `${method} is not supported on ${pathname}`);
    throw notFound('unknown_route', `No admin route ${method} ${pathname}`);
  }

  private async jsonBody(req: IncomingMessage): Promise<Record<string, unknown>> {
    if (!isJsonContentType(req.headers['content-type'])) {
      throw new GatewayError(415, 'invalid_request_error', 'unsupported_content_type', 'Content-Type must be application/json');
    }
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
  if (err instanceof InvalidCursorError) return badRequest('invalid_cursor', err.message, 'cursor');
  if (err instanceof InvalidAuditQueryError) return badRequest('invalid_parameter', err.message, err.param);
  return new GatewayError(500, 'server_error', 'internal_error', `Admin request failed: ${(err as Error).message}`);
}
