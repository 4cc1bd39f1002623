import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { ConfigError, loadConfig } from '../src/config/config.js';

async function problems(env: NodeJS.ProcessEnv, argv: string[] = []): Promise<string[]> {
  try {
    await loadConfig(env, argv);
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    return err.problems;
  }
  return [];
}

test('the seed variables enable Mistral with its default upstream', async () => {
  const config = await loadConfig({ CZ_GATEWAY_MISTRAL_ENABLED: 'true', CZ_GATEWAY_MISTRAL_API_KEY: 'sk-m' });
  const mistral = config.providers.get('mistral');
  assert.equal(mistral?.baseUrl, 'https://api.mistral.ai');
  assert.equal(mistral?.apiKey, 'sk-m');
  assert.equal(mistral?.pathRewrites['/completions'], '/fim/completions');
  assert.equal(config.port, 8000);
  assert.equal(config.strictPolicy, false);
});

test('defaults: port 8000, ./data, observe mode, closed audit failure mode', async () => {
  const config = await loadConfig({});
  assert.equal(config.port, 8000);
  assert.equal(config.dataDir, path.resolve('./data'));
  assert.equal(config.audit.failureMode, 'closed');
  assert.equal(config.providers.size, 0);
});

test('OpenAI, DeepSeek and a custom provider by env; BASE_URL override', async () => {
  const config = await loadConfig({
    CZ_GATEWAY_OPENAI_ENABLED: 'true',
    CZ_GATEWAY_OPENAI_API_KEY: 'sk-o',
    CZ_GATEWAY_DEEPSEEK_ENABLED: '1',
    CZ_GATEWAY_DEEPSEEK_API_KEY: 'sk-d',
    CZ_GATEWAY_DEEPSEEK_BASE_URL: 'http://127.0.0.1:9999/',
    CZ_GATEWAY_TOGETHER_AI_ENABLED: 'true',
    CZ_GATEWAY_TOGETHER_AI_API_KEY: 'sk-t',
    CZ_GATEWAY_TOGETHER_AI_BASE_URL: 'https://api.together.xyz',
  });
  assert.equal(config.providers.get('openai')?.baseUrl, 'https://api.openai.com');
  assert.equal(config.providers.get('deepseek')?.baseUrl, 'http://127.0.0.1:9999');
  assert.equal(config.providers.get('together-ai')?.baseUrl, 'https://api.together.xyz');
});

test('Anthropic is a built-in provider spoken to in its own wire API; custom providers are OpenAI-compatible', async () => {
  const config = await loadConfig({
    CZ_GATEWAY_ANTHROPIC_ENABLED: 'true',
    CZ_GATEWAY_ANTHROPIC_API_KEY: 'sk-ant',
    CZ_GATEWAY_LOCAL_ENABLED: 'true',
    CZ_GATEWAY_LOCAL_API_KEY: 'k',
    CZ_GATEWAY_LOCAL_BASE_URL: 'http://127.0.0.1:9000',
  });
  const anthropic = config.providers.get('anthropic');
  assert.equal(anthropic?.baseUrl, 'https://api.anthropic.com');
  assert.equal(anthropic?.wire, 'anthropic');
  assert.equal(config.providers.get('local')?.wire, 'openai');
  const custom = await loadConfig({
    CZ_GATEWAY_ANTHROPIC_ENABLED: 'true',
    CZ_GATEWAY_ANTHROPIC_API_KEY: 'sk-ant',
    CZ_GATEWAY_ANTHROPIC_BASE_URL: 'http://127.0.0.1:8200',
  });
  assert.equal(custom.providers.get('anthropic')?.baseUrl, 'http://127.0.0.1:8200');
  const missingKey = await problems({ CZ_GATEWAY_ANTHROPIC_ENABLED: 'true' });
  assert.ok(missingKey.some((p) => p.includes('CZ_GATEWAY_ANTHROPIC_API_KEY: required')), missingKey.join('\n'));
});

test('CZ_GATEWAY_TRUSTED_PROXIES takes addresses and CIDR subnets, and names what it cannot read', async () => {
  const config = await loadConfig({ CZ_GATEWAY_TRUSTED_PROXIES: '10.0.0.1, 10.1.0.0/16, ::1, fd00::/8' });
  assert.deepEqual(config.trustedProxies, [
    { address: '10.0.0.1', prefix: 32, family: 'ipv4' },
    { address: '10.1.0.0', prefix: 16, family: 'ipv4' },
    { address: '::1', prefix: 128, family: 'ipv6' },
    { address: 'fd00::', prefix: 8, family: 'ipv6' },
  ]);
  assert.deepEqual((await loadConfig({})).trustedProxies, []);
  const found = await problems({ CZ_GATEWAY_TRUSTED_PROXIES: '10.0.0.1, proxy.local, 10.0.0.0/33' });
  assert.equal(found.filter((p) => p.startsWith('CZ_GATEWAY_TRUSTED_PROXIES')).length, 2, found.join('\n'));
  assert.ok(found.some((p) => p.includes('"proxy.local" is not an IP address or CIDR subnet')));
});

test('every bad setting is reported, naming its variable', async () => {
  const found = await problems({
    CZ_GATEWAY_MISTRAL_ENABLED: 'yes please',
    CZ_GATEWAY_OPENAI_ENABLED: 'true',
    CZ_GATEWAY_DEEPSEEK_ENABLED: 'true',
    CZ_GATEWAY_DEEPSEEK_API_KEY: 'k',
    CZ_GATEWAY_DEEPSEEK_BASE_URL: 'https://api.deepseek.com/v1',
    CZ_GATEWAY_CUSTOM_ENABLED: 'true',
    CZ_GATEWAY_CUSTOM_API_KEY: 'k',
    CZ_GATEWAY_PORT: '80000',
    CZ_GATEWAY_MISTRAL_ENABLE: 'true',
    CZ_GATEWAY_AUDIT_FAILURE_MODE: 'sometimes',
  });
  const text = found.join('\n');
  for (const name of [
    'CZ_GATEWAY_MISTRAL_ENABLED="yes please"',
    'CZ_GATEWAY_OPENAI_API_KEY: required',
    'CZ_GATEWAY_DEEPSEEK_BASE_URL="https://api.deepseek.com/v1": give the origin without /v1',
    'CZ_GATEWAY_CUSTOM_BASE_URL: required for provider "custom"',
    'CZ_GATEWAY_PORT="80000"',
    'CZ_GATEWAY_MISTRAL_ENABLE: unknown variable',
    'CZ_GATEWAY_AUDIT_FAILURE_MODE="sometimes"',
  ]) {
    assert.ok(text.includes(name), `expected a problem about ${name} in:\n${text}`);
  }
});

test('contradictory: provider settings while the provider is not enabled', async () => {
  const found = await problems({ CZ_GATEWAY_MISTRAL_API_KEY: 'k', CZ_GATEWAY_MISTRAL_ENABLED: 'false' });
  assert.match(found.join('\n'), /CZ_GATEWAY_MISTRAL_API_KEY set but CZ_GATEWAY_MISTRAL_ENABLED is not true/);
});

test('custom providers in the config file, validated with paths', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'tollgate-config-'));
  const good = path.join(dir, 'good.json');
  await writeFile(good, JSON.stringify({ providers: { groq: { base_url: 'https://api.groq.com/openai', api_key_env: 'GROQ_KEY' } } }));
  const config = await loadConfig({ GROQ_KEY: 'gk' }, ['--config', good]);
  assert.equal(config.providers.get('groq')?.baseUrl, 'https://api.groq.com/openai');
  assert.equal(config.providers.get('groq')?.apiKey, 'gk');

  const bad = path.join(dir, 'bad.json');
  await writeFile(bad, JSON.stringify({ providers: { groq: { base_url: 'ftp://x', apikey: 'k' } }, extra: 1 }));
  const text = (await problems({ CZ_GATEWAY_CONFIG: bad })).join('\n');
  assert.match(text, /providers\.groq\.base_url/);
  assert.match(text, /apikey/);
  assert.match(text, /extra/);

  const missing = (await problems({}, ['--config', path.join(dir, 'nope.json')])).join('\n');
  assert.match(missing, /cannot read/);
});

test('CZ_GATEWAY_<P>_MAX_CONNECTIONS caps a provider\'s connections; unset means no cap; 0 is refused by name', async () => {
  const base = { CZ_GATEWAY_MISTRAL_ENABLED: 'true', CZ_GATEWAY_MISTRAL_API_KEY: 'sk-m' };
  assert.equal((await loadConfig(base)).providers.get('mistral')!.maxConnections, null);
  assert.equal((await loadConfig({ ...base, CZ_GATEWAY_MISTRAL_MAX_CONNECTIONS: '64' })).providers.get('mistral')!.maxConnections, 64);
  assert.deepEqual(await problems({ ...base, CZ_GATEWAY_MISTRAL_MAX_CONNECTIONS: '0' }), ['CZ_GATEWAY_MISTRAL_MAX_CONNECTIONS="0": must be an integer from 1 to 1000000']);
});
