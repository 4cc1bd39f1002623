/** What every benchmark sets up the same way: the request, the policy set, a gateway with a key. */
import { startProcess, type Running } from './processes.js';

export const UPSTREAM_KEY = 'sk-bench-upstream';
export const ADMIN_TOKEN = 'bench-admin-token-0123456789';

/** Ten rules, as a platform team might write them; the benchmark request is allowed by them. */
export const POLICIES = [
  {
    name: 'mistral-usage-policy',
    rules: [
      { effect: 'allow', action: 'llm:chat.completions', resource: 'mistral/*', conditions: { model: ['mistral-large-latest', 'mistral-medium-latest'] } },
      { effect: 'deny', action: 'llm:chat.completions', resource: 'mistral/*', conditions: { max_tokens_gt: 8192 } },
    ],
  },
  {
    name: 'platform-guardrails',
    rules: [
      { effect: 'allow', action: 'llm:models.list', resource: 'mistral/*' },
      { effect: 'allow', action: 'llm:embeddings', resource: 'mistral/mistral-embed' },
      { effect: 'deny', action: 'llm:*', resource: 'openai/*' },
      { effect: 'deny', action: 'llm:completions', resource: 'mistral/codestral-*', conditions: { max_tokens_gt: 2048 } },
      { effect: 'deny', action: 'tool:call', resource: 'mistral/tools/delete_*' },
      { effect: 'deny', action: 'tool:call', resource: 'mistral/tools/drop_*' },
      { effect: 'allow', action: 'tool:call', resource: 'mistral/tools/*' },
      { effect: 'deny', action: 'llm:fine_tuning', resource: '*' },
    ],
  },
];

export const chatBody = (stream: boolean) =>
  JSON.stringify({
    model: 'mistral-large-latest',
    max_tokens: 100,
    stream,
    messages: [
      { role: 'system', content: 'You are a concise assistant.' },
      { role: 'user', content: 'Explain the difference between L1 and L2 regularization.' },
    ],
  });

/**
 * Starts a gateway build (`mainScript`: its dist/src/main.js) with the benchmark's policies and one key; `env` adds
 * settings (e.g. CZ_GATEWAY_AUDIT_DURABILITY).
 */
export async function setUpGateway(mainScript: string, upstreamUrl: string, dataDir: string, env: Record<string, string> = {}): Promise<{ running: Running; key: string }> {
  const running = await startProcess(
    mainScript,
    [],
    {
      CZ_GATEWAY_HOST: '127.0.0.1',
      CZ_GATEWAY_PORT: '0',
      CZ_GATEWAY_DATA_DIR: dataDir,
      CZ_GATEWAY_ADMIN_TOKEN: ADMIN_TOKEN,
      CZ_GATEWAY_MISTRAL_ENABLED: 'true',
      CZ_GATEWAY_MISTRAL_API_KEY: UPSTREAM_KEY,
      CZ_GATEWAY_MISTRAL_BASE_URL: upstreamUrl,
      ...env,
    },
    /listening on (http:\/\/\S+)/,
  );
  const admin = async (p: string, body: unknown) => {
    const res = await fetch(running.url + p, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`${p}: ${res.status} ${await res.text()}`);
    return (await res.json()) as { key?: string };
  };
  for (const policy of POLICIES) await admin('/api/v1/policies', policy);
  const { key } = await admin('/api/v1/keys', { name: 'bench' });
  return { running, key: key! };
}

