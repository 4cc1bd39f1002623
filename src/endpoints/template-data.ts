/**
 * The data templates see, shaped as KrakenD's: `.req_body`, `.req_headers` (canonical header name -> list of values),
 * `.req_params`, `.req_querystring` (name -> list of values) and `.variables` on the way in; the same plus
 * `.resp_body`, `.resp_status` and `.resp_headers` on the way out. Pure: no I/O.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { goInt } from '../templates/index.js';
import type { LlmEndpoint } from '../config/krakend/endpoints.js';

export interface RequestData {
  req_body: unknown;
  req_headers: Record<string, string[]>;
  req_params: Record<string, string>;
  req_querystring: Record<string, string[]>;
  variables: Record<string, unknown>;
}

/** The gateway's own credentials never reach templates (nor, through them, the vendor or debug logs). */
function isPrivateHeader(name: string): boolean {
  return name === 'authorization' || name === 'cookie' || name.startsWith('x-controlzero-');
}

/** Go's textproto.CanonicalMIMEHeaderKey: "content-type" -> "Content-Type". */
export function canonicalHeaderName(name: string): string {
  return name.toLowerCase().replace(/(^|-)([a-z])/g, (_, sep: string, c: string) => sep + c.toUpperCase());
}

export function headerLists(headers: IncomingHttpHeaders | Record<string, string | string[] | undefined>, allowed: readonly string[] | null = null): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || isPrivateHeader(name) || (allowed !== null && !allowed.includes(name))) continue;
    out[canonicalHeaderName(name)] = Array.isArray(value) ? value : [value];
  }
  return out;
}

export function queryLists(search: string, allowed: readonly string[] | null): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [name, value] of new URLSearchParams(search)) {
    if (allowed !== null && !allowed.includes(name)) continue;
    (out[name] ??= []).push(value);
  }
  return out;
}

export function requestData(endpoint: LlmEndpoint, body: unknown, headers: IncomingHttpHeaders, search: string): RequestData {
  return {
    req_body: body,
    req_headers: headerLists(headers, endpoint.inputHeaders),
    req_params: {},
    req_querystring: queryLists(search, endpoint.inputQueryStrings),
    variables: endpoint.variables,
  };
}

export function responseData(request: RequestData, status: number, headers: Record<string, string | string[] | undefined>, body: unknown) {
  return { ...request, resp_body: body, resp_status: goInt(status), resp_headers: headerLists(headers) };
}
