/**
 * The vendors of the `ai/llm` namespace: for each vendor and API version, the variables it accepts (as strictly as
 * KrakenD's schema), their defaults (with the sentinels the default templates test for "unset"), the default
 * templates, how the vendor authenticates and where its answer carries token usage. Pure: no I/O.
 */
import { z } from 'zod';
import type { Usage } from '../../audit/record.js';
import { MISTRAL_V1_INPUT_TEMPLATE, MISTRAL_V1_OUTPUT_TEMPLATE, goInt, nilSlice } from '../../templates/index.js';
import {
  ANTHROPIC_V1_INPUT_TEMPLATE,
  ANTHROPIC_V1_OUTPUT_TEMPLATE,
  GEMINI_V1BETA_INPUT_TEMPLATE,
  GEMINI_V1BETA_OUTPUT_TEMPLATE,
  OPENAI_V1_INPUT_TEMPLATE,
  OPENAI_V1_OUTPUT_TEMPLATE,
} from './vendor-templates.js';

export interface VendorDefinition {
  vendor: string;
  version: string;
  /** Known variables are typed; other keys pass through for custom templates. */
  variables: z.ZodType<Record<string, unknown>>;
  /** Values for unset variables, as Go values (ints are GoInt, -1 sentinels mean "leave out"). */
  defaults(): Record<string, unknown>;
  /** Variables that are Go ints (converted from JSON float64 before templates see them). */
  intVariables: readonly string[];
  inputTemplate: string;
  outputTemplate: string;
  /** Headers that carry the vendor credentials. */
  authHeaders(credentials: string): Record<string, string>;
  /** Token usage from the vendor's answer, for the audit record. */
  usage(body: unknown): Usage | null;
}

const int = () => z.int();
const extraPayload = z.record(z.string(), z.unknown());
const stringList = z.array(z.string());

const numberAt = (value: unknown, ...path: string[]): number | null => {
  let node = value;
  for (const key of path) {
    if (typeof node !== 'object' || node === null) return null;
    node = (node as Record<string, unknown>)[key];
  }
  return typeof node === 'number' && Number.isFinite(node) ? node : null;
};

const bearer = (credentials: string) => ({ authorization: `Bearer ${credentials}` });

const mistralV1: VendorDefinition = {
  vendor: 'mistral',
  version: 'v1',
  variables: z.looseObject({
    model: z.string().min(1),
    max_tokens: int().optional(),
    n: int().optional(),
    random_seed: int().optional(),
    safe_prompt: z.boolean().optional(),
    stop: stringList.optional(),
    temperature: z.number().optional(),
    top_p: z.number().optional(),
    extra_payload: extraPayload.optional(),
  }),
  defaults: () => ({
    max_tokens: goInt(-1),
    n: goInt(1),
    random_seed: goInt(-1),
    safe_prompt: false,
    stop: nilSlice('[]string'),
    temperature: -1,
    top_p: -1,
    extra_payload: {},
  }),
  intVariables: ['max_tokens', 'n', 'random_seed'],
  inputTemplate: MISTRAL_V1_INPUT_TEMPLATE,
  outputTemplate: MISTRAL_V1_OUTPUT_TEMPLATE,
  authHeaders: bearer,
  usage: (body) => ({
    prompt_tokens: numberAt(body, 'usage', 'prompt_tokens'),
    completion_tokens: numberAt(body, 'usage', 'completion_tokens'),
    total_tokens: numberAt(body, 'usage', 'total_tokens'),
  }),
};

const openaiV1: VendorDefinition = {
  vendor: 'openai',
  version: 'v1',
  variables: z.looseObject({
    model: z.string().min(1),
    max_output_tokens: int().optional(),
    temperature: z.number().optional(),
    top_p: z.number().optional(),
    truncation: z.enum(['auto', 'disabled']).optional(),
    extra_payload: extraPayload.optional(),
  }),
  defaults: () => ({ max_output_tokens: goInt(-1), temperature: -1, top_p: -1, truncation: '', extra_payload: {} }),
  intVariables: ['max_output_tokens'],
  inputTemplate: OPENAI_V1_INPUT_TEMPLATE,
  outputTemplate: OPENAI_V1_OUTPUT_TEMPLATE,
  authHeaders: bearer,
  usage: (body) => ({
    prompt_tokens: numberAt(body, 'usage', 'input_tokens'),
    completion_tokens: numberAt(body, 'usage', 'output_tokens'),
    total_tokens: numberAt(body, 'usage', 'total_tokens'),
  }),
};

const anthropicV1: VendorDefinition = {
  vendor: 'anthropic',
  version: 'v1',
  variables: z.looseObject({
    model: z.string().min(1),
    max_tokens: int().optional(),
    stop_sequences: stringList.optional(),
    temperature: z.number().optional(),
    top_k: int().optional(),
    top_p: z.number().optional(),
    extra_payload: extraPayload.optional(),
  }),
  defaults: () => ({
    max_tokens: goInt(1024),
    stop_sequences: nilSlice('[]string'),
    temperature: -1,
    top_k: goInt(-1),
    top_p: -1,
    extra_payload: {},
  }),
  intVariables: ['max_tokens', 'top_k'],
  inputTemplate: ANTHROPIC_V1_INPUT_TEMPLATE,
  outputTemplate: ANTHROPIC_V1_OUTPUT_TEMPLATE,
  authHeaders: (credentials) => ({ 'x-api-key': credentials, 'anthropic-version': '2023-06-01' }),
  usage: (body) => {
    const input = numberAt(body, 'usage', 'input_tokens');
    const output = numberAt(body, 'usage', 'output_tokens');
    return { prompt_tokens: input, completion_tokens: output, total_tokens: input !== null && output !== null ? input + output : null };
  },
};

const geminiV1beta: VendorDefinition = {
  vendor: 'gemini',
  version: 'v1beta',
  variables: z.looseObject({
    candidate_count: int().optional(),
    max_output_tokens: int().optional(),
    stop_sequences: stringList.optional(),
    temperature: z.number().optional(),
    top_k: int().optional(),
    top_p: z.number().optional(),
    extra_payload: extraPayload.optional(),
  }),
  defaults: () => ({
    candidate_count: goInt(-1),
    max_output_tokens: goInt(-1),
    stop_sequences: nilSlice('[]string'),
    temperature: -1,
    top_k: goInt(-1),
    top_p: -1,
    extra_payload: {},
  }),
  intVariables: ['candidate_count', 'max_output_tokens', 'top_k'],
  inputTemplate: GEMINI_V1BETA_INPUT_TEMPLATE,
  outputTemplate: GEMINI_V1BETA_OUTPUT_TEMPLATE,
  authHeaders: (credentials) => ({ 'x-goog-api-key': credentials }),
  usage: (body) => ({
    prompt_tokens: numberAt(body, 'usageMetadata', 'promptTokenCount'),
    completion_tokens: numberAt(body, 'usageMetadata', 'candidatesTokenCount'),
    total_tokens: numberAt(body, 'usageMetadata', 'totalTokenCount'),
  }),
};

/** vendor -> version -> definition. */
export const VENDORS: Readonly<Record<string, Readonly<Record<string, VendorDefinition>>>> = {
  mistral: { v1: mistralV1 },
  openai: { v1: openaiV1 },
  anthropic: { v1: anthropicV1 },
  gemini: { v1beta: geminiV1beta },
};
