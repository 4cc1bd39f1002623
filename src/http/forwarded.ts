/**
 * The forwarding headers a provider is sent. A client's own `X-Forwarded-*`, `Forwarded` and `X-Real-IP` are claims
 * anyone can make, so they are replaced by what the gateway saw (the peer address, the Host), unless the peer is a
 * trusted proxy (CZ_GATEWAY_TRUSTED_PROXIES), whose chain is kept and extended.
 */
import type { IncomingMessage } from 'node:http';
import { BlockList, isIPv4 } from 'node:net';

export interface TrustedProxy {
  address: string;
  prefix: number;
  family: 'ipv4' | 'ipv6';
}

export const FORWARDING_HEADERS = ['x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'forwarded', 'x-real-ip'];

export function trustedProxyList(proxies: readonly TrustedProxy[]): BlockList {
  const list = new BlockList();
  for (const p of proxies) list.addSubnet(p.address, p.prefix, p.family);
  return list;
}

/** The peer address as written in X-Forwarded-For ("::ffff:1.2.3.4" is 1.2.3.4). */
function peerAddress(req: IncomingMessage): string {
  const address = req.socket.remoteAddress ?? 'unknown';
  return address.startsWith('::ffff:') && isIPv4(address.slice(7)) ? address.slice(7) : address;
}

const first = (value: string | string[] | undefined): string | undefined => (Array.isArray(value) ? value.join(', ') : value);

export function forwardingHeaders(req: IncomingMessage, trusted: BlockList | null): Record<string, string> {
  const peer = peerAddress(req);
  const fromTrusted = trusted !== null && trusted.check(peer, isIPv4(peer) ? 'ipv4' : 'ipv6');
  const out: Record<string, string> = {};
  if (fromTrusted) {
    for (const name of FORWARDING_HEADERS) {
      const value = first(req.headers[name]);
      if (value !== undefined) out[name] = value;
    }
  }
  out['x-forwarded-for'] = out['x-forwarded-for'] ? `${out['x-forwarded-for']}, ${peer}` : peer;
  out['x-forwarded-proto'] ??= 'http';
  const host = first(req.headers.host);
  if (host !== undefined) out['x-forwarded-host'] ??= host;
  return out;
}
