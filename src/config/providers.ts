import type { ErrorShape } from '../http/errors.js';
import type { ParameterTable } from '../translators/provider-parameters.js';

/**
 * Built-in OpenAI-compatible providers. Any other provider is declared by env (`CZ_GATEWAY_<NAME>_BASE_URL`) or in
 * the config file's `providers` block.
 */
export interface ProviderConfig {
  /** Route prefix and the `provider` of audit records and policy resources, e.g. "mistral". */
  name: string;
  /** Upstream origin without `/v1`, e.g. "https://api.mistral.ai". */
  baseUrl: string;
  apiKey: string;
  /** Client path (after `/v1`) -> upstream path (after `/v1`) rewrites, e.g. Mistral serves completions as FIM. */
  pathRewrites: Record<string, string>;
  /** Time to wait for upstream response headers, and the longest silence allowed inside a response body. */
  timeoutMs: number;
  /**
   * Most connections open to the provider at once (requests beyond wait for one), or null: no cap, one connection
   * per request in flight, as many as the clients make (CZ_GATEWAY_<P>_MAX_CONNECTIONS).
   */
  maxConnections: number | null;
  /** How the provider is spoken to: its authentication headers and error format. */
  wire: ProviderWire;
  /** The shape of the errors the gateway itself answers on this provider's routes (its clients parse it). */
  errorShape: ErrorShape;
  /** OpenAI request fields the provider rejects, and what the gateway does with them (src/translators/provider-parameters.ts). */
  parameters: ParameterTable;
}

/**
 * `openai`: OpenAI-compatible (`Authorization: Bearer`, OpenAI error bodies). `anthropic`: Anthropic's API
 * (`x-api-key` + `anthropic-version` upstream, clients may send their gateway key in `x-api-key`, Anthropic errors).
 */
export type ProviderWire = 'openai' | 'anthropic';

export interface BuiltinProvider {
  baseUrl: string;
  pathRewrites: Record<string, string>;
  wire: ProviderWire;
  errorShape: ErrorShape;
  parameters: ParameterTable;
}

/**
 * OpenAI chat fields absent from Mistral's published chat API (the request schema of its API reference and of its
 * official SDK, which rejects unknown fields with 422 `extra_forbidden`) that have a Mistral equivalent or none needed:
 * `stream_options` (usage comes in Mistral's last chunk anyway), `max_completion_tokens` (OpenAI's newer name for
 * `max_tokens`), `seed` (`random_seed`), `user` (an end-user id for OpenAI's abuse monitoring; Mistral has none).
 * Fields whose loss would change the answer (`logprobs`, `logit_bias`, ...) are left for Mistral to refuse.
 */
const MISTRAL_PARAMETERS: ParameterTable = {
  stream_options: { action: 'emulate' },
  max_completion_tokens: { action: 'rename', to: 'max_tokens' },
  seed: { action: 'rename', to: 'random_seed' },
  user: { action: 'drop' },
};

export const BUILTIN_PROVIDERS: Readonly<Record<string, BuiltinProvider>> = {
  mistral: { baseUrl: 'https://api.mistral.ai', pathRewrites: { '/completions': '/fim/completions' }, wire: 'openai', errorShape: 'mistral', parameters: MISTRAL_PARAMETERS },
  openai: { baseUrl: 'https://api.openai.com', pathRewrites: {}, wire: 'openai', errorShape: 'openai', parameters: {} },
  deepseek: { baseUrl: 'https://api.deepseek.com', pathRewrites: {}, wire: 'openai', errorShape: 'openai', parameters: {} },
  anthropic: { baseUrl: 'https://api.anthropic.com', pathRewrites: {}, wire: 'anthropic', errorShape: 'anthropic', parameters: {} },
};
