/** JSON paths for error messages, e.g. `$.endpoints[0].backend[0].extra_config["ai/llm"].mistral.v1`. */
export function jsonPath(segments: ReadonlyArray<PropertyKey>): string {
  let out = '$';
  for (const s of segments) {
    if (typeof s === 'number') out += `[${s}]`;
    else if (typeof s === 'string' && /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(s)) out += `.${s}`;
    else out += `[${JSON.stringify(String(s))}]`;
  }
  return out;
}
