/** Collects validation problems, each with the JSON path of the value at fault (e.g. `$.rules[1].effect`). */
import type { ValidationError } from './types.js';

export class Problems {
  readonly list: ValidationError[] = [];

  add(path: string, message: string): void {
    this.list.push({ path, message });
  }

  get count(): number {
    return this.list.length;
  }
}

/** `$.a`, `$.a[0]`, `$.conditions["key.team"]` */
export function childPath(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/** Rejects keys outside `allowed`, naming the allowed ones. */
export function checkKnownKeys(obj: Record<string, unknown>, allowed: readonly string[], path: string, problems: Problems): void {
  for (const key of Object.keys(obj)) {
    if (!allowed.includes(key)) problems.add(childPath(path, key), `unknown field; allowed fields: ${allowed.join(', ')}`);
  }
}
