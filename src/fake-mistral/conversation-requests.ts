/**
 * Request bodies of Mistral's Conversations API (beta), mirroring the SDK's request models like requests.ts does for
 * chat: `POST /v1/conversations` (start), `POST /v1/conversations/{id}` (append) and
 * `POST /v1/conversations/{id}/restart`. Unknown fields are rejected (`extra_forbidden`). Pure: no I/O.
 */
import * as z from 'zod';
import { Content, ResponseFormat, Tool } from './requests.js';

const optionalString = z.string().nullable().optional();

/** What every entry may carry; the server fills in what is missing (id, times). */
const EntryFields = {
  object: z.literal('entry').optional(),
  id: z.string().optional(),
  created_at: z.string().optional(),
  completed_at: optionalString,
};

/** Entries the model or an agent produced also name them. */
const ProducerFields = { agent_id: optionalString, model: optionalString };

const MessageInputEntry = z.strictObject({
  ...EntryFields,
  type: z.literal('message.input'),
  role: z.enum(['user', 'assistant']),
  content: Content,
  prefix: z.boolean().optional(),
});

const MessageOutputEntry = z.strictObject({
  ...EntryFields,
  ...ProducerFields,
  type: z.literal('message.output'),
  role: z.literal('assistant').optional(),
  content: Content,
});

const FunctionCallEntry = z.strictObject({
  ...EntryFields,
  ...ProducerFields,
  type: z.literal('function.call'),
  tool_call_id: z.string(),
  name: z.string(),
  arguments: z.union([z.string(), z.record(z.string(), z.unknown())]),
  confirmation_status: optionalString,
});

const FunctionResultEntry = z.strictObject({
  ...EntryFields,
  type: z.literal('function.result'),
  tool_call_id: z.string(),
  result: z.string(),
});

const ToolExecutionEntry = z.strictObject({
  ...EntryFields,
  ...ProducerFields,
  type: z.literal('tool.execution'),
  name: z.string(),
  arguments: z.string(),
  info: z.record(z.string(), z.unknown()).optional(),
});

const AgentHandoffEntry = z.strictObject({
  ...EntryFields,
  type: z.literal('agent.handoff'),
  previous_agent_id: z.string(),
  previous_agent_name: z.string(),
  next_agent_id: z.string(),
  next_agent_name: z.string(),
});

/**
 * The entry type of an entry sent without one, read from its fields as the API's union does: a tool call id with a
 * result is a function result, with a name a function call; anything else is a message input.
 */
function withEntryType(value: unknown): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value) || 'type' in value) return value;
  const entry = value as Record<string, unknown>;
  const type = entry.tool_call_id === undefined ? 'message.input' : 'result' in entry ? 'function.result' : 'function.call';
  return { ...entry, type };
}

const InputEntry = z.preprocess(
  withEntryType,
  z.discriminatedUnion('type', [MessageInputEntry, MessageOutputEntry, FunctionCallEntry, FunctionResultEntry, ToolExecutionEntry, AgentHandoffEntry]),
);

/** `inputs`: a user message as a string, or entries. */
const ConversationInputs = z.union([z.string(), z.array(InputEntry).min(1)]);

/** The SDK's CompletionArgs: chat's generation fields, with `tool_choice` a mode only. */
export const CompletionArgsSchema = z.strictObject({
  stop: z.union([z.string(), z.array(z.string())]).nullable().optional(),
  presence_penalty: z.number().nullable().optional(),
  frequency_penalty: z.number().nullable().optional(),
  temperature: z.number().nullable().optional(),
  top_p: z.number().nullable().optional(),
  max_tokens: z.int().min(0).nullable().optional(),
  random_seed: z.int().nullable().optional(),
  prediction: z.looseObject({}).nullable().optional(),
  response_format: ResponseFormat.nullable().optional(),
  tool_choice: z.enum(['auto', 'none', 'any', 'required']).optional(),
  reasoning_effort: optionalString,
});

const HandoffExecution = z.enum(['client', 'server']).nullable().optional();
const Metadata = z.record(z.string(), z.unknown()).nullable().optional();
const Guardrails = z.array(z.unknown()).nullable().optional();
const AgentVersion = z.union([z.string(), z.int()]).nullable().optional();

export const ConversationStartSchema = z.strictObject({
  inputs: ConversationInputs,
  stream: z.boolean().optional(),
  store: z.boolean().nullable().optional(),
  handoff_execution: HandoffExecution,
  instructions: optionalString,
  tools: z.array(Tool).nullable().optional(),
  completion_args: CompletionArgsSchema.nullable().optional(),
  guardrails: Guardrails,
  name: optionalString,
  description: optionalString,
  metadata: Metadata,
  agent_id: optionalString,
  agent_version: AgentVersion,
  model: optionalString,
});

export const ConversationAppendSchema = z.strictObject({
  inputs: ConversationInputs.optional(),
  stream: z.boolean().optional(),
  store: z.boolean().optional(),
  handoff_execution: HandoffExecution,
  completion_args: CompletionArgsSchema.optional(),
  tool_confirmations: z.array(z.strictObject({ tool_call_id: z.string(), confirmation: z.enum(['allow', 'deny']) })).nullable().optional(),
});

export const ConversationRestartSchema = z.strictObject({
  inputs: ConversationInputs.optional(),
  stream: z.boolean().optional(),
  store: z.boolean().optional(),
  handoff_execution: HandoffExecution,
  completion_args: CompletionArgsSchema.optional(),
  guardrails: Guardrails,
  metadata: Metadata,
  from_entry_id: z.string(),
  agent_version: AgentVersion,
});

export type InputEntry = z.infer<typeof InputEntry>;
export type ConversationInputs = z.infer<typeof ConversationInputs>;
export type CompletionArgs = z.infer<typeof CompletionArgsSchema>;
export type ConversationStartRequest = z.infer<typeof ConversationStartSchema>;
export type ConversationAppendRequest = z.infer<typeof ConversationAppendSchema>;
export type ConversationRestartRequest = z.infer<typeof ConversationRestartSchema>;
