/**
 * An upstream for bench/scale.ts: every POST is answered with a chat-completions stream whose one tool-call event
 * carries `BYTES` of arguments (default 4 MB), written in 16 KB pieces as a provider's TCP stream would arrive.
 * `node dist/bench/large-event-upstream.js [bytes]`.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

const bytes = Number(process.argv[2] ?? 4 * 1024 * 1024);
const call = {
  id: 'chatcmpl-big',
  object: 'chat.completion.chunk',
  model: 'mistral-large-latest',
  choices: [
    {
      index: 0,
      delta: { role: 'assistant', tool_calls: [{ id: 'call_1', type: 'function', index: 0, function: { name: 'save_document', arguments: JSON.stringify({ text: 'x'.repeat(bytes) }) } }] },
      finish_reason: null,
    },
  ],
};
const stream = Buffer.from(
  `data: ${JSON.stringify(call)}\n\n` +
    `data: ${JSON.stringify({ ...call, choices: [{ index: 0, delta: {}, finish_reason: 'tool_calls' }], usage: { prompt_tokens: 10, completion_tokens: 1000, total_tokens: 1010 } })}\n\n` +
    'data: [DONE]\n\n',
);
const PIECE = 16 * 1024;

const server = createServer((req, res) => {
  req.resume();
  req.once('end', async () => {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    for (let i = 0; i < stream.length; i += PIECE) {
      if (!res.write(stream.subarray(i, i + PIECE))) await new Promise((r) => res.once('drain', r));
    }
    res.end();
  });
});
server.keepAliveTimeout = 65_000;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`large-event upstream listening on http://127.0.0.1:${(server.address() as AddressInfo).port}\n`);
});
process.once('SIGTERM', () => process.exit(0));
