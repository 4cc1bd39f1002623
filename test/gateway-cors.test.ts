/**
 * CZ_GATEWAY_CORS_ORIGINS: browser preflights on provider routes and templated endpoints are answered before
 * authentication for listed origins, refused (and audited) for others, never offered on the admin API; off by default.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ConfigError, loadConfig } from '../src/config/config.js';
import { eventually, startHarness, type Harness } from './support/harness.js';

const APP = 'https://app.example.com';
const preflight = (url: string, origin: string) =>
  fetch(url, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type, x-stainless-os' } });

describe('with listed origins', () => {
  let h: Harness;
  let key: string;
  before(async () => {
    h = await startHarness({ env: { CZ_GATEWAY_CORS_ORIGINS: `${APP}, http://localhost:5173` } });
    key = (await h.createKey('browser')).key;
  });
  after(() => h.close());

  test('a preflight from a listed origin is answered 204 before authentication, with what the browser asked for', async () => {
    const res = await preflight(`${h.url}/mistral/v1/chat/completions`, APP);
    assert.equal(res.status, 204);
    assert.equal(res.headers.get('access-control-allow-origin'), APP);
    assert.equal(res.headers.get('access-control-allow-headers'), 'authorization, content-type, x-stainless-os');
    assert.match(res.headers.get('access-control-allow-methods') ?? '', /POST/);
    assert.equal(res.headers.get('vary'), 'Origin');
    assert.equal(res.headers.get('access-control-allow-credentials'), null, 'keys travel in headers: no credentials mode');
  });

  test("the call itself: the browser may read the answer and the gateway's headers", async () => {
    const res = await fetch(`${h.url}/mistral/v1/chat/completions`, {
      method: 'POST',
      headers: { origin: 'http://localhost:5173', authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'mistral-small-latest', messages: [{ role: 'user', content: 'hi' }] }),
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('access-control-allow-origin'), 'http://localhost:5173');
    assert.match(res.headers.get('access-control-expose-headers') ?? '', /x-tollgate-request-id.*x-tollgate-decision/);
    await res.json();
  });

  test('an unlisted origin: its preflight is refused with 403, audited; its calls carry no CORS headers', async () => {
    const res = await preflight(`${h.url}/mistral/v1/chat/completions`, 'https://evil.example');
    assert.equal(res.status, 403);
    assert.equal(res.headers.get('access-control-allow-origin'), null);
    assert.equal(((await res.json()) as any).error.code, 'cors_origin_not_allowed');
    const record = await eventually(async () => (await h.audit()).find((r) => r.reason_code === 'CORS_ORIGIN_NOT_ALLOWED'));
    assert.equal(record.decision, 'deny');
    assert.equal(record.status, 403);
    const call = await fetch(`${h.url}/mistral/v1/models`, { headers: { origin: 'https://evil.example', authorization: `Bearer ${key}` } });
    assert.equal(call.status, 200);
    assert.equal(call.headers.get('access-control-allow-origin'), null);
    await call.text();
  });

  test('the admin API is never offered to other origins', async () => {
    const res = await preflight(`${h.url}/api/v1/keys`, APP);
    assert.notEqual(res.status, 204);
    assert.equal(res.headers.get('access-control-allow-origin'), null);
    await res.text();
  });
});

test('CZ_GATEWAY_CORS_ORIGINS=*: any origin, no Vary', async () => {
  const h = await startHarness({ env: { CZ_GATEWAY_CORS_ORIGINS: '*' } });
  try {
    const res = await preflight(`${h.url}/mistral/v1/chat/completions`, 'https://anything.example');
    assert.equal(res.status, 204);
    assert.equal(res.headers.get('access-control-allow-origin'), '*');
    assert.equal(res.headers.get('vary'), null);
  } finally {
    await h.close();
  }
});

test('off by default: a preflight is an unauthenticated request like any other', async () => {
  const h = await startHarness();
  try {
    const res = await preflight(`${h.url}/mistral/v1/chat/completions`, APP);
    assert.equal(res.status, 401);
    assert.equal(res.headers.get('access-control-allow-origin'), null);
    await res.text();
  } finally {
    await h.close();
  }
});

test('an entry that is not an origin stops the gateway, naming it', async () => {
  await assert.rejects(loadConfig({ CZ_GATEWAY_CORS_ORIGINS: `${APP}/, app.example.com, ftp://x.example` }), (e: unknown) => {
    assert.ok(e instanceof ConfigError);
    assert.equal(e.problems.filter((p) => p.startsWith('CZ_GATEWAY_CORS_ORIGINS')).length, 3, e.problems.join('\n'));
    assert.match(e.message, /"https:\/\/app\.example\.com\/" is not an origin/);
    return true;
  });
});
