/**
 * Synthesises a value that satisfies a JSON schema well enough for a fake model: `const`/`enum`/`default` when given,
 * otherwise a placeholder by type; objects get their required properties only. Used for tool-call arguments and
 * `json_schema` response formats. Pure.
 */
type Schema = Record<string, unknown>;

const isSchema = (v: unknown): v is Schema => v !== null && typeof v === 'object' && !Array.isArray(v);

function typeOf(schema: Schema): string | undefined {
  const t = schema.type;
  if (typeof t === 'string') return t;
  if (Array.isArray(t)) return t.find((x): x is string => typeof x === 'string' && x !== 'null') ?? 'null';
  if (isSchema(schema.properties)) return 'object';
  if (isSchema(schema.items)) return 'array';
  return undefined;
}

const MAX_DEPTH = 8;

/** A placeholder value for `schema`; `name` is the property it is for (used in string placeholders). */
export function sampleValue(schema: unknown, name = 'value', depth = 0): unknown {
  if (!isSchema(schema) || depth > MAX_DEPTH) return `${name}_value`;
  if ('const' in schema) return schema.const;
  if (Array.isArray(schema.enum) && schema.enum.length > 0) return schema.enum[0];
  if ('default' in schema) return schema.default;
  const variants = schema.anyOf ?? schema.oneOf;
  if (Array.isArray(variants) && variants.length > 0) return sampleValue(variants[0], name, depth + 1);
  switch (typeOf(schema)) {
    case 'object':
      return sampleObject(schema, depth);
    case 'array': {
      const min = typeof schema.minItems === 'number' ? schema.minItems : 0;
      return Array.from({ length: min }, () => sampleValue(schema.items, name, depth + 1));
    }
    case 'integer':
    case 'number':
      return typeof schema.minimum === 'number' ? schema.minimum : 1;
    case 'boolean':
      return true;
    case 'null':
      return null;
    default:
      return `${name}_value`;
  }
}

/** An object with a placeholder for each required property of `schema`. */
export function sampleObject(schema: unknown, depth = 0): Record<string, unknown> {
  if (!isSchema(schema)) return {};
  const properties = isSchema(schema.properties) ? schema.properties : {};
  const required = Array.isArray(schema.required) ? schema.required.filter((k): k is string => typeof k === 'string') : [];
  return Object.fromEntries(required.map((key) => [key, sampleValue(properties[key], key, depth + 1)]));
}
