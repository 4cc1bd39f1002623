/**
 * The fake Gemini API (`POST /v1beta/models/{model}:generateContent`): `x-goog-api-key` header (or `?key=`), request
 * fields as published (camelCase), `candidateCount` candidates answered with `usageMetadata`. Pure.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { fakeReply } from './reply.js';
import type { FakeVendor } from './server.js';

const Part = z.looseObject({ text: z.string() });
const Content = z.strictObject({ role: z.enum(['user', 'model']).optional(), parts: z.array(Part).min(1) });

const GenerateContentRequest = z.strictObject({
  contents: z.array(Content).min(1),
  systemInstruction: Content.optional(),
  generationConfig: z
    .strictObject({
      candidateCount: z.int().min(1).max(8).optional(),
      maxOutputTokens: z.int().min(1).optional(),
      stopSequences: z.array(z.string()).max(5).optional(),
      temperature: z.number().min(0).max(2).optional(),
      topK: z.int().min(1).optional(),
      topP: z.number().min(0).max(1).optional(),
    })
    .optional(),
  safetySettings: z.array(z.unknown()).optional(),
});

const PATH = /^\/v1beta\/models\/([^/:]+):generateContent$/;

const error = (status: number, code: string, message: string) => ({ status, body: { error: { code: status, message, status: code } } });

export const gemini: FakeVendor = {
  name: 'gemini',
  route: (method, path) => method === 'POST' && PATH.test(path.split('?')[0]!),
  authorize(headers, apiKey, path) {
    const key = headers['x-goog-api-key'] ?? new URLSearchParams(path.split('?')[1] ?? '').get('key');
    if (typeof key === 'string' && (apiKey === undefined || key === apiKey)) return null;
    return error(400, 'INVALID_ARGUMENT', 'API key not valid. Please pass a valid API key.');
  },
  handle(body, path) {
    const parsed = GenerateContentRequest.safeParse(body);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      const at = [...issue.path, ...(issue.code === 'unrecognized_keys' ? issue.keys : [])].join('.');
      return error(400, 'INVALID_ARGUMENT', issue.code === 'unrecognized_keys' ? `Invalid JSON payload received. Unknown name "${at}": Cannot find field.` : `Invalid value at '${at}': ${issue.message}`);
    }
    const req = parsed.data;
    const model = PATH.exec(path.split('?')[0]!)![1]!;
    const prompt = [req.systemInstruction, ...req.contents].flatMap((c) => c?.parts ?? []).map((p) => p.text).join('');
    const count = req.generationConfig?.candidateCount ?? 1;
    const replies = Array.from({ length: count }, (_, i) => fakeReply(prompt, req.generationConfig?.maxOutputTokens, i));
    const completion = replies.reduce((n, r) => n + r.completionTokens, 0);
    return {
      status: 200,
      body: {
        candidates: replies.map((r, index) => ({ content: { parts: [{ text: r.text }], role: 'model' }, finishReason: r.truncated ? 'MAX_TOKENS' : 'STOP', index })),
        usageMetadata: { promptTokenCount: replies[0]!.promptTokens, candidatesTokenCount: completion, totalTokenCount: replies[0]!.promptTokens + completion },
        modelVersion: model,
        responseId: randomUUID().replaceAll('-', '').slice(0, 22),
      },
    };
  },
};
