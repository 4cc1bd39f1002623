/**
 * The request path as data: a governed route is an ordered list of named stages, plain functions over one
 * exchange, run by one loop. The stages every governed path shares live here; each path adds its own (provider
 * routing and forwarding in src/proxy/, templated endpoints in src/endpoints/). A new capability (rate limits,
 * budgets, metrics) is one new stage in the lists, or a finish-consumer registered with `ex.onFinish`.
 */
import type { AuditWriter } from '../audit/writer.js';
import { applyDecision } from '../governance/apply-decision.js';
import { hitCount, type PiiScan } from '../policy/prompt-scan.js';
import type { PromptScanner } from '../governance/pii-scanner.js';
import type { PolicyRegistry } from '../governance/policy-registry.js';
import { auditUnavailable, authenticationFailed, badRequest, denied } from '../http/errors.js';
import { AGENT_ID_HEADER, headerValue, MAX_AGENT_ID_LENGTH } from '../http/gateway-key.js';
import type { KeyRegistry } from '../keys/registry.js';
import { DLP_BLOCKED } from '../policy/index.js';
import type { Exchange } from './exchange.js';

export interface Stage<X extends Exchange = Exchange> {
  readonly name: string;
  /** Advances the exchange; throws a GatewayError to fail it. The pipeline stops once the exchange is finished. */
  run(ex: X): void | Promise<void>;
}

/** Runs `stages` in order over `ex`; never throws (a failure is answered and audited by the exchange). */
export async function runPipeline<X extends Exchange>(ex: X, stages: readonly Stage<X>[]): Promise<void> {
  try {
    for (const stage of stages) {
      const pending = stage.run(ex);
      if (pending) await pending;
      if (ex.finished) return;
    }
  } catch (err) {
    ex.fail(err);
  }
}

export interface GovernanceDeps {
  keys: KeyRegistry;
  policies: PolicyRegistry;
  audit: AuditWriter;
  pii: PromptScanner;
}

/** The stages every governed path shares, built once per gateway. */
export function governanceStages(deps: GovernanceDeps) {
  /** Fail-closed audit: no request is served while its record could not be kept. */
  const auditHealth: Stage = {
    name: 'audit-health',
    run() {
      if (!deps.audit.accepting) throw auditUnavailable();
    },
  };

  /** The calling agent's id is at most MAX_AGENT_ID_LENGTH characters (the exchange records it, cut). */
  const agentId: Stage = {
    name: 'agent-id',
    run(ex) {
      const length = headerValue(ex.req, AGENT_ID_HEADER)?.length ?? 0;
      if (length > MAX_AGENT_ID_LENGTH) {
        throw badRequest('invalid_agent_id', `X-ControlZero-Agent-ID is ${length} characters long; at most ${MAX_AGENT_ID_LENGTH} are accepted`, AGENT_ID_HEADER);
      }
    },
  };

  /** The gateway key (the header is read by the path: `ex.presentedKey`). */
  const authenticate: Stage = {
    name: 'authenticate',
    async run(ex) {
      if (!ex.requiresKey) return;
      const auth = await deps.keys.authenticate(ex.presentedKey, ex.now);
      ex.record.key_id = auth.key?.id ?? null;
      if (!auth.ok) throw authenticationFailed(auth.code, auth.message);
      ex.key = { id: auth.key.id, attributes: auth.key.attributes };
    },
  };

  /** The request's policy decision on `record.action` / `record.resource`, with the body's facts. */
  const decide: Stage = {
    name: 'decide',
    run(ex) {
      const decision = deps.policies.decide(ex.evalRequest(ex.record.action!, ex.record.resource!));
      applyDecision(decision, ex.record, ex.res, ex.body);
    },
  };

  /** What the prompt PII scan found: recorded, and in block mode the request's end. */
  const concludePii = (ex: Exchange, scan: PiiScan): void => {
    if (hitCount(scan) === 0) return;
    const action = deps.pii.action;
    ex.record.details = { ...ex.record.details, pii: { action, detectors: scan.counts } };
    if (action === 'block') {
      const found = Object.entries(scan.counts).map(([d, n]) => `${d} x${n}`).join(', ');
      throw denied('dlp_blocked', `Request blocked: the prompt contains sensitive data (${found}) and CZ_GATEWAY_PII_ACTION=block`, DLP_BLOCKED, null, null, {
        detectors: scan.counts,
      });
    }
    if (scan.masked) {
      ex.bodyMasked = true;
      if (ex.rawBody) ex.rawBody = Buffer.from(JSON.stringify(ex.body));
    }
  };

  /** The prompt PII scan (CZ_GATEWAY_PII_ACTION) over every piece of prompt text the body's API carries. */
  const pii: Stage = deps.pii.action === 'off' ? { name: 'pii', run() {} } : {
    name: 'pii',
    run(ex) {
      if (!ex.body || !ex.translator) return;
      const scan = deps.pii.scan(ex.body, ex.translator);
      if (scan instanceof Promise) return scan.then((s) => concludePii(ex, s));
      concludePii(ex, scan);
    },
  };

  return { auditHealth, agentId, authenticate, decide, pii };
}
