/**
 * An upstream for bench/scale.ts: every POST is answered with a chat-completions stream of `CHUNKS` content events
 * (default 2,000; a few tokens each, then a final chunk with usage and [DONE]), written in bursts of 50 events, as a
 * provider's stream arrives when the client keeps up. `node dist/bench/bulk-stream-upstream.js [chunks]`.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

const chunks = Number(process.argv[2] ?? 2000);
const BURST = 50;
const event = (delta: Record<string, unknown>, finish: string | null, extra: Record<string, unknown> = {}) =>
  `data: ${JSON.stringify({ id: 'chatcmpl-bulk', object: 'chat.completion.chunk', created: 1_700_000_000, model: 'mistral-large-latest', choices: [{ index: 0, delta, finish_reason: finish }], ...extra })}\n\n`;
const events = [
  event({ role: 'assistant', content: '' }, null),
  ...Array.from({ length: chunks }, (_, i) => event({ content: ` token${i % 100}` }, null)),
  event({}, 'stop', { usage: { prompt_tokens: 12, completion_tokens: chunks, total_tokens: chunks + 12 } }),
  'data: [DONE]\n\n',
];
const bursts: Buffer[] = [];
for (let i = 0; i < events.length; i += BURST) bursts.push(Buffer.from(events.slice(i, i + BURST).join('')));

const server = createServer((req, res) => {
  req.resume();
  req.once('end', async () => {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    for (const burst of bursts) {
      if (!res.write(burst)) await new Promise((r) => res.once('drain', r));
      await new Promise((r) => setImmediate(r)); // one burst per turn of the event loop, as separate reads arrive
    }
    res.end();
  });
});
server.keepAliveTimeout = 65_000;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`bulk-stream upstream listening on http://127.0.0.1:${(server.address() as AddressInfo).port}\n`);
});
process.once('SIGTERM', () => process.exit(0));
