/** Reading and decoding request bodies at the boundary, with the size limit and precise errors. */
import type { IncomingMessage } from 'node:http';
import { badRequest, invalidRequest, type GatewayError } from './errors.js';

export function payloadTooLarge(limit: number): GatewayError {
  return invalidRequest(413, 'request_too_large', `Request body exceeds the gateway limit of ${limit} bytes (CZ_GATEWAY_MAX_BODY_BYTES)`);
}

/**
 * Collects the body; rejects with 413 as soon as it is known to exceed `limit` (header or bytes received), and with
 * 415 when it is compressed: a body the gateway reads is one it governs, and it does not govern bytes it cannot read.
 */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const encoding = req.headers['content-encoding']?.trim().toLowerCase();
  if (encoding && encoding !== 'identity') {
    req.resume();
    return Promise.reject(
      invalidRequest(415, 'unsupported_content_encoding', `Content-Encoding ${JSON.stringify(encoding)} is not accepted: send the body uncompressed, the gateway reads it to govern it`),
    );
  }
  const declared = Number(req.headers['content-length']);
  if (declared > limit) {
    req.resume(); // drain so the connection can answer
    return Promise.reject(payloadTooLarge(limit));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.off('data', onData);
        req.resume();
        reject(payloadTooLarge(limit));
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)));
    req.once('error', (err) => reject(invalidRequest(400, 'body_read_failed', err.message)));
    req.once('close', () => {
      if (!req.complete) reject(invalidRequest(400, 'body_incomplete', 'The client closed the connection before sending the whole body'));
    });
  });
}

/** True when the content type is JSON (application/json or +json), ignoring parameters such as charset. */
export function isJsonContentType(value: string | undefined): boolean {
  if (!value) return false;
  const type = value.split(';', 1)[0]!.trim().toLowerCase();
  return type === 'application/json' || type.endsWith('+json');
}

/** Throws the 415 for a request whose body must be JSON but is not declared so. */
export function requireJsonContentType(req: IncomingMessage): void {
  const contentType = req.headers['content-type'];
  if (isJsonContentType(contentType)) return;
  throw invalidRequest(415, 'unsupported_content_type', `Content-Type must be application/json, got ${contentType ? JSON.stringify(contentType) : 'none'}`);
}

/**
 * Parses a JSON object body; errors name the position of the syntax error. `decode` lets a caller keep its own
 * number model (templated endpoints decode as Go does).
 */
export function parseJsonObject(buf: Buffer, decode: (text: string) => unknown = JSON.parse): Record<string, unknown> {
  if (buf.length === 0) throw badRequest('invalid_json', 'Request body is empty; expected a JSON object');
  let value: unknown;
  try {
    value = decode(buf.toString('utf8'));
  } catch (err) {
    throw badRequest('invalid_json', `Request body is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw badRequest('invalid_json', 'Request body must be a JSON object');
  }
  return value as Record<string, unknown>;
}
