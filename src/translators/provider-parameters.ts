/**
 * Provider-parameter compatibility (pure): per provider, the OpenAI request fields it rejects and what the gateway
 * does with each so an unchanged OpenAI client works: `drop` it, `rename` it to the provider's name for the same
 * thing, or `emulate` it (drop it and provide its behaviour itself). Applied to OpenAI-shaped bodies just before they
 * are forwarded; each change is audited (`details.adapted`). Defaults in BUILTIN_PROVIDERS, overridable per provider in
 * the config file (docs/gateway.md, "Provider parameters").
 */
export type ParameterAdaptation = { action: 'drop' } | { action: 'rename'; to: string } | { action: 'emulate' };
export type ParameterTable = Readonly<Record<string, ParameterAdaptation>>;

/**
 * The fields the gateway can emulate. `stream_options` (`include_usage`): providers such as Mistral send the usage
 * in their stream's last chunk whether asked or not, which is where an OpenAI client that asked for it reads it.
 */
export const EMULATABLE: ReadonlySet<string> = new Set(['stream_options']);

/** One change made to a request body, as audited. */
export interface AdaptedField {
  field: string;
  action: ParameterAdaptation['action'];
  to?: string;
}

/** A rename onto a field the client sent too: refused rather than choosing between the two values. */
export class ParameterConflict extends Error {
  constructor(
    readonly field: string,
    readonly to: string,
  ) {
    super(`Give one of '${field}' and '${to}', not both: this provider takes '${to}' and the gateway renames '${field}' to it`);
  }
}

/** Applies `table` to `body` in place; returns what changed (empty: nothing). Throws ParameterConflict. */
export function adaptParameters(body: Record<string, unknown>, table: ParameterTable): AdaptedField[] {
  const adapted: AdaptedField[] = [];
  for (const field in table) {
    if (!(field in body)) continue;
    const adaptation = table[field]!;
    if (adaptation.action === 'rename') {
      if (adaptation.to in body) throw new ParameterConflict(field, adaptation.to);
      body[adaptation.to] = body[field];
      adapted.push({ field, action: 'rename', to: adaptation.to });
    } else adapted.push({ field, action: adaptation.action });
    delete body[field];
  }
  return adapted;
}

/** The config file's spelling of a table entry: "drop", "emulate", {"rename": "..."}, or "keep" (no adaptation). */
export type ParameterSetting = 'drop' | 'emulate' | 'keep' | { rename: string };

/** `base` with `settings` applied over it; problems name the field (`<where>.<field>`). */
export function parameterTable(base: ParameterTable, settings: Readonly<Record<string, ParameterSetting>>, where: string, problems: string[]): ParameterTable {
  const table: Record<string, ParameterAdaptation> = { ...base };
  for (const [field, setting] of Object.entries(settings)) {
    if (setting === 'keep') delete table[field];
    else if (setting === 'drop') table[field] = { action: 'drop' };
    else if (setting === 'emulate') {
      if (EMULATABLE.has(field)) table[field] = { action: 'emulate' };
      else problems.push(`${where}.${field}: the gateway can emulate only ${[...EMULATABLE].join(', ')}; use "drop", "keep" or {"rename": "..."}`);
    } else table[field] = { action: 'rename', to: setting.rename };
  }
  return table;
}
