/**
 * The policy verbs that need no gateway: `policy eval --jsonl`, `policy validate FILE`, `policy test FILE --request
 * REQ.json`. A policy FILE holds one policy document or an array of them.
 */
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { evaluateJsonLine, validatePolicy, type ValidationError } from '../policy/index.js';
import { CliError, readJsonFile } from './admin-client.js';

/** Every problem of every document; paths are prefixed with the document's position when the file holds a list. */
function problemsOf(content: unknown): { documents: unknown[]; problems: ValidationError[] } {
  const documents = Array.isArray(content) ? content : [content];
  const problems = documents.flatMap((doc, i) => {
    const result = validatePolicy(doc);
    if (result.ok) return [];
    return Array.isArray(content) ? result.errors.map((e) => ({ path: e.path.replace(/^\$/, `$[${i}]`), message: e.message })) : result.errors;
  });
  return { documents, problems };
}

export async function validPolicies(file: string, out: NodeJS.WritableStream): Promise<unknown[]> {
  const { documents, problems } = problemsOf(await readJsonFile(file));
  if (problems.length === 0) return documents;
  for (const p of problems) out.write(`${p.path}: ${p.message}\n`);
  throw new CliError(`${file}: invalid policy (${problems.length} problem${problems.length === 1 ? '' : 's'})`);
}

/** `policy validate FILE`: prints each problem as `<path>: <message>`; exit 2 (CliError) when there is any. */
export async function validatePolicyFile(file: string, out: NodeJS.WritableStream): Promise<void> {
  const documents = await validPolicies(file, out);
  out.write(`${file}: valid (${documents.length} polic${documents.length === 1 ? 'y' : 'ies'})\n`);
}

/** `policy test FILE --request REQ.json`: the decision of the policies in FILE on the request, as a JSON object. */
export async function testPolicyFile(file: string, requestFile: string, out: NodeJS.WritableStream): Promise<void> {
  const policies = await validPolicies(file, out);
  const answer = JSON.parse(evaluateJsonLine(JSON.stringify({ policies, request: await readJsonFile(requestFile) }))) as Record<string, unknown>;
  if (typeof answer.error === 'string') throw new CliError(`${requestFile}: ${answer.error.replace('invalid input line: ', '')}`);
  out.write(`${JSON.stringify(answer, null, 2)}\n`);
}

/** `policy eval --jsonl`: one output line per non-blank input line, in order, written as each line is read. */
export async function evalJsonLines(input: NodeJS.ReadableStream, out: NodeJS.WritableStream): Promise<void> {
  const lines = createInterface({ input, crlfDelay: Infinity });
  for await (const line of lines) {
    if (line.trim() === '') continue;
    if (!out.write(`${evaluateJsonLine(line)}\n`)) await once(out, 'drain');
  }
}
