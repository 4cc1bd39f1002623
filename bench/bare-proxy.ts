/**
 * The benchmark's baseline: a bare pass-through proxy (node:http + undici, keep-alive, no other work) that streams
 * request and response bodies straight through. `node dist/bench/bare-proxy.js <upstream-origin> [port]`.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool, type Dispatcher } from 'undici';

const [origin, portArg] = process.argv.slice(2);
if (!origin) throw new Error('usage: bare-proxy <upstream-origin> [port]');
// No connection cap, as in the gateway: the baseline must not queue what the gateway would not.
const pool = new Pool(origin, { connections: null, keepAliveTimeout: 30_000 });
const HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'host', 'upgrade', 'te', 'trailer', 'proxy-connection']);

const server = createServer(async (req, res) => {
  const headers: Record<string, string | string[]> = {};
  for (const name in req.headers) if (!HOP.has(name)) headers[name] = req.headers[name]!;
  try {
    const up = await pool.request({
      path: req.url ?? '/',
      method: req.method as Dispatcher.HttpMethod,
      headers,
      body: req.method === 'GET' || req.method === 'HEAD' ? null : req,
    });
    const out: Record<string, string | string[]> = {};
    for (const name in up.headers) if (!HOP.has(name)) out[name] = up.headers[name]!;
    res.writeHead(up.statusCode, out);
    for await (const chunk of up.body) res.write(chunk);
    res.end();
  } catch (err) {
    res.writeHead(502).end(String(err));
  }
});
server.keepAliveTimeout = 65_000;
server.listen(Number(portArg ?? 0), '127.0.0.1', () => {
  process.stdout.write(`bare proxy listening on http://127.0.0.1:${(server.address() as AddressInfo).port}\n`);
});
process.once('SIGTERM', () => process.exit(0));
