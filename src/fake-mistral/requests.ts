/**
 * Request bodies the fake accepts, mirroring the fields of the official SDK's request models: like api.mistral.ai,
 * unknown fields are rejected (`extra_forbidden`), and failures are reported as pydantic-style 422 details whose
 * `loc` names the JSON path at fault (with the message role as discriminator tag, e.g.
 * `["body","messages",0,"user","name"]`). Pure: no I/O.
 */
import * as z from 'zod';
import type { ValidationDetail } from './errors.js';

const NullableNumber = z.number().nullable().optional();
/** Message content: a string or chunks (text, image_url, ...), each checked only for its `type`. */
export const Content = z.union([z.string(), z.array(z.looseObject({ type: z.string() }))]);

const ToolCallIn = z.looseObject({
  id: z.string().optional(),
  type: z.string().optional(),
  function: z.looseObject({ name: z.string(), arguments: z.union([z.string(), z.record(z.string(), z.unknown())]) }),
  index: z.int().optional(),
});

const UserMessage = z.strictObject({ role: z.literal('user'), content: Content.nullable() });
const SystemMessage = z.strictObject({ role: z.literal('system'), content: Content });
const AssistantMessage = z.strictObject({
  role: z.literal('assistant'),
  content: Content.nullable().optional(),
  tool_calls: z.array(ToolCallIn).nullable().optional(),
  prefix: z.boolean().optional(),
});
const ToolMessage = z.strictObject({
  role: z.literal('tool'),
  content: Content.nullable(),
  tool_call_id: z.string().nullable().optional(),
  name: z.string().nullable().optional(),
});
const Message = z.discriminatedUnion('role', [SystemMessage, UserMessage, AssistantMessage, ToolMessage]);

const JsonSchemaObject = z.record(z.string(), z.unknown());

const FunctionDefinition = z.strictObject({
  name: z.string(),
  description: z.string().optional(),
  strict: z.boolean().optional(),
  parameters: JsonSchemaObject,
});
/** Function tools are checked in full; built-in tools (web_search, code_interpreter, ...) only by their type. */
export const Tool = z.looseObject({ type: z.string().optional(), function: FunctionDefinition.optional() });

const ToolChoice = z.union([
  z.enum(['auto', 'none', 'any', 'required']),
  z.looseObject({ type: z.string().optional(), function: z.strictObject({ name: z.string() }) }),
]);

export const ResponseFormat = z.strictObject({
  type: z.enum(['text', 'json_object', 'json_schema']).optional(),
  json_schema: z
    .looseObject({ name: z.string(), schema: JsonSchemaObject, description: z.string().nullable().optional() })
    .nullable()
    .optional(),
});

/** The model and its sampling: chosen by the request for chat and FIM, fixed by the agent for agents completions. */
const ModelFields = {
  model: z.string(),
  temperature: NullableNumber,
  top_p: NullableNumber,
};

/** Fields shared by chat, FIM and agents completions. */
const CompletionFields = {
  max_tokens: z.int().min(0).nullable().optional(),
  stream: z.boolean().optional(),
  stop: z.union([z.string(), z.array(z.string())]).nullable().optional(),
  random_seed: z.int().nullable().optional(),
  metadata: z.record(z.string(), z.unknown()).nullable().optional(),
  prompt_cache_key: z.string().nullable().optional(),
};

/** The messages-based fields shared by chat and agents completions. */
const MessagesFields = {
  messages: z.array(Message).min(1),
  response_format: ResponseFormat.optional(),
  tools: z.array(Tool).nullable().optional(),
  tool_choice: ToolChoice.optional(),
  presence_penalty: NullableNumber,
  frequency_penalty: NullableNumber,
  n: z.int().min(1).nullable().optional(),
  prediction: z.looseObject({}).optional(),
  parallel_tool_calls: z.boolean().optional(),
  reasoning_effort: z.string().nullable().optional(),
  prompt_mode: z.string().nullable().optional(),
  guardrails: z.array(z.unknown()).nullable().optional(),
  service_tier: z.string().nullable().optional(),
};

export const ChatRequestSchema = z.strictObject({
  ...ModelFields,
  ...CompletionFields,
  ...MessagesFields,
  safe_prompt: z.boolean().optional(),
});

/**
 * `POST /v1/agents/completions`: a chat completion addressed to an agent (`agent_id`) instead of a model; the agent
 * fixes the model and its sampling, so `model`, `temperature`, `top_p` and `safe_prompt` are not accepted (the SDK's
 * AgentsCompletionRequest has none of them).
 */
export const AgentsCompletionRequestSchema = z.strictObject({
  ...CompletionFields,
  ...MessagesFields,
  agent_id: z.string(),
});

export const FimRequestSchema = z.strictObject({
  ...ModelFields,
  ...CompletionFields,
  prompt: z.string(),
  suffix: z.string().nullable().optional(),
  min_tokens: z.int().min(0).nullable().optional(),
});

export const EmbeddingRequestSchema = z.strictObject({
  model: z.string(),
  input: z.union([z.string(), z.array(z.string())]),
  metadata: z.record(z.string(), z.unknown()).nullable().optional(),
  output_dimension: z.int().min(1).max(8192).nullable().optional(),
  output_dtype: z.enum(['float']).optional(),
  encoding_format: z.enum(['float', 'base64']).optional(),
});

export type ChatRequest = z.infer<typeof ChatRequestSchema>;
export type ChatMessage = ChatRequest['messages'][number];
export type ChatTool = NonNullable<ChatRequest['tools']>[number];
export type FimRequest = z.infer<typeof FimRequestSchema>;
export type EmbeddingRequest = z.infer<typeof EmbeddingRequestSchema>;

export type Validated<T> = { ok: true; value: T } | { ok: false; detail: ValidationDetail[] };

export function validateBody<T>(schema: z.ZodType<T>, body: unknown): Validated<T> {
  const result = schema.safeParse(body);
  if (result.success) return { ok: true, value: result.data };
  return { ok: false, detail: result.error.issues.flatMap((issue) => toDetails(issue, body)) };
}

type Path = ReadonlyArray<PropertyKey>;

function valueAt(root: unknown, path: Path): unknown {
  let node = root;
  for (const key of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<PropertyKey, unknown>)[key];
  }
  return node;
}

function isMissing(root: unknown, path: Path): boolean {
  if (path.length === 0) return false;
  const parent = valueAt(root, path.slice(0, -1));
  return parent !== null && typeof parent === 'object' && !Array.isArray(parent) && !(path[path.length - 1]! in parent);
}

/** pydantic's `loc`: prefixed with "body", with the message role inserted after a message index. */
function locOf(root: unknown, path: Path): Array<string | number> {
  const loc: Array<string | number> = ['body'];
  path.forEach((key, i) => {
    loc.push(typeof key === 'number' ? key : String(key));
    if (i === 1 && path[0] === 'messages' && typeof key === 'number' && path.length > 2) {
      const role = valueAt(root, path.slice(0, 2).concat('role'));
      if (typeof role === 'string') loc.push(role);
    }
  });
  return loc;
}

const TYPE_MESSAGES: Record<string, [string, string]> = {
  string: ['string_type', 'Input should be a valid string'],
  int: ['int_type', 'Input should be a valid integer'],
  number: ['float_type', 'Input should be a valid number'],
  boolean: ['bool_type', 'Input should be a valid boolean'],
  array: ['list_type', 'Input should be a valid list'],
  object: ['dict_type', 'Input should be a valid dictionary'],
  record: ['dict_type', 'Input should be a valid dictionary'],
};

const quoteList = (values: readonly unknown[]) => values.map((v) => `'${String(v)}'`).join(', ');

function toDetails(issue: z.core.$ZodIssue, body: unknown): ValidationDetail[] {
  const path = issue.path as Path;
  const detail = (type: string, at: Path, msg: string, input: unknown = valueAt(body, at)): ValidationDetail => ({
    type,
    loc: locOf(body, at),
    msg,
    input,
  });

  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => detail('extra_forbidden', [...path, key], 'Extra inputs are not permitted'));
  }
  if (issue.code === 'invalid_union' && 'discriminator' in issue && issue.discriminator) {
    // zod reports the accepted tags in `options`, which its issue type does not declare.
    const tags = (issue as { options?: unknown[] }).options ?? [];
    const at = path.slice(0, -1);
    const tag = valueAt(body, path);
    return [
      tag === undefined
        ? detail('union_tag_not_found', at, `Unable to extract tag using discriminator '${issue.discriminator}'`)
        : detail(
            'union_tag_invalid',
            at,
            `Input tag '${String(tag)}' found using '${issue.discriminator}' does not match any of the expected tags: ${quoteList(tags)}`,
          ),
    ];
  }
  if (isMissing(body, path)) return [detail('missing', path, 'Field required', valueAt(body, path.slice(0, -1)))];
  switch (issue.code) {
    case 'invalid_type': {
      if (issue.expected === 'object' && path.length === 0) {
        return [detail('model_attributes_type', path, 'Input should be a valid dictionary or object to extract fields from')];
      }
      const [type, msg] = TYPE_MESSAGES[issue.expected] ?? ['value_error', issue.message];
      return [detail(type, path, msg)];
    }
    case 'too_small':
      return [
        issue.origin === 'array'
          ? detail('too_short', path, `List should have at least ${issue.minimum} item after validation, not ${(valueAt(body, path) as unknown[]).length}`)
          : detail('greater_than_equal', path, `Input should be greater than or equal to ${issue.minimum}`),
      ];
    case 'too_big':
      return [detail('less_than_equal', path, `Input should be less than or equal to ${issue.maximum}`)];
    case 'invalid_value':
      return [detail('literal_error', path, `Input should be ${quoteList(issue.values)}`)];
    default:
      return [detail('value_error', path, issue.message)];
  }
}

/** The `x-fake-tool-calls` header: the exact calls the fake model must return. */
const ForcedToolCallsSchema = z
  .array(z.strictObject({ name: z.string().min(1), arguments: z.record(z.string(), z.unknown()) }))
  .min(1);

export type ForcedToolCall = z.infer<typeof ForcedToolCallsSchema>[number];

/** Parses the header value; throws an Error naming the element at fault. */
export function parseForcedToolCalls(header: string): ForcedToolCall[] {
  let json: unknown;
  try {
    json = JSON.parse(header);
  } catch (err) {
    throw new Error(`x-fake-tool-calls is not valid JSON: ${(err as Error).message}`);
  }
  const result = ForcedToolCallsSchema.safeParse(json);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const at = issue.path.length > 0 ? `[${issue.path.map(String).join('][')}]` : '';
    throw new Error(
      `x-fake-tool-calls${at}: ${issue.message} (expected a non-empty JSON array of {"name": string, "arguments": object})`,
    );
  }
  return result.data;
}
