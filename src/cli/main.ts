/**
 * `npx tollgate <verb>`: manage keys and policies, query the audit log, run the fake upstream, evaluate policies
 * and render templates offline.
 */
import { readFileSync } from 'node:fs';
import { isDeepStrictEqual, parseArgs } from 'node:util';
import { FakeMistralUsageError } from '../fake-mistral/main.js';
import { AdminClient, CliError, readJsonFile } from './admin-client.js';
import { collectAuditRecords } from './audit-pages.js';
import { formatTable } from './format.js';
import { TEMPLATE_USAGE, runTemplateCommand } from './template-command.js';
import { evalJsonLines, testPolicyFile, validPolicies, validatePolicyFile } from './policy-offline.js';

const USAGE = `tollgate <verb> [options]

Gateway administration (talks to a running gateway):
  keys create --name NAME [--attr k=v ...] [--expires-at ISO | --expires-in 30d|12h|15m]
  keys list | keys get ID | keys revoke ID
  policy create FILE | policy list | policy get ID | policy update ID FILE | policy delete ID
  policy apply FILE                      create or update each policy of FILE by name; unchanged ones are left alone
  audit query [--provider P] [--model M] [--key-id K] [--agent-id A] [--route PATH] [--action A]
              [--decision allow|deny] [--status N] [--since T] [--until T] [--limit N] [--cursor C]
  audit tail [the filters of audit query] [--limit N] [--follow] [--interval MS]

  The gateway is --url URL, else CZ_GATEWAY_URL, else http://localhost:$CZ_GATEWAY_PORT (default port 8000).
  The admin token is --token T, else CZ_GATEWAY_ADMIN_TOKEN, else the file admin-token in CZ_GATEWAY_DATA_DIR (./data).

Local tools:
  mock-upstream [--port 8100] [--host H] [--api-key KEY] [--faults SPEC]   run the fake Mistral API
${TEMPLATE_USAGE}
  policy eval --jsonl                    decide each stdin line {"policies","request"} -> one decision line on stdout
  policy validate FILE                   check a policy (or a list of them); prints each problem, exit 2 if invalid
  policy test FILE --request REQ.json    print the decision of FILE's policies on one request

Add --json to print raw JSON; <verb> --help (or <verb> <sub> --help) shows one verb; --version the version.`;

/** A mistake in the command line: one line naming it, then a hint to the verb's --help; exit 2. */
class UsageError extends CliError {
  constructor(
    /** "keys create", "keys", or "" for the command line as a whole. */
    readonly command: string,
    message: string,
  ) {
    super(command ? `${command}: ${message}` : message);
  }
}

/** The usage lines of one verb (or verb + sub-verb): the lines of USAGE that start with it, and their continuations. */
function usageOf(command: string): string {
  const lines = USAGE.split('\n');
  const picked: string[] = [];
  let inside = false;
  for (const line of lines) {
    const body = line.trimStart();
    if (/^\S/.test(body) && line.startsWith('  ') && !line.startsWith('    ')) inside = body === command || body.startsWith(`${command} `) || body.includes(`| ${command} `) || body.includes(`| ${command}\n`);
    else if (!line.startsWith('    ')) inside = false;
    if (inside) picked.push(line);
  }
  const connection = ['keys', 'policy', 'audit'].includes(command.split(' ')[0]!) && !/^policy (eval|validate|test)\b/.test(command);
  const about = connection ? `\n\n${lines.filter((l) => /^  The (gateway|admin token) is/.test(l)).join('\n')}\n  --json prints raw JSON.` : '';
  return `usage: tollgate ${command} ...\n${picked.join('\n')}${about}`;
}

const SUB_VERBS: Record<string, string[]> = {
  keys: ['create', 'list', 'get', 'revoke'],
  policy: ['create', 'list', 'get', 'update', 'delete', 'apply', 'eval', 'validate', 'test'],
  audit: ['query', 'tail'],
  template: ['render'],
};
const VERB_ALIASES: Record<string, string> = { key: 'keys', policies: 'policy' };

/** node:util parseArgs errors, as one line naming the option. */
function parseArgsMistake(err: unknown): string | undefined {
  const { code, message } = err as { code?: unknown; message?: string };
  if (typeof code !== 'string' || !code.startsWith('ERR_PARSE_ARGS_')) return undefined;
  const option = /'(?:-\w, )?(--?[\w-]+)/.exec(message ?? '')?.[1] ?? '';
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') return `unknown option ${option}`;
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') return message?.includes('does not take an argument') ? `${option} takes no value` : `${option} needs a value`;
  return (message ?? code).split('\n')[0];
}

function packageVersion(): string {
  // dist/src/cli/main.js -> the package root three folders up.
  return (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

type Values = Record<string, string | boolean | string[] | undefined>;

function str(values: Values, name: string): string | undefined {
  const v = values[name];
  return typeof v === 'string' ? v : undefined;
}

/** The command being run, for usage errors of its arguments. */
let command = '';

function need<T>(value: T | undefined, what: string): T {
  if (value === undefined || value === '') throw new UsageError(command, `missing ${what}`);
  return value;
}

/** An integer flag within bounds (a usage error naming the flag otherwise). */
function intFlag(values: Values, name: string, min: number, max: number): number | undefined {
  const text = str(values, name);
  if (text === undefined) return undefined;
  const n = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) throw new UsageError(command, `--${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(text)}`);
  return n;
}

function parseDuration(text: string): number {
  const m = /^(\d+)(s|m|h|d)$/.exec(text);
  if (!m) throw new UsageError(command, `--expires-in ${JSON.stringify(text)}: use a number and a unit, e.g. 30d, 12h, 15m, 90s`);
  return Number(m[1]) * { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 's' | 'm' | 'h' | 'd'];
}

function print(values: Values, json: unknown, table: () => string): void {
  process.stdout.write(values.json ? `${JSON.stringify(json, null, 2)}\n` : `${table()}\n`);
}

interface KeyView {
  id: string;
  name: string;
  prefix: string;
  status: string;
  attributes: Record<string, string>;
  expires_at: string | null;
  key?: string;
}

async function keys(sub: string | undefined, args: string[], values: Values): Promise<void> {
  const client = await AdminClient.connect({ url: str(values, 'url'), token: str(values, 'token') });
  const rows = (list: KeyView[]) =>
    formatTable(list, ['id', 'name', 'prefix', 'status', 'expires_at', 'attributes'], (k) => [
      k.id,
      k.name,
      k.prefix,
      k.status,
      k.expires_at ?? '-',
      Object.entries(k.attributes).map(([a, v]) => `${a}=${v}`).join(',') || '-',
    ]);
  switch (sub) {
    case 'create': {
      const attributes: Record<string, string> = {};
      for (const pair of (values.attr as string[] | undefined) ?? []) {
        const eq = pair.indexOf('=');
        if (eq <= 0) throw new UsageError(command, `--attr ${JSON.stringify(pair)}: expected key=value`);
        attributes[pair.slice(0, eq)] = pair.slice(eq + 1);
      }
      const expiresIn = str(values, 'expires-in');
      const expires_at = expiresIn ? new Date(Date.now() + parseDuration(expiresIn)).toISOString() : str(values, 'expires-at');
      const key = await client.request<KeyView>('POST', '/api/v1/keys', { name: need(str(values, 'name'), '--name'), attributes, expires_at });
      print(values, key, () => `${rows([key])}\n\nkey: ${key.key}\n(shown once: store it now; the gateway keeps only its hash)`);
      return;
    }
    case 'list': {
      const { keys: list } = await client.request<{ keys: KeyView[] }>('GET', '/api/v1/keys');
      print(values, list, () => rows(list));
      return;
    }
    case 'get':
    case 'revoke': {
      const id = encodeURIComponent(need(args[0], 'key id'));
      const key = await client.request<KeyView>(sub === 'get' ? 'GET' : 'DELETE', `/api/v1/keys/${id}`);
      print(values, key, () => rows([key]));
      return;
    }
    default:
      throw new Error(`keys ${sub}: no handler`);
  }
}

interface PolicyView {
  id: string;
  name: string;
  rules: unknown[];
  updated_at: string;
}

async function policy(sub: string | undefined, args: string[], values: Values): Promise<void> {
  switch (sub) {
    case 'eval':
      if (!values.jsonl) throw new UsageError(command, 'reads JSON lines from stdin: add --jsonl');
      return evalJsonLines(process.stdin, process.stdout);
    case 'validate':
      return validatePolicyFile(need(args[0], 'policy FILE'), process.stdout);
    case 'test':
      return testPolicyFile(need(args[0], 'policy FILE'), need(str(values, 'request'), '--request REQ.json'), process.stdout);
  }
  const client = await AdminClient.connect({ url: str(values, 'url'), token: str(values, 'token') });
  const rows = (list: PolicyView[]) =>
    formatTable(list, ['id', 'name', 'rules', 'updated_at'], (p) => [p.id, p.name, String(p.rules.length), p.updated_at]);
  switch (sub) {
    case 'create': {
      const created = await client.request<PolicyView>('POST', '/api/v1/policies', await readJsonFile(need(args[0], 'policy FILE')));
      print(values, created, () => rows([created]));
      return;
    }
    case 'update': {
      const id = encodeURIComponent(need(args[0], 'policy id'));
      const updated = await client.request<PolicyView>('PUT', `/api/v1/policies/${id}`, await readJsonFile(need(args[1], 'policy FILE')));
      print(values, updated, () => rows([updated]));
      return;
    }
    case 'list': {
      const { policies } = await client.request<{ policies: PolicyView[] }>('GET', '/api/v1/policies');
      print(values, policies, () => rows(policies));
      return;
    }
    case 'get': {
      const got = await client.request<PolicyView>('GET', `/api/v1/policies/${encodeURIComponent(need(args[0], 'policy id'))}`);
      process.stdout.write(`${JSON.stringify(got, null, 2)}\n`);
      return;
    }
    case 'delete': {
      const res = await client.request<unknown>('DELETE', `/api/v1/policies/${encodeURIComponent(need(args[0], 'policy id'))}`);
      print(values, res, () => `deleted ${args[0]}`);
      return;
    }
    case 'apply':
      return applyPolicies(client, need(args[0], 'policy FILE'), values);
    default:
      throw new Error(`policy ${sub}: no handler`);
  }
}

/** `policy apply FILE`: each policy of FILE by name, created when new, updated when changed, else left alone. */
async function applyPolicies(client: AdminClient, file: string, values: Values): Promise<void> {
  const documents = (await validPolicies(file, process.stderr)) as { name: string }[];
  const names = documents.map((d) => d.name);
  const repeated = names.find((n, i) => names.indexOf(n) !== i);
  if (repeated !== undefined) throw new CliError(`${file}: the policy name ${JSON.stringify(repeated)} appears twice (names are unique)`);
  const { policies } = await client.request<{ policies: PolicyView[] }>('GET', '/api/v1/policies');
  const byName = new Map(policies.map((p) => [p.name, p]));
  const results: { outcome: 'created' | 'updated' | 'unchanged'; name: string; id: string }[] = [];
  for (const document of documents) {
    const existing = byName.get(document.name);
    if (!existing) {
      const created = await client.request<PolicyView>('POST', '/api/v1/policies', document);
      results.push({ outcome: 'created', name: created.name, id: created.id });
      continue;
    }
    // The view is the stored document plus id and times (src/admin/views.ts).
    const { id, created_at: _created, updated_at: _updated, ...stored } = existing as PolicyView & { created_at: string };
    if (isDeepStrictEqual(stored, document)) {
      results.push({ outcome: 'unchanged', name: document.name, id });
      continue;
    }
    await client.request<PolicyView>('PUT', `/api/v1/policies/${encodeURIComponent(id)}`, document);
    results.push({ outcome: 'updated', name: document.name, id });
  }
  print(values, results, () => formatTable(results, ['outcome', 'name', 'id'], (r) => [r.outcome, r.name, r.id]));
}

interface AuditView {
  id: string;
  time: string;
  key_id: string | null;
  provider: string | null;
  method: string;
  route: string;
  model: string | null;
  decision: string;
  reason_code: string;
  status: number;
  latency_ms: number;
  total_tokens: number | null;
}

const auditRows = (list: AuditView[]) =>
  formatTable(list, ['time', 'id', 'key', 'provider', 'model', 'decision', 'reason', 'status', 'ms', 'tokens', 'route'], (r) => [
    r.time,
    r.id,
    r.key_id ?? '-',
    r.provider ?? '-',
    r.model ?? '-',
    r.decision,
    r.reason_code,
    String(r.status),
    String(r.latency_ms),
    r.total_tokens === null ? '-' : String(r.total_tokens),
    `${r.method} ${r.route}`,
  ]);

async function audit(sub: string | undefined, values: Values): Promise<void> {
  intFlag(values, 'limit', 1, 1000);
  const interval = intFlag(values, 'interval', 10, 3_600_000) ?? 1000;
  const client = await AdminClient.connect({ url: str(values, 'url'), token: str(values, 'token') });
  const params = new URLSearchParams();
  for (const [flag, param] of [
    ['provider', 'provider'],
    ['model', 'model'],
    ['key-id', 'key_id'],
    ['agent-id', 'agent_id'],
    ['route', 'route'],
    ['action', 'action'],
    ['decision', 'decision'],
    ['status', 'status'],
    ['since', 'since'],
    ['until', 'until'],
    ['limit', 'limit'],
    ['cursor', 'cursor'],
  ] as const) {
    const v = str(values, flag);
    if (v !== undefined) params.set(param, v);
  }
  type Page = { records: AuditView[]; next_cursor: string };
  if (sub === 'query') {
    const page = await client.request<Page>('GET', `/api/v1/audit?${params}`);
    print(values, page, () => auditRows(page.records) + (page.next_cursor ? `\n\nmore: --cursor ${page.next_cursor}` : ''));
    return;
  }
  if (!params.has('limit')) params.set('limit', '20');
  const want = Number(params.get('limit'));
  const collect = (query: URLSearchParams, stopAt?: string) =>
    collectAuditRecords<AuditView>(
      (cursor) => {
        const pageQuery = new URLSearchParams(query);
        if (cursor) pageQuery.set('cursor', cursor);
        return client.request<Page>('GET', `/api/v1/audit?${pageQuery}`);
      },
      want,
      stopAt,
    );
  const first = await collect(params);
  const oldestFirst = (list: AuditView[]) => [...list].reverse();
  const emit = (list: AuditView[]) => {
    if (list.length === 0) return;
    if (values.json) for (const r of list) process.stdout.write(`${JSON.stringify(r)}\n`);
    else process.stdout.write(`${auditRows(list)}\n`);
  };
  emit(oldestFirst(first));
  if (!values.follow) return;
  let newest = first[0];
  for (;;) {
    await new Promise((r) => setTimeout(r, interval));
    const since = new URLSearchParams(params);
    if (newest) since.set('since', newest.time);
    since.set('limit', '1000');
    const fresh = newest ? await collect(since, newest.id) : await collect(since);
    emit(oldestFirst(fresh));
    newest = fresh[0] ?? newest;
  }
}

async function mockUpstream(values: Values): Promise<void> {
  const { runFakeMistralCli } = await import('../fake-mistral/main.js');
  try {
    await runFakeMistralCli({ port: str(values, 'port'), host: str(values, 'host'), apiKey: str(values, 'api-key'), faults: str(values, 'faults') });
  } catch (err) {
    if (err instanceof FakeMistralUsageError) throw new UsageError(command, err.message);
    throw err;
  }
}

const OPTIONS = {
  json: { type: 'boolean' },
  url: { type: 'string' },
  token: { type: 'string' },
  name: { type: 'string' },
  attr: { type: 'string', multiple: true },
  'expires-at': { type: 'string' },
  'expires-in': { type: 'string' },
  provider: { type: 'string' },
  model: { type: 'string' },
  'key-id': { type: 'string' },
  'agent-id': { type: 'string' },
  route: { type: 'string' },
  action: { type: 'string' },
  decision: { type: 'string' },
  status: { type: 'string' },
  since: { type: 'string' },
  until: { type: 'string' },
  limit: { type: 'string' },
  cursor: { type: 'string' },
  follow: { type: 'boolean', short: 'f' },
  interval: { type: 'string' },
  port: { type: 'string' },
  host: { type: 'string' },
  'api-key': { type: 'string' },
  faults: { type: 'string' },
  jsonl: { type: 'boolean' },
  request: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export async function runCli(argv: string[]): Promise<void> {
  const [first, second] = argv;
  if (first === '--version') {
    process.stdout.write(`tollgate ${packageVersion()}\n`);
    return;
  }
  if (first === undefined || first === '--help' || first === '-h' || first === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  if (first.startsWith('-')) throw new UsageError('', `unknown option ${first} before the verb (tollgate <verb> [options])`);
  const verb = VERB_ALIASES[first] ?? first;
  const subs = SUB_VERBS[verb];
  if (!subs && verb !== 'mock-upstream') throw new UsageError('', `unknown verb ${JSON.stringify(first)} (verbs: ${[...Object.keys(SUB_VERBS), 'mock-upstream'].join(', ')})`);
  const wantsHelp = (args: string[]) => args.some((a) => a === '--help' || a === '-h');
  if (subs) {
    if (second === undefined || second.startsWith('-')) {
      if (second !== undefined && wantsHelp([second])) {
        process.stdout.write(`${usageOf(verb)}\n`);
        return;
      }
      process.stderr.write(`${usageOf(verb)}\n`);
      throw new UsageError(verb, `needs a sub-verb: ${subs.join(', ')}`);
    }
    if (!subs.includes(second)) throw new UsageError(verb, `unknown sub-verb ${JSON.stringify(second)} (one of ${subs.join(', ')})`);
  }
  command = subs ? `${verb} ${second}` : verb;
  const rest = argv.slice(subs ? 2 : 1);
  if (wantsHelp(rest.slice(0, rest.includes('--') ? rest.indexOf('--') : rest.length))) {
    process.stdout.write(`${usageOf(command)}\n`);
    return;
  }
  // `template` has its own options (--jsonl, --data), parsed by its module.
  const asUsageError = (err: unknown): never => {
    const mistake = parseArgsMistake(err);
    throw mistake === undefined ? err : new UsageError(command, mistake);
  };
  if (verb === 'template') return runTemplateCommand(argv.slice(1)).catch(asUsageError);
  let parsed;
  try {
    parsed = parseArgs({ args: rest, allowPositionals: true, options: OPTIONS });
  } catch (err) {
    parsed = asUsageError(err);
  }
  const { values, positionals } = parsed;
  switch (verb) {
    case 'keys':
      return keys(second, positionals, values);
    case 'policy':
      return policy(second, positionals, values);
    case 'audit':
      return audit(second, values);
    default:
      return mockUpstream(values);
  }
}

runCli(process.argv.slice(2)).catch((err: Error) => {
  if (err instanceof UsageError) {
    process.stderr.write(`tollgate: ${err.message}\nrun \`tollgate ${err.command ? `${err.command} ` : ''}--help\`\n`);
    process.exitCode = 2;
    return;
  }
  process.stderr.write(`tollgate: ${err instanceof CliError ? err.message : (err.stack ?? err.message)}\n`);
  process.exitCode = err instanceof CliError ? 2 : 1;
});
