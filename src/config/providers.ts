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
}

export const BUILTIN_PROVIDERS: Readonly<Record<string, BuiltinProvider>> = {
  mistral: { baseUrl: 'https://api.mistral.ai', pathRewrites: { '/completions': '/fim/completions' }, wire: 'openai' },
  openai: { baseUrl: 'https://api.openai.com', pathRewrites: {}, wire: 'openai' },
  deepseek: { baseUrl: 'https://api.deepseek.com', pathRewrites: {}, wire: 'openai' },
  anthropic: { baseUrl: 'https://api.anthropic.com', pathRewrites: {}, wire: 'anthropic' },
};
