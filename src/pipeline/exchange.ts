/**
 * One request on a governed path, from arrival to its single audit record. The exchange owns the request and
 * response, the audit record and the abort signal; stages (src/pipeline/stages.ts) fill in what they establish, and
 * whatever happens (an answer, an error, the client leaving), `finish` runs exactly once: it completes the record,
 * runs the registered finish-consumers and hands the record to the audit writer.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { elapsedMs, startRecord } from '../audit/record.js';
import type { AuditWriter } from '../audit/writer.js';
import { AGENT_ID_HEADER, headerValue, MAX_AGENT_ID_LENGTH } from '../http/gateway-key.js';
import { errorBody, GatewayError, gatewayShuttingDown, internalError, streamErrorEvent, type ErrorShape, type StreamErrorFormat } from '../http/errors.js';
import type { EvalRequest } from '../policy/index.js';
import type { AuditRecord } from '../store/types.js';
import type { RequestTranslator } from '../translators/requests.js';
import type { ToolCallVerdict } from '../translators/tool-verdicts.js';
import { isUpstreamFailure, upstreamFailure } from '../upstream/failures.js';
import { ClientAbort } from './client-abort.js';

/** Any thrown value as the error to answer: a gateway error as it is, a provider connection failure, else an internal error. */
export function asGatewayError(err: unknown, provider: string | null): GatewayError {
  if (err instanceof GatewayError) return err;
  return isUpstreamFailure(err) ? upstreamFailure(provider ?? 'unknown', err) : internalError(err);
}

/** Work to do when the exchange finishes (metrics, budgets, ...): it sees the completed record. */
export type FinishConsumer = (ex: Exchange) => void;

export class Exchange {
  readonly record: AuditRecord;
  /** performance.now() at arrival. */
  readonly started = performance.now();
  /** Aborted when the client goes away before its answer is complete; cancels the upstream request. */
  readonly abort = new ClientAbort();
  /** Decisions on the tool calls of the response, in order (audit `details.tool_calls`). */
  readonly toolCalls: ToolCallVerdict[] = [];
  /** The error format the client expects. */
  errorShape: ErrorShape = 'openai';
  /** How an error is told once a stream has started (the route's API may have its own error event). */
  streamErrors: StreamErrorFormat = 'openai';
  finished = false;
  private finishConsumers: FinishConsumer[] | null = null;

  // What the stages establish, in order.
  /** False on a public endpoint: served without a gateway key (policies still apply). */
  requiresKey = true;
  /** The gateway key the caller presented, as the path reads it from its headers. */
  presentedKey: string | undefined;
  /** The caller's key (undefined on a public endpoint). */
  key: EvalRequest['key'];
  /** The request body's JSON, when it was read (rewritten in place by PII masking). */
  body: Record<string, unknown> | undefined;
  /** The body bytes to forward: the client's, or null when the body is streamed through unread. */
  rawBody: Buffer | null = null;
  /** How the body's API is read: policy facts and prompt text. */
  translator: RequestTranslator | null = null;
  /** The policy's view of the body (OpenAI chat field names), derived once. */
  policyBody: Record<string, unknown> | undefined;
  /** True when PII masking rewrote the body. */
  bodyMasked = false;

  constructor(
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    /** Canonical path (src/http/canonical-path.ts), without the query string. */
    readonly path: string,
    /** The query string: "" or "?...". */
    readonly search: string,
    readonly now: number,
    private readonly audit: AuditWriter,
  ) {
    this.record = startRecord(req.method ?? 'GET', path, now);
    // The calling agent is known from the first byte, so even a request refused before routing is attributed. An
    // over-long id (refused by the agent-id stage) is recorded cut, with "…": longer than any valid id, so never one.
    const agent = headerValue(req, AGENT_ID_HEADER);
    this.record.agent_id = agent === undefined ? null : agent.length > MAX_AGENT_ID_LENGTH ? `${agent.slice(0, MAX_AGENT_ID_LENGTH)}…` : agent;
    res.setHeader('x-tollgate-request-id', this.record.id);
    audit.begin(this.record.id, this);
    res.once('close', () => {
      // Finished: the record is complete (in sync durability the end may still be waiting for it to be durable).
      if (res.writableFinished || this.finished) return;
      this.record.client_aborted = true;
      this.abort.abort();
    });
  }

  /**
   * What a policy decides on, for the request itself or one of its tool calls: the same facts, built as one object
   * of one shape (no spread copies on the hot path).
   */
  evalRequest(action: string, resource: string, tool?: EvalRequest['tool']): EvalRequest {
    const { record } = this;
    return { action, resource, provider: record.provider ?? undefined, body: this.policyBody, key: this.key, agent_id: record.agent_id ?? undefined, tool, now: this.now };
  }

  onFinish(consumer: FinishConsumer): void {
    (this.finishConsumers ??= []).push(consumer);
  }

  /**
   * The gateway is stopping and its grace period is over: answer what can still be answered (a 503, or an error
   * event on a stream under way), stop the upstream request, and finish with what is known (usage so far included).
   */
  cutOff(): void {
    if (this.finished) return;
    this.fail(gatewayShuttingDown());
    this.abort.abort();
  }

  /**
   * Ends the response with its last bytes and finishes. In sync audit durability the end waits until the record is
   * durable, so an answer a client has received in full always has its record, even after a SIGKILL.
   */
  end(status: number, last?: string | Buffer): void {
    const durable = this.finish(status);
    if (durable) void durable.then(() => this.res.end(last));
    else this.res.end(last);
  }

  /**
   * True when the response may end before its record is durable (batch durability): a stream may then end with
   * its provider's last event, before the provider has closed the stream.
   */
  get mayEndEarly(): boolean {
    return !this.audit.sync;
  }

  /**
   * Completes the audit record, exactly once per request. Returns, in sync durability, the promise that the record
   * is durable.
   */
  finish(status: number): Promise<void> | undefined {
    if (this.finished) return undefined;
    this.finished = true;
    const { record } = this;
    if (this.toolCalls.length > 0) record.details = { ...record.details, tool_calls: this.toolCalls };
    record.status = record.client_aborted ? 499 : status;
    if (record.client_aborted) record.error_message ??= 'client closed the connection before the answer was complete';
    record.latency_ms = elapsedMs(this.started);
    if (this.finishConsumers) for (const consumer of this.finishConsumers) consumer(this);
    return this.audit.enqueue(record);
  }

  /**
   * Answers a failure (any thrown value: a GatewayError, else a failure to reach the provider) and finishes. The one
   * place the record's reason code comes from an error. With the response already started, the error goes in-band.
   */
  fail(err: unknown, headers: Record<string, string> = {}): void {
    if (this.finished) return;
    const { record, res } = this;
    const error = asGatewayError(err, record.provider);
    if (!(err instanceof GatewayError)) record.error_message ??= (err as Error)?.message ?? String(err);
    const { audit } = error;
    if (audit.reason_code !== undefined) record.reason_code = audit.reason_code;
    if (audit.decision !== undefined) {
      record.decision = audit.decision;
      record.policy = audit.policy ?? null;
      record.rule = audit.rule ?? null;
      if (!res.headersSent) res.setHeader('x-tollgate-decision', audit.decision);
    }
    if (record.client_aborted) {
      if (record.reason_code === 'INCOMPLETE') record.reason_code = 'CLIENT_ABORTED';
      record.error_message ??= 'client closed the connection';
      this.finish(499);
      return;
    }
    record.error_message ??= error.message;
    if (record.reason_code === 'INCOMPLETE') record.reason_code = 'INVALID_REQUEST';
    if (!res.headersSent) {
      const text = JSON.stringify(errorBody(error, this.errorShape));
      res.writeHead(error.status, { ...headers, 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
      this.end(error.status, text);
    } else if (!res.writableEnded) {
      // A stream already under way: tell the client in-band, then end it.
      this.end(error.status, streamErrorEvent(error, this.streamErrors, this.record.model));
    } else this.finish(error.status);
  }
}
