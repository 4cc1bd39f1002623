// The pure core of `tollgate template render --jsonl`: one JSON line in, one JSON line out.

import { z } from 'zod';
import { TemplateExecError, TemplateParseError } from './errors.js';
import { parseTemplate } from './template.js';
import { LLM_INT_VARIABLES, convertIntPaths } from './int-paths.js';
import { fromGoJson } from './json.js';

const renderRequest = z.object({
  template: z.string(),
  data: z.unknown().optional(),
  name: z.string().min(1).optional(),
  env: z.record(z.string(), z.string()).optional(),
});

function errorLine(message: string): string {
  return JSON.stringify({ error: message });
}

/**
 * Renders `{"template": "...", "data": {...}, "name"?: "...", "env"?: {...}}` and returns
 * `{"out": "..."}` or `{"error": "..."}`. Numbers in data are float64 except
 * variables.max_tokens, variables.n and variables.random_seed, which are Go ints.
 */
export function renderJsonLine(line: string): string {
  let input: unknown;
  try {
    input = fromGoJson(line);
  } catch (err) {
    return errorLine(`invalid JSON input line: ${err instanceof Error ? err.message : String(err)}`);
  }
  const parsed = renderRequest.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const where = issue.path.length ? issue.path.join('.') : '(line)';
    return errorLine(`invalid input line: ${where}: ${issue.message}`);
  }
  const { template, data, name, env } = parsed.data;
  try {
    const compiled = parseTemplate(name ?? 'template', template, { env: env ?? {} });
    return JSON.stringify({ out: compiled.execute(convertIntPaths(data, LLM_INT_VARIABLES)) });
  } catch (err) {
    if (err instanceof TemplateParseError || err instanceof TemplateExecError) return errorLine(err.message);
    throw err;
  }
}
