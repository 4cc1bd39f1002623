// Parsing a template once and executing it per request.

import { TemplateExecError } from './errors.js';
import { Executor } from './exec.js';
import { functionLookup } from './funcs/registry.js';
import { parseTemplates } from './parser.js';

export interface ParseOptions {
  /** Backs Sprig's env/expandenv (templates never read process.env). */
  env?: Record<string, string>;
}

export interface CompiledTemplate {
  readonly name: string;
  /** Renders the template; throws TemplateExecError. `data` follows the Go value model (see values.ts). */
  execute(data: unknown): string;
}

/** Parses `text` as a Go text/template with the Sprig functions; throws TemplateParseError. */
export function parseTemplate(name: string, text: string, options: ParseOptions = {}): CompiledTemplate {
  const funcs = functionLookup({ ...(options.env ?? {}) });
  const trees = parseTemplates(name, text, (fn) => funcs(fn) !== undefined);
  return {
    name,
    execute(data: unknown): string {
      try {
        return new Executor(trees, funcs, name).run(data);
      } catch (err) {
        // Deep recursion through {{template}} can exhaust the JS stack before Go's depth limit.
        if (err instanceof RangeError) throw new TemplateExecError(name, `template: ${name}: ${err.message}`);
        throw err;
      }
    },
  };
}
