/**
 * Assembles a gateway from its configuration and a store, and owns its lifecycle: listen, serve, shut down gracefully
 * (stop accepting, let requests in flight finish, flush the audit queue, close the store).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { AdminApi } from './admin/router.js';
import { startRetention } from './audit/retention.js';
import { AuditWriter } from './audit/writer.js';
import type { GatewayConfig } from './config/config.js';
import { LlmEndpointHandler } from './endpoints/handler.js';
import { PromptScanner } from './governance/pii-scanner.js';
import { PolicyRegistry, type PolicyMode } from './governance/policy-registry.js';
import { startStoreSync, type StoreSync } from './governance/store-sync.js';
import { canonicalPath } from './http/canonical-path.js';
import { Cors } from './http/cors.js';
import { trustedProxyList } from './http/forwarded.js';
import { badRequest, corsOriginNotAllowed, notFound, type GatewayError } from './http/errors.js';
import { Exchange } from './pipeline/exchange.js';
import { sendJson } from './http/respond.js';
import { KeyRegistry } from './keys/registry.js';
import type { Logger } from './log.js';
import { Upstream } from './providers/upstream.js';
import { ProviderProxy } from './proxy/handler.js';
import { UpstreamPools } from './upstream/pools.js';
import type { Store } from './store/types.js';

export interface Gateway {
  readonly server: Server;
  /** The address actually bound, e.g. `http://[::]:8000` (every interface) or `http://127.0.0.1:8000`. */
  readonly listenUrl: string;
  /** How this machine reaches it: `listenUrl`, with `localhost` in place of an every-interface address. */
  readonly url: string;
  readonly keys: KeyRegistry;
  readonly policies: PolicyRegistry;
  readonly auditWriter: AuditWriter;
  readonly store: Store;
  /** Picks up key/policy changes made by other processes (polled every CZ_GATEWAY_SYNC_MS). */
  readonly sync: StoreSync;
  /** Graceful shutdown; resolves when every queued audit record is written and the store is closed. */
  close(): Promise<void>;
}

/** The gateway could not bind its address. `message` is one line for the operator; `inUse`: the port is taken. */
export class ListenError extends Error {
  constructor(
    message: string,
    readonly inUse: boolean,
  ) {
    super(message);
    this.name = 'ListenError';
  }
}

function listenError(err: NodeJS.ErrnoException, host: string | undefined, port: number): ListenError {
  switch (err.code) {
    case 'EADDRINUSE':
      return new ListenError(`port ${port}${host === undefined ? '' : ` on ${host}`} is in use by another process: stop it, or choose another port with CZ_GATEWAY_PORT`, true);
    case 'EACCES':
      return new ListenError(`no permission to listen on port ${port} (ports below 1024 need privileges): choose another port with CZ_GATEWAY_PORT`, false);
    case 'EADDRNOTAVAIL':
      return new ListenError(`cannot listen on CZ_GATEWAY_HOST=${host}: not an address of this machine`, false);
    case 'ENOTFOUND':
      return new ListenError(`cannot listen on CZ_GATEWAY_HOST=${host}: no such host name`, false);
    default:
      return new ListenError(`cannot listen on ${host ?? 'every interface'} port ${port}: ${err.message}`, false);
  }
}

/** Says what the policy mode does to requests: at start (`previous` null), and when the first policy is created or the last deleted. */
export function announcePolicyMode(logger: Logger, mode: PolicyMode, previous: PolicyMode | null): void {
  if (mode === 'observe') {
    logger.warn(
      `*** OBSERVE MODE: ${previous === null ? 'no policy exists' : 'the last policy was deleted'}, so every request is ALLOWED and audited with reason OBSERVE_MODE_NO_POLICY. ` +
        'Create a policy to enforce, or set CZ_GATEWAY_STRICT_POLICY=true to deny without one. ***',
    );
  } else if (mode === 'strict_no_policy') {
    logger.warn(`STRICT POLICY MODE with no policy${previous === null ? '' : ' (the last one was deleted)'}: every request is denied until you create one`);
  } else if (previous !== null) {
    logger.info(
      `${previous === 'observe' ? 'observe mode ended' : 'strict mode without policy ended'}: a policy was created, so policies decide every request from now on ` +
        '(what no rule allows is denied: NO_RULE_MATCH)',
    );
  }
}

export async function startGateway(config: GatewayConfig, store: Store, adminToken: string, logger: Logger): Promise<Gateway> {
  const keys = new KeyRegistry(store.keys);
  const policies = new PolicyRegistry(store.policies, config.strictPolicy);
  const loadedAt = await store.revisions();
  await Promise.all([keys.load(), policies.load()]);
  policies.onModeChange((mode, previous) => announcePolicyMode(logger, mode, previous));
  const sync = await startStoreSync(store, keys, policies, config.syncIntervalMs, logger, loadedAt);
  const auditWriter = new AuditWriter({
    store: store.audit,
    ...config.audit,
    spillFile: path.join(config.dataDir, 'audit-spill.jsonl'),
    logger,
  });
  await auditWriter.replaySpill();
  const retention = config.auditRetentionDays === null ? null : startRetention(store.audit, config.auditRetentionDays, logger);
  const pools = new UpstreamPools();
  const upstreams = new Map([...config.providers.values()].map((p) => [p.name, new Upstream(p, pools)]));
  const pii = new PromptScanner(config.piiAction);
  const governance = { keys, policies, audit: auditWriter, pii };
  const cors = config.corsOrigins === null ? null : new Cors(config.corsOrigins);
  const toolDenial = { mode: config.toolDenyMode, detail: config.denyDetail };
  const trustedProxies = config.trustedProxies.length > 0 ? trustedProxyList(config.trustedProxies) : null;
  const proxy = new ProviderProxy({ ...governance, upstreams, maxBodyBytes: config.maxBodyBytes, toolDenial, trustedProxies });
  const llmEndpoints = new LlmEndpointHandler({ ...governance, endpoints: config.endpoints, pools, maxBodyBytes: config.maxBodyBytes, toolDenial, logger });
  const health = () => {
    const healthy = !closing && auditWriter.accepting;
    return {
      status: healthy ? 'ok' : closing ? 'shutting_down' : 'audit_unavailable',
      store: store.kind,
      providers: [...upstreams.keys()],
      policy_mode: policies.mode,
      audit_pending: auditWriter.pending,
      audit_durability: config.audit.durability,
    };
  };
  const admin = new AdminApi({ adminToken, keys, policies, audit: store.audit, auditWriter, maxBodyBytes: config.maxBodyBytes, health });

  /** Answers a request no governed path takes; it is audited like any other. */
  const refuse = (req: IncomingMessage, res: ServerResponse, path: string, error: GatewayError): void => {
    new Exchange(req, res, path, '', Date.now(), auditWriter).fail(error);
  };

  let closing = false;
  const dispatch = (req: IncomingMessage, res: ServerResponse): void => {
    const rawUrl = req.url ?? '/';
    const q = rawUrl.indexOf('?');
    const canonical = canonicalPath(q < 0 ? rawUrl : rawUrl.slice(0, q));
    if (!canonical.ok) {
      refuse(req, res, rawUrl.slice(0, q < 0 ? undefined : q), badRequest('invalid_path', `Path refused: ${canonical.reason}`));
      return;
    }
    const pathname = canonical.path;
    const search = q < 0 ? '' : rawUrl.slice(q);
    if (pathname === '/healthz') {
      // Unauthenticated: up or not, nothing about the configuration (details: GET /api/v1/health).
      const healthy = !closing && auditWriter.accepting;
      sendJson(res, healthy ? 200 : 503, { status: healthy ? 'ok' : 'unavailable' });
      return;
    }
    // Configured endpoints match their exact path, so "/mistral" never shadows the provider routes "/mistral/v1/...".
    const target = llmEndpoints.serves(pathname) ? 'endpoint' : pathname.startsWith('/api/') ? 'admin' : pathname.length > 1 && pathname.indexOf('/', 1) !== 1 ? 'provider' : null;
    if (cors && (target === 'endpoint' || target === 'provider')) {
      const outcome = cors.handle(req, res);
      if (outcome === 'answered') return;
      if (outcome === 'refused') {
        refuse(req, res, pathname, corsOriginNotAllowed(String(req.headers.origin)));
        return;
      }
    }
    if (target === 'endpoint') {
      void llmEndpoints.handle(req, res, pathname, search);
      return;
    }
    if (target === 'admin') {
      void admin.handle(req, res, new URL(pathname + search, 'http://gateway'));
      return;
    }
    if (target === 'provider') {
      void proxy.handle(req, res, pathname, search);
      return;
    }
    refuse(req, res, pathname, notFound('unknown_route', `No route ${req.method} ${pathname}. Provider routes are /<provider>/v1/..., admin routes /api/v1/...`));
  };

  const server = createServer({ keepAliveTimeout: 65_000 }, dispatch);

  let closed: Promise<void> | null = null;
  const close = () => {
    closed ??= (async () => {
      closing = true;
      const drained = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const grace = new Promise<void>((resolve) => setTimeout(resolve, config.shutdownGraceMs).unref());
      await Promise.race([drained, grace]);
      // Requests still in flight are answered and their records queued before any connection or the audit closes.
      auditWriter.cutOffOpen();
      server.closeAllConnections();
      sync.stop();
      await retention?.stop();
      await auditWriter.close();
      await pools.close();
      await pii.close();
      await store.close();
    })();
    return closed;
  };

  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.port, config.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    // Nothing was served: release what start-up opened (audit writer, scan workers, store) before reporting.
    await close();
    throw listenError(err as NodeJS.ErrnoException, config.host, config.port);
  }
  const address = server.address() as AddressInfo;
  const bound = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const everyInterface = address.address === '::' || address.address === '0.0.0.0';
  const listenUrl = `http://${bound}:${address.port}`;
  const url = everyInterface ? `http://localhost:${address.port}` : listenUrl;

  return { server, listenUrl, url, keys, policies, auditWriter, store, sync, close };
}
