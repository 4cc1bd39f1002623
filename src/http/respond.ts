/** Writing JSON answers. */
import type { ServerResponse } from 'node:http';
import type { GatewayError } from './errors.js';

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...headers,
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

export function sendError(res: ServerResponse, err: GatewayError, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.destroy(err);
    return;
  }
  sendJson(res, err.status, err.toBody(), headers);
}
