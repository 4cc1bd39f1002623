// Converting selected JSON numbers to Go ints, as the gateway does for config variables
// (encoding/json yields float64; KrakenD's config structs hold ints).

import { goInt, isGoMap } from './values.js';

/** The ai/llm variables that KrakenD declares as integers. */
export const LLM_INT_VARIABLES: readonly string[] = ['variables.max_tokens', 'variables.n', 'variables.random_seed'];

/**
 * Replaces the float64 at each dotted path (map keys, or decimal indexes into lists) by a Go int,
 * truncating like Go's int(f). Missing paths and non-numbers are left alone. Mutates and returns `data`.
 */
export function convertIntPaths(data: unknown, paths: readonly string[]): unknown {
  for (const path of paths) convertAt(data, path.split('.'));
  return data;
}

function convertAt(node: unknown, path: string[]): void {
  const [head, ...rest] = path;
  if (head === undefined) return;
  let container: Record<string, unknown> | unknown[];
  let key: string | number;
  if (Array.isArray(node) && /^\d+$/.test(head) && Number(head) < node.length) {
    container = node;
    key = Number(head);
  } else if (isGoMap(node) && Object.prototype.hasOwnProperty.call(node, head)) {
    container = node;
    key = head;
  } else {
    return;
  }
  const child = (container as Record<string | number, unknown>)[key];
  if (rest.length > 0) convertAt(child, rest);
  else if (typeof child === 'number' && Number.isFinite(child)) (container as Record<string | number, unknown>)[key] = goInt(child);
}
