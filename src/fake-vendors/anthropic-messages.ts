/**
 * The fake Anthropic Messages API (`POST /v1/messages`, non-streaming): `x-api-key` and `anthropic-version` headers,
 * request fields as published (max_tokens required), answers a `message` with one `text` block. Pure.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { fakeReply } from './reply.js';
import type { FakeVendor } from './server.js';

const TextBlock = z.looseObject({ type: z.literal('text'), text: z.string() });
const Message = z.strictObject({ role: z.enum(['user', 'assistant']), content: z.union([z.string(), z.array(TextBlock).min(1)]) });

const MessagesRequest = z.strictObject({
  model: z.string().min(1),
  max_tokens: z.int().min(1),
  messages: z.array(Message).min(1),
  system: z.union([z.string(), z.array(TextBlock)]).optional(),
  stop_sequences: z.array(z.string()).optional(),
  temperature: z.number().min(0).max(1).optional(),
  top_k: z.int().min(0).optional(),
  top_p: z.number().min(0).max(1).optional(),
  stream: z.literal(false).optional(),
  metadata: z.looseObject({}).optional(),
});

const error = (status: number, type: string, message: string) => ({ status, body: { type: 'error', error: { type, message } } });

const text = (content: string | { text: string }[]) => (typeof content === 'string' ? content : content.map((b) => b.text).join(''));

export const anthropicMessages: FakeVendor = {
  name: 'anthropic',
  route: (method, path) => method === 'POST' && path === '/v1/messages',
  authorize(headers, apiKey) {
    const key = headers['x-api-key'];
    if (typeof key !== 'string' || (apiKey !== undefined && key !== apiKey)) return error(401, 'authentication_error', 'invalid x-api-key');
    if (typeof headers['anthropic-version'] !== 'string') return error(400, 'invalid_request_error', 'anthropic-version: header is required');
    return null;
  },
  handle(body) {
    const parsed = MessagesRequest.safeParse(body);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      const at = [...issue.path, ...(issue.code === 'unrecognized_keys' ? issue.keys : [])].join('.');
      return error(400, 'invalid_request_error', issue.code === 'unrecognized_keys' ? `${at}: Extra inputs are not permitted` : `${at}: ${issue.message}`);
    }
    const req = parsed.data;
    const prompt = `${typeof req.system === 'string' ? req.system : text(req.system ?? [])}${req.messages.map((m) => text(m.content)).join('')}`;
    const reply = fakeReply(prompt, req.max_tokens);
    return {
      status: 200,
      body: {
        id: `msg_${randomUUID().replaceAll('-', '').slice(0, 24)}`,
        type: 'message',
        role: 'assistant',
        model: req.model,
        content: [{ type: 'text', text: reply.text }],
        stop_reason: reply.truncated ? 'max_tokens' : 'end_turn',
        stop_sequence: null,
        usage: { input_tokens: reply.promptTokens, output_tokens: reply.completionTokens },
      },
    };
  },
};
