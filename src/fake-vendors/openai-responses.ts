/**
 * The fake OpenAI Responses API (`POST /v1/responses`, non-streaming text input): request fields as published, unknown
 * ones rejected; answers a `response` object with one assistant `message` of `output_text`. Pure.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { fakeReply } from './reply.js';
import type { FakeVendor } from './server.js';

const InputMessage = z.looseObject({ role: z.enum(['user', 'assistant', 'system', 'developer']), content: z.union([z.string(), z.array(z.unknown())]) });

const ResponsesRequest = z.strictObject({
  model: z.string().min(1),
  input: z.union([z.string(), z.array(InputMessage).min(1)]),
  instructions: z.string().nullable().optional(),
  max_output_tokens: z.int().min(16).nullable().optional(),
  temperature: z.number().min(0).max(2).nullable().optional(),
  top_p: z.number().min(0).max(1).nullable().optional(),
  truncation: z.enum(['auto', 'disabled']).nullable().optional(),
  stream: z.literal(false).nullable().optional(),
  store: z.boolean().nullable().optional(),
  metadata: z.record(z.string(), z.string()).nullable().optional(),
  user: z.string().optional(),
});

const error = (status: number, message: string, code: string | null, param: string | null = null) => ({
  status,
  body: { error: { message, type: 'invalid_request_error', param, code } },
});

export const openaiResponses: FakeVendor = {
  name: 'openai',
  route: (method, path) => method === 'POST' && path === '/v1/responses',
  authorize(headers, apiKey) {
    const key = /^Bearer\s+(\S+)$/i.exec(String(headers.authorization ?? ''))?.[1];
    if (key && (apiKey === undefined || key === apiKey)) return null;
    return error(401, `Incorrect API key provided: ${key ?? '(none)'}.`, 'invalid_api_key');
  },
  handle(body) {
    const parsed = ResponsesRequest.safeParse(body);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      const param = [...issue.path, ...(issue.code === 'unrecognized_keys' ? issue.keys : [])].join('.');
      return error(400, issue.code === 'unrecognized_keys' ? `Unknown parameter: '${param}'.` : `Invalid '${param}': ${issue.message}`, issue.code === 'unrecognized_keys' ? 'unknown_parameter' : 'invalid_value', param);
    }
    const req = parsed.data;
    const prompt = typeof req.input === 'string' ? req.input : JSON.stringify(req.input);
    const reply = fakeReply(`${req.instructions ?? ''}${prompt}`, req.max_output_tokens ?? undefined);
    const id = randomUUID().replaceAll('-', '');
    return {
      status: 200,
      body: {
        id: `resp_${id}`,
        object: 'response',
        created_at: Math.floor(Date.now() / 1000),
        status: reply.truncated ? 'incomplete' : 'completed',
        incomplete_details: reply.truncated ? { reason: 'max_output_tokens' } : null,
        model: req.model,
        instructions: req.instructions ?? null,
        output: [
          { type: 'message', id: `msg_${id}`, status: 'completed', role: 'assistant', content: [{ type: 'output_text', text: reply.text, annotations: [] }] },
        ],
        usage: {
          input_tokens: reply.promptTokens,
          input_tokens_details: { cached_tokens: 0 },
          output_tokens: reply.completionTokens,
          output_tokens_details: { reasoning_tokens: 0 },
          total_tokens: reply.promptTokens + reply.completionTokens,
        },
      },
    };
  },
};
