/**
 * `tollgate template render`: renders Go templates offline with the gateway's engine.
 *   template render --jsonl                        one JSON request per stdin line -> one JSON result per stdout line
 *   template render TEMPLATE_FILE [--data FILE]    renders one template with the JSON data file (default: {})
 */
import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import { LLM_INT_VARIABLES, TemplateExecError, TemplateParseError, convertIntPaths, fromGoJson, parseTemplate, renderJsonLine } from '../templates/index.js';
import { CliError } from './admin-client.js';

export const TEMPLATE_USAGE = `  template render --jsonl                      render {"template","data","name"?,"env"?} lines from stdin
  template render FILE [--data DATA.json]      render one Go template (variables.max_tokens/n/random_seed are ints)`;

export interface TemplateIo {
  stdin: Readable;
  stdout: Writable;
  env: NodeJS.ProcessEnv;
}

const defaultIo = (): TemplateIo => ({ stdin: process.stdin, stdout: process.stdout, env: process.env });

export async function runTemplateCommand(args: string[], io: TemplateIo = defaultIo()): Promise<void> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { jsonl: { type: 'boolean' }, data: { type: 'string' } },
  });
  const [sub, file, ...extra] = positionals;
  if (sub !== 'render') throw new CliError(`usage:\n${TEMPLATE_USAGE}`);
  if (values.jsonl) {
    if (file !== undefined || values.data !== undefined) throw new CliError('template render --jsonl takes no file and no --data: each line carries both');
    await renderLines(io);
    return;
  }
  if (file === undefined || extra.length > 0) throw new CliError(`usage:\n${TEMPLATE_USAGE}`);
  const data = values.data === undefined ? {} : convertIntPaths(parseJson(values.data, await readText(values.data)), LLM_INT_VARIABLES);
  const env = Object.fromEntries(Object.entries(io.env).filter((e): e is [string, string] => e[1] !== undefined));
  try {
    io.stdout.write(parseTemplate(file, await readText(file), { env }).execute(data));
  } catch (err) {
    if (err instanceof TemplateParseError || err instanceof TemplateExecError) throw new CliError(err.message);
    throw err;
  }
}

async function renderLines(io: TemplateIo): Promise<void> {
  for await (const line of createInterface({ input: io.stdin, crlfDelay: Infinity })) {
    if (line.trim() === '') continue;
    if (!io.stdout.write(`${renderJsonLine(line)}\n`)) await new Promise((resolve) => io.stdout.once('drain', resolve));
  }
}

async function readText(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    throw new CliError(`cannot read ${file}: ${(err as Error).message}`);
  }
}

function parseJson(file: string, text: string): unknown {
  try {
    return fromGoJson(text);
  } catch (err) {
    throw new CliError(`${file} is not valid JSON: ${(err as Error).message}`);
  }
}
