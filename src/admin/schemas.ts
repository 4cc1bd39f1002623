/** Schemas of admin API inputs, with the conversion of zod issues into one precise 400. */
import { z } from 'zod';
import { badRequest } from '../http/errors.js';

const timestamp = z.union([
  z.iso.datetime({ offset: true, error: 'must be an ISO 8601 date-time such as 2030-01-31T00:00:00Z' }),
  z.int().positive(),
]);

export function toMillis(value: string | number): number {
  return typeof value === 'number' ? value : Date.parse(value);
}

export const newKeySchema = z.strictObject({
  name: z.string({ error: 'must be a string' }).trim().min(1, 'must not be empty').max(200, 'at most 200 characters'),
  attributes: z.record(z.string(), z.string({ error: 'attribute values must be strings' })).optional(),
  expires_at: timestamp.nullish(),
});

const optionalTime = z.union([z.iso.datetime({ offset: true }), z.string().regex(/^\d+$/)], {
  error: 'must be an ISO 8601 date-time or epoch milliseconds',
});

export const auditQuerySchema = z.strictObject({
  provider: z.string().min(1).optional(),
  model: z.string().min(1).optional(),
  key_id: z.string().min(1).optional(),
  agent_id: z.string().min(1).optional(),
  route: z.string().min(1).optional(),
  action: z.string().min(1).optional(),
  decision: z.enum(['allow', 'deny']).optional(),
  status: z.coerce.number({ error: 'must be an HTTP status code' }).int().min(100).max(599).optional(),
  since: optionalTime.optional(),
  until: optionalTime.optional(),
  limit: z.coerce.number({ error: 'must be an integer from 1 to 1000' }).int().min(1).max(1000).default(100),
  cursor: z.string().min(1).optional(),
});

/** POST /api/v1/evaluate: a `tollgate policy eval --jsonl` line; without `policies`, the live policies decide. */
export const evaluateSchema = z.strictObject({
  policies: z.array(z.unknown(), { error: 'must be an array of policy documents' }).optional(),
  request: z.strictObject({
    action: z.string({ error: 'must be a string such as "llm:chat.completions" or "tool:call"' }),
    resource: z.string({ error: 'must be a string such as "mistral/mistral-large-latest"' }),
    provider: z.string().optional(),
    body: z.record(z.string(), z.unknown(), { error: 'must be a JSON object (the request body)' }).optional(),
    key: z.strictObject({ id: z.string(), attributes: z.record(z.string(), z.string()).default({}) }).optional(),
    agent_id: z.string().optional(),
    tool: z.strictObject({ name: z.string(), arguments: z.unknown(), arguments_invalid: z.boolean().optional() }).optional(),
    now: z.union([z.number(), z.iso.datetime({ offset: true }).transform((t) => Date.parse(t))], {
      error: 'must be epoch milliseconds or an ISO 8601 date-time',
    }).optional(),
  }),
  strict: z.boolean().optional(),
});

export function queryTime(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  return /^\d+$/.test(value) ? Number(value) : Date.parse(value);
}

/** Parses `value` or throws a 400 naming the first field at fault. */
export function parseOrThrow<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues;
  const first = issues[0]!;
  const param = first.path.map(String).join('.') || null;
  const all = issues.map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`).join('; ');
  throw badRequest('invalid_parameter', `Invalid ${what}: ${all}`, param);
}
