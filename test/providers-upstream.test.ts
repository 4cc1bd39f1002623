/** What a provider is sent and what the client gets back: header hygiene at the upstream boundary. */
import assert from 'node:assert/strict';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { after, before, test } from 'node:test';
import { forwardingHeaders, trustedProxyList } from '../src/http/forwarded.js';
import { Upstream, responseHeaders } from '../src/providers/upstream.js';
import { UpstreamPools } from '../src/upstream/pools.js';
import { startHarness, UPSTREAM_KEY, type Harness } from './support/harness.js';

const config = { name: 'acme', baseUrl: 'http://127.0.0.1:9', apiKey: 'sk-provider', pathRewrites: {}, timeoutMs: 1000, maxConnections: null, wire: 'openai' as const, errorShape: 'openai' as const, parameters: {} };

test('client credentials in any header clients use, hop-by-hop headers and the ones Connection names stay here', () => {
  const upstream = new Upstream(config, new UpstreamPools());
  const sent = upstream.requestHeaders(
    {
      authorization: 'Bearer cz_live_gateway_key',
      'x-api-key': 'cz_live_gateway_key',
      'api-key': 'cz_live_gateway_key',
      cookie: 'session=1',
      'x-controlzero-agent-id': 'a',
      connection: 'keep-alive, X-Secret-Hop',
      'x-secret-hop': 'internal',
      expect: '100-continue',
      te: 'trailers',
      'content-type': 'application/json',
      'x-request-id': 'r1',
    },
    12,
  );
  assert.deepEqual(sent, {
    'content-type': 'application/json',
    'x-request-id': 'r1',
    authorization: 'Bearer sk-provider',
    'accept-encoding': 'identity',
    'content-length': '12',
  });
});

test('response headers: hop-by-hop ones and the ones Connection names are not relayed', () => {
  assert.deepEqual(responseHeaders({ connection: 'close, x-upstream-hop', 'x-upstream-hop': '1', 'keep-alive': 'timeout=5', 'content-type': 'application/json', 'x-ratelimit-limit-requests': '10' }), {
    'content-type': 'application/json',
    'x-ratelimit-limit-requests': '10',
  });
});

let h: Harness;
let key: string;
before(async () => {
  h = await startHarness({ env: { CZ_GATEWAY_MAX_BODY_BYTES: '4096' } });
  key = (await h.createKey('upstream-headers')).key;
});
after(() => h.close());

/** POSTs with `Expect: 100-continue`, sending the body only once the gateway says Continue (as curl does). */
function postExpectingContinue(body: string): Promise<{ status: number; continued: boolean; text: string }> {
  const url = new URL(h.url);
  return new Promise((resolve, reject) => {
    let continued = false;
    const req = httpRequest({
      host: url.hostname,
      port: url.port,
      method: 'POST',
      path: '/mistral/v1/chat/completions',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), expect: '100-continue' },
    });
    req.on('continue', () => {
      continued = true;
      req.end(body);
    });
    req.on('response', (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, continued, text }));
    });
    req.on('error', reject);
  });
}

test('Expect: 100-continue is answered by the gateway and never forwarded', async () => {
  const body = JSON.stringify({ model: 'mistral-large-latest', messages: [{ role: 'user', content: 'hi' }] });
  const res = await postExpectingContinue(body);
  assert.equal(res.continued, true);
  assert.equal(res.status, 200, res.text);
  assert.equal(h.fake.requests.at(-1)!.headers.expect, undefined);
  assert.equal(h.fake.requests.at(-1)!.headers.authorization, `Bearer ${UPSTREAM_KEY}`);
});

test('a body of exactly CZ_GATEWAY_MAX_BODY_BYTES is accepted; one byte more is a 413', async () => {
  const base = JSON.stringify({ model: 'mistral-large-latest', messages: [{ role: 'user', content: '' }] });
  const exact = JSON.stringify({ model: 'mistral-large-latest', messages: [{ role: 'user', content: 'x'.repeat(4096 - Buffer.byteLength(base)) }] });
  assert.equal(Buffer.byteLength(exact), 4096);
  const ok = await fetch(`${h.url}/mistral/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: exact });
  assert.equal(ok.status, 200, await ok.text());
  const over = await fetch(`${h.url}/mistral/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: exact.replace('"x', '"xx') });
  assert.equal(over.status, 413);
});

const fakeRequest = (remoteAddress: string, headers: Record<string, string>) => ({ socket: { remoteAddress }, headers }) as unknown as IncomingMessage;

test("a client's forwarding headers are replaced by what the gateway saw; a trusted proxy's chain is kept and extended", () => {
  const claimed = { 'x-forwarded-for': '6.6.6.6', 'x-real-ip': '6.6.6.6', forwarded: 'for=6.6.6.6', 'x-forwarded-proto': 'https', host: 'gw.example:8000' };
  assert.deepEqual(forwardingHeaders(fakeRequest('::ffff:10.0.0.7', claimed), null), {
    'x-forwarded-for': '10.0.0.7',
    'x-forwarded-proto': 'http',
    'x-forwarded-host': 'gw.example:8000',
  });
  const trusted = trustedProxyList([{ address: '10.0.0.0', prefix: 8, family: 'ipv4' }]);
  assert.deepEqual(forwardingHeaders(fakeRequest('10.0.0.7', claimed), trusted), {
    'x-forwarded-for': '6.6.6.6, 10.0.0.7',
    'x-real-ip': '6.6.6.6',
    forwarded: 'for=6.6.6.6',
    'x-forwarded-proto': 'https',
    'x-forwarded-host': 'gw.example:8000',
  });
  assert.equal(forwardingHeaders(fakeRequest('192.168.1.2', claimed), trusted)['x-forwarded-for'], '192.168.1.2', 'outside the trusted subnet');
});

test('through the gateway: the provider sees the peer, never the headers a client made up', async () => {
  const res = await fetch(`${h.url}/mistral/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'x-forwarded-for': '6.6.6.6', 'x-real-ip': '6.6.6.6', forwarded: 'for=6.6.6.6' },
    body: JSON.stringify({ model: 'mistral-large-latest', messages: [{ role: 'user', content: 'hi' }] }),
  });
  assert.equal(res.status, 200);
  const sent = h.fake.requests.at(-1)!.headers;
  assert.equal(sent['x-forwarded-for'], '127.0.0.1');
  assert.equal(sent['x-real-ip'], undefined);
  assert.equal(sent.forwarded, undefined);
  assert.equal(sent['x-forwarded-host'], new URL(h.url).host);
});

/** An upstream that holds every request open until released, counting how many it holds at once. */
async function holdingUpstream(): Promise<{ url: string; held: () => number; release: () => void; close: () => Promise<void> }> {
  const { createServer } = await import('node:http');
  const waiting: (() => void)[] = [];
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write('data: {}\n\n');
    waiting.push(() => res.end('data: [DONE]\n\n'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    held: () => waiting.length,
    release: () => {
      for (const end of waiting.splice(0)) end();
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

for (const [maxConnections, concurrent, expectedAtOnce] of [
  [null, 700, 700],
  [3, 10, 3],
] as const) {
  test(`upstream connections: ${maxConnections === null ? 'no cap by default, so 700 slow streams are all under way at once' : 'a configured cap of 3 holds the rest back'}`, async () => {
    const upstream = await holdingUpstream();
    const pools = new UpstreamPools();
    try {
      const pool = pools.get(upstream.url, { timeoutMs: 10_000, maxConnections });
      const responses = Array.from({ length: concurrent }, () => pool.request({ method: 'POST', path: '/v1/chat/completions', body: '{}' }).then((r) => r.body.text()));
      const deadline = Date.now() + 10_000;
      while (upstream.held() < expectedAtOnce && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(upstream.held(), expectedAtOnce);
      while (upstream.held() > 0 || (await Promise.race([Promise.all(responses).then(() => true), new Promise((r) => setTimeout(() => r(false), 20))])) === false) upstream.release();
      assert.equal((await Promise.all(responses)).length, concurrent);
    } finally {
      await pools.close();
      await upstream.close();
    }
  });
}
