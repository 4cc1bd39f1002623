/** The README's extras policy decides as the README says, next to the seed policy. */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { compilePolicies, type EvalRequest, type PolicyDocument } from '../src/policy/index.js';
import { SEED_POLICY } from './support/harness.js';

test("the README's extras rules allow what the seed policy denies, and the seed's deny still wins", async () => {
  const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8');
  const block = /<!-- readme-extras-policy[^>]*-->\n```json\n([\s\S]*?)\n```/.exec(readme);
  assert.ok(block, 'the README holds the extras policy block');
  const extras = JSON.parse(block[1]!) as PolicyDocument;
  const decide = (documents: PolicyDocument[], request: Omit<EvalRequest, 'provider' | 'now'>) =>
    compilePolicies(documents.map((document, i) => ({ id: `pol_${i}`, document })), { strict: false }).evaluate({ provider: 'mistral', now: Date.now(), ...request }).decision;
  const requests: Array<[string, Omit<EvalRequest, 'provider' | 'now'>]> = [
    ['model listing', { action: 'llm:models.list', resource: 'mistral/*' }],
    ['embeddings', { action: 'llm:embeddings', resource: 'mistral/mistral-embed', body: { model: 'mistral-embed' } }],
    ['a tool call', { action: 'tool:call', resource: 'mistral/tools/get_weather', tool: { name: 'get_weather', arguments: {} } }],
    ['the templated endpoint', { action: 'llm:chat.completions', resource: 'mistral/mistral-small-latest', body: { model: 'mistral-small-latest' } }],
  ];
  for (const [what, request] of requests) {
    assert.equal(decide([SEED_POLICY as PolicyDocument], request), 'deny', `the seed alone denies ${what}`);
    assert.equal(decide([SEED_POLICY as PolicyDocument, extras], request), 'allow', `with the extras, ${what} is allowed`);
  }
  const tooLong = { action: 'llm:chat.completions', resource: 'mistral/mistral-small-latest', body: { model: 'mistral-small-latest', max_tokens: 10_000 } };
  assert.equal(decide([SEED_POLICY as PolicyDocument, extras], tooLong), 'deny');
});
