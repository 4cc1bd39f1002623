/**
 * Deterministic fake embeddings (pure): each input seeds a small PRNG (FNV-1a hash -> mulberry32); the vector is
 * normalised to unit length, like Mistral's, so equal texts get equal vectors and cosine similarity is well defined.
 */
import type { Usage } from './completion.js';
import { estimateTokens } from './tokens.js';
import { mulberry32 } from './random.js';

function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

export function embeddingVector(text: string, dimensions: number): number[] {
  const next = mulberry32(fnv1a(text));
  const raw = Array.from({ length: dimensions }, () => next() * 2 - 1);
  const norm = Math.sqrt(raw.reduce((sum, x) => sum + x * x, 0)) || 1;
  // 7 decimals keep the JSON compact while staying unit-length to ~1e-6.
  return raw.map((x) => Math.round((x / norm) * 1e7) / 1e7);
}

/** `encoding_format: "base64"`: the vector's float32 values, little-endian, base64-encoded (as OpenAI's clients decode it). */
export function base64Embedding(vector: readonly number[]): string {
  const bytes = Buffer.alloc(vector.length * 4);
  vector.forEach((x, i) => bytes.writeFloatLE(x, i * 4));
  return bytes.toString('base64');
}

export interface EmbeddingResult {
  data: Array<{ object: 'embedding'; embedding: number[] | string; index: number }>;
  usage: Usage;
}

export function generateEmbeddings(inputs: readonly string[], dimensions: number, encoding: 'float' | 'base64' = 'float'): EmbeddingResult {
  const promptTokens = inputs.reduce((sum, text) => sum + estimateTokens(text), 0);
  const encode = encoding === 'base64' ? base64Embedding : (v: number[]) => v;
  return {
    data: inputs.map((text, index) => ({ object: 'embedding', embedding: encode(embeddingVector(text, dimensions)), index })),
    usage: { prompt_tokens: promptTokens, completion_tokens: 0, total_tokens: promptTokens },
  };
}
