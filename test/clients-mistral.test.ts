/**
 * The official Mistral SDK (@mistralai/mistralai), unchanged, through the gateway: a policy denial whose message is
 * readable, a 422 whose pydantic list reaches HTTPValidationError.detail, a mid-stream error that ends the stream with
 * finish_reason "error" (not a schema crash), and tool calls governed with the default minimal notice.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Mistral } from '@mistralai/mistralai';
import { HTTPValidationError, MistralError } from '@mistralai/mistralai/models/errors';
import { startHarness, type Harness } from './support/harness.js';

describe('@mistralai/mistralai through the gateway', () => {
  let h: Harness;
  let mistral: Mistral;
  before(async () => {
    h = await startHarness();
    await h.createPolicy({
      name: 'mistral-sdk-clients',
      rules: [
        { effect: 'deny', action: 'llm:chat.completions', resource: 'mistral/codestral-*' },
        { effect: 'allow', action: 'llm:*', resource: 'mistral/*' },
        { effect: 'allow', action: 'tool:call', resource: 'mistral/tools/lookup_order' },
      ],
    });
    mistral = new Mistral({ apiKey: (await h.createKey('mistral-sdk')).key, serverURL: `${h.url}/mistral` });
  });
  after(() => h.close());
  const messages = [{ role: 'user' as const, content: 'Say hello' }];

  test('a policy denial reaches the caller with its message', async () => {
    await assert.rejects(mistral.chat.complete({ model: 'codestral-latest', messages }), (err: unknown) => {
      assert.ok(err instanceof MistralError);
      assert.equal(err.statusCode, 403);
      assert.match(err.message, /denied by policy/i);
      assert.match(err.message, /mistral-sdk-clients/);
      return true;
    });
  });

  test("the provider's 422 keeps its detail list, which HTTPValidationError reads", async () => {
    await assert.rejects(mistral.chat.complete({ model: 'mistral-small-latest', messages, n: 0 }), (err: unknown) => {
      assert.ok(err instanceof HTTPValidationError, String(err));
      assert.equal(err.detail?.[0]?.loc.join('.'), 'body.n');
      assert.equal(JSON.parse(err.body).object, 'error');
      return true;
    });
  });

  test('a mid-stream error ends the stream with finish_reason "error", not a schema-validation crash', async () => {
    const stream = await mistral.chat.stream({ model: 'mistral-small-latest', messages }, { headers: { 'x-fake-fault': 'malformed-sse' } });
    const reasons: unknown[] = [];
    for await (const event of stream) reasons.push(event.data.choices[0]?.finishReason ?? null);
    assert.equal(reasons.at(-1), 'error');
    const [record] = await h.audit('status=502');
    assert.match(record.error_message, /not valid JSON/);
  });

  test('tool calls: an allowed one passes, a denied one is replaced by a notice naming the tool only', async () => {
    const tool = (name: string) => ({ type: 'function' as const, function: { name, parameters: { type: 'object', properties: {} } } });
    const calls = JSON.stringify([{ name: 'lookup_order', arguments: { order_id: 42 } }, { name: 'delete_file', arguments: { path: '/' } }]);
    const res = await mistral.chat.complete(
      { model: 'mistral-large-latest', messages, tools: [tool('lookup_order'), tool('delete_file')] },
      { headers: { 'x-fake-tool-calls': calls } },
    );
    const message = res.choices[0]!.message!;
    assert.deepEqual(message.toolCalls?.map((c) => c.function.name), ['lookup_order']);
    assert.match(String(message.content), /\[tollgate\] Tool call "delete_file" was denied by policy \(request req_\w+\)/);
    assert.doesNotMatch(String(message.content), /mistral-sdk-clients/);
  });
});
