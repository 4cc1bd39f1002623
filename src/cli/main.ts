/**
 * `npx tollgate <verb>`: manage keys and policies, query the audit log, run the fake upstream, evaluate policies
 * and render templates offline.
 */
import { parseArgs } from 'node:util';
import { AdminClient, CliError, readJsonFile } from './admin-client.js';
import { collectAuditRecords } from './audit-pages.js';
import { formatTable } from './format.js';
import { TEMPLATE_USAGE, runTemplateCommand } from './template-command.js';
import { evalJsonLines, testPolicyFile, validatePolicyFile } from './policy-offline.js';

const USAGE = `tollgate <verb> [options]

Gateway administration (talks to a running gateway; --url, --token or CZ_GATEWAY_URL, CZ_GATEWAY_ADMIN_TOKEN):
  keys create --name NAME [--attr k=v ...] [--expires-at ISO | --expires-in 30d|12h|15m]
  keys list | keys get ID | keys revoke ID
  policy create FILE | policy list | policy get ID | policy update ID FILE | policy delete ID
  audit query [--provider P] [--model M] [--key-id K] [--action A] [--decision allow|deny] [--status N]
              [--since T] [--until T] [--limit N] [--cursor C]
  audit tail [--limit N] [--follow] [--interval MS]

Local tools:
  mock-upstream [--port 8100] [--api-key KEY] [--faults SPEC]   run the fake Mistral API
${TEMPLATE_USAGE}
  policy eval --jsonl                    decide each stdin line {"policies","request"} -> one decision line on stdout
  policy validate FILE                   check a policy (or a list of them); prints each problem, exit 2 if invalid
  policy test FILE --request REQ.json    print the decision of FILE's policies on one request

Add --json to print raw JSON.`;

type Values = Record<string, string | boolean | string[] | undefined>;

function str(values: Values, name: string): string | undefined {
  const v = values[name];
  return typeof v === 'string' ? v : undefined;
}

function need<T>(value: T | undefined, what: string): T {
  if (value === undefined || value === '') throw new CliError(`missing ${what}\n\n${USAGE}`);
  return value;
}

function parseDuration(text: string): number {
  const m = /^(\d+)(s|m|h|d)$/.exec(text);
  if (!m) throw new CliError(`--expires-in ${JSON.stringify(text)}: use a number and a unit, e.g. 30d, 12h, 15m, 90s`);
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
        if (eq <= 0) throw new CliError(`--attr ${JSON.stringify(pair)}: expected key=value`);
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
      throw new CliError(`unknown verb: keys ${sub ?? ''}\n\n${USAGE}`);
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
      if (!values.jsonl) throw new CliError(`policy eval reads JSON lines: add --jsonl\n\n${USAGE}`);
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
    default:
      throw new CliError(`unknown verb: policy ${sub ?? ''}\n\n${USAGE}`);
  }
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
  const client = await AdminClient.connect({ url: str(values, 'url'), token: str(values, 'token') });
  const params = new URLSearchParams();
  for (const [flag, param] of [
    ['provider', 'provider'],
    ['model', 'model'],
    ['key-id', 'key_id'],
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
  if (sub !== 'tail') throw new CliError(`unknown verb: audit ${sub ?? ''}\n\n${USAGE}`);
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
  const interval = Number(str(values, 'interval') ?? 1000);
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
  await runFakeMistralCli({ port: str(values, 'port'), apiKey: str(values, 'api-key'), faults: str(values, 'faults') });
}

export async function runCli(argv: string[]): Promise<void> {
  // `template` has its own options (--jsonl, --data), parsed by its module.
  if (argv[0] === 'template') return runTemplateCommand(argv.slice(1));
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
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
      'api-key': { type: 'string' },
      faults: { type: 'string' },
      jsonl: { type: 'boolean' },
      request: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [verb, sub, ...rest] = positionals;
  if (values.help || !verb) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  switch (verb) {
    case 'keys':
    case 'key':
      return keys(sub, rest, values);
    case 'policy':
    case 'policies':
      return policy(sub, rest, values);
    case 'audit':
      return audit(sub, values);
    case 'mock-upstream':
      return mockUpstream(values);
    default:
      throw new CliError(`unknown verb: ${verb}\n\n${USAGE}`);
  }
}

runCli(process.argv.slice(2)).catch((err: Error) => {
  process.stderr.write(`tollgate: ${err instanceof CliError ? err.message : (err.stack ?? err.message)}\n`);
  process.exitCode = err instanceof CliError ? 2 : 1;
});
