/** KrakenD-format config files: strict ai/llm validation (endpoint + JSON path), templates parsed at start-up, port. */
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { ConfigError, loadConfig, type GatewayConfig } from '../src/config/config.js';
import { goInt } from '../src/templates/index.js';
import { llmEndpoint, writeFiles } from './support/endpoints-harness.js';

const mistral = (v1: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
  llmEndpoint('/mistral', 'https://api.mistral.ai', '/v1/chat/completions', 'mistral', 'v1', v1, extra);
const okV1 = { credentials: 'sk-test', variables: { model: 'mistral-small-latest' } };

async function load(config: unknown, env: Record<string, string> = {}, files: Record<string, unknown> = {}): Promise<GatewayConfig | ConfigError> {
  const dir = await writeFiles({ ...files, 'tollgate.json': config });
  try {
    return await loadConfig({ CZ_GATEWAY_CONFIG: path.join(dir, 'tollgate.json'), ...env });
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function problems(config: unknown, files: Record<string, unknown> = {}): Promise<string[]> {
  const result = await load(config, {}, files);
  assert.ok(result instanceof ConfigError, 'expected the configuration to be refused');
  return result.problems;
}

const LLM = '$.endpoints[0].backend[0].extra_config["ai/llm"]';

test('a valid endpoint: defaults and sentinels for unset variables, upstream from host + url_pattern', async () => {
  const config = await load({ version: 3, port: 8080, endpoints: [mistral(okV1)] });
  assert.ok(!(config instanceof ConfigError), String(config));
  assert.equal(config.port, 8080);
  const [e] = config.endpoints;
  assert.equal(e!.path, '/mistral');
  assert.equal(e!.origin, 'https://api.mistral.ai');
  assert.equal(e!.upstreamPath, '/v1/chat/completions');
  assert.equal(e!.model, 'mistral-small-latest');
  assert.equal(e!.public, false);
  assert.deepEqual(e!.variables.max_tokens, goInt(-1));
  assert.deepEqual(e!.variables.n, goInt(1));
  assert.equal(e!.variables.temperature, -1);
  assert.equal(e!.variables.safe_prompt, false);
});

test('CZ_GATEWAY_PORT wins over the file port', async () => {
  const config = await load({ version: 3, port: 8080, endpoints: [] }, { CZ_GATEWAY_PORT: '9000' });
  assert.ok(!(config instanceof ConfigError));
  assert.equal(config.port, 9000);
});

test('top-level KrakenD keys Tollgate does not apply are accepted and reported as ignored', async () => {
  const config = await load({ version: 3, name: 'My gateway', cache_ttl: '3600s', endpoints: [mistral(okV1, { endpoint: { output_encoding: 'json' } })] });
  assert.ok(!(config instanceof ConfigError));
  assert.ok(config.warnings.some((w) => w.endsWith('$.name: not supported by Tollgate, ignored')));
  assert.ok(config.warnings.some((w) => w.endsWith('$.cache_ttl: not supported by Tollgate, ignored')));
  assert.ok(config.warnings.some((w) => w.includes('endpoint "/mistral": $.endpoints[0].output_encoding: not supported by Tollgate, ignored')));
});

test('exactly one vendor', async () => {
  const two = mistral(okV1);
  (two.backend[0]!.extra_config['ai/llm'] as Record<string, unknown>).openai = { v1: okV1 };
  const [p] = await problems({ version: 3, endpoints: [two] });
  assert.match(p!, /endpoint "\/mistral": \$\.endpoints\[0\]\.backend\[0\]\.extra_config\["ai\/llm"\]: must configure exactly one vendor/);
});

test('unknown vendor, unknown version, exactly one version', async () => {
  const unknownVendor = llmEndpoint('/x', 'https://x.example', '/v1', 'cohere', 'v1', okV1);
  assert.match((await problems({ version: 3, endpoints: [unknownVendor] }))[0]!, /endpoint "\/x": .*\["ai\/llm"\]\.cohere: unknown vendor/);
  const unknownVersion = llmEndpoint('/x', 'https://x.example', '/v1', 'mistral', 'v2', okV1);
  assert.match((await problems({ version: 3, endpoints: [unknownVersion] }))[0]!, /\["ai\/llm"\]\.mistral\.v2: unknown version of mistral/);
  const twoVersions = mistral(okV1);
  (twoVersions.backend[0]!.extra_config['ai/llm'] as any).mistral.v2 = okV1;
  assert.match((await problems({ version: 3, endpoints: [twoVersions] }))[0]!, /\["ai\/llm"\]\.mistral: must configure exactly one version/);
});

test('no unknown keys in the version block, typed variables, model required', async () => {
  const all = await problems({
    version: 3,
    endpoints: [
      mistral({ ...okV1, temprature: 0.5 }),
      llmEndpoint('/m2', 'https://api.mistral.ai', '/v1/chat/completions', 'mistral', 'v1', { credentials: 'k', variables: { max_tokens: 1.5, custom_key: 'kept' } }),
      llmEndpoint('/m3', 'https://api.mistral.ai', '/v1/chat/completions', 'mistral', 'v1', { variables: { model: 'm' } }),
    ],
  });
  assert.ok(all.some((p) => p.includes(`endpoint "/mistral": ${LLM}.mistral.v1.temprature: unknown key`)), all.join('\n'));
  assert.ok(all.some((p) => p.includes('endpoint "/m2": $.endpoints[1].backend[0].extra_config["ai/llm"].mistral.v1.variables.model:')), all.join('\n'));
  assert.ok(all.some((p) => p.includes('endpoint "/m2": $.endpoints[1].backend[0].extra_config["ai/llm"].mistral.v1.variables.max_tokens:')), all.join('\n'));
  assert.ok(!all.some((p) => p.includes('custom_key')), 'variables may carry extra keys for custom templates');
  assert.ok(all.some((p) => p.includes('endpoint "/m3": $.endpoints[2].backend[0].extra_config["ai/llm"].mistral.v1.credentials:')), all.join('\n'));
});

test('unsupported parts are errors: other namespaces, several backends, backends without ai/llm', async () => {
  const otherNs = mistral(okV1);
  (otherNs.backend[0]!.extra_config as Record<string, unknown>)['qos/ratelimit/proxy'] = { max_rate: 1 };
  const authNs = mistral(okV1, { endpoint: { extra_config: { 'auth/validator': { alg: 'RS256' } } } });
  const twoBackends = { ...mistral(okV1), backend: [mistral(okV1).backend[0], mistral(okV1).backend[0]] };
  const plain = { endpoint: '/plain', method: 'GET', backend: [{ host: ['https://example.com'], url_pattern: '/x' }] };
  const all = await problems({ version: 3, endpoints: [otherNs, authNs, twoBackends, plain] });
  assert.ok(all.some((p) => p.includes('$.endpoints[0].backend[0].extra_config["qos/ratelimit/proxy"]: namespace not supported')), all.join('\n'));
  assert.ok(all.some((p) => p.includes('$.endpoints[1].extra_config["auth/validator"]: namespace not supported')), all.join('\n'));
  assert.ok(all.some((p) => p.includes('$.endpoints[2].backend: 2 backends')), all.join('\n'));
  assert.ok(all.some((p) => p.includes('endpoint "/plain": $.endpoints[3].backend[0].extra_config: missing "ai/llm"')), all.join('\n'));
});

test('credentials from a missing environment variable stop start-up', async () => {
  const [p] = await problems({ version: 3, endpoints: [mistral({ ...okV1, credentials: '{{ env "NOT_SET_ANYWHERE_42" }}' })] });
  assert.match(p!, new RegExp(`${LLM.replace(/[[\]$.]/g, '\\$&')}\\.mistral\\.v1\\.credentials: .*resolves to an empty string`));
});

test('a template parse error stops start-up with file:line:col', async () => {
  const all = await problems(
    { version: 3, endpoints: [mistral({ ...okV1, input_template: 'in.tmpl', output_template: 'missing.tmpl' })] },
    { 'in.tmpl': '{\n"model": {{ .variables.model | toJson }},\n"x": {{ if .req_body }}\n}' },
  );
  const parse = all.find((p) => p.includes('input_template'));
  assert.match(parse!, /mistral\.v1\.input_template: \/.*in\.tmpl:4:\d+: template: .*in\.tmpl:4: unexpected EOF/);
  assert.ok(all.some((p) => /output_template: cannot read .*missing\.tmpl/.test(p)), all.join('\n'));
});

test('endpoints need version 3; endpoint paths may not shadow gateway routes', async () => {
  assert.match((await problems({ endpoints: [mistral(okV1)] }))[0]!, /\$\.version: must be 3/);
  const api = llmEndpoint('/api/x', 'https://api.mistral.ai', '/v1/chat/completions', 'mistral', 'v1', okV1);
  assert.match((await problems({ version: 3, endpoints: [api] }))[0]!, /\$\.endpoints\[0\]\.endpoint: clashes with a gateway route/);
});

test('a bare endpoint object pasted from the product docs is refused with a message that says to wrap it', async () => {
  const all = await problems(mistral(okV1));
  assert.equal(all.length, 1);
  assert.match(all[0]!, /tollgate\.json: \$: this is one KrakenD endpoint, not a config file: wrap it as \{"version": 3, "endpoints": \[ <the endpoint> \]\}/);
});
