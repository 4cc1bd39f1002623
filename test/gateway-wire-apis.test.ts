/**
 * The official `openai` SDK (Responses API) and `@anthropic-ai/sdk` (Messages API) against the real gateway, in front
 * of the project's fake OpenAI and Anthropic vendors: allowed calls reach the client as the SDKs parse them, denied
 * tool calls are governed in each CZ_GATEWAY_TOOL_DENY_MODE (streamed and not), request policies (model,
 * max_tokens) and the PII scan apply to each shape, and every request leaves its audit record (action, resource, tool
 * verdicts, usage).
 */
import Anthropic from '@anthropic-ai/sdk';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import { startFakeVendor, type FakeVendorServer } from '../src/fake-vendors/server.js';
import { TOOL_CALLS_HEADER } from '../src/fake-vendors/tool-calls.js';
import { eventually, startHarness, type Harness } from './support/harness.js';

const OPENAI_KEY = 'sk-openai-upstream-0123456789';
const ANTHROPIC_KEY = 'sk-ant-upstream-0123456789';

const POLICY = {
  name: 'wire-apis',
  rules: [
    { id: 'all', effect: 'allow', action: '*', resource: '*' },
    { id: 'no-delete', effect: 'deny', action: 'tool:call', resource: '*/tools/delete_file' },
    { id: 'no-bad-model', effect: 'deny', action: 'llm:*', resource: '*', conditions: { model: 'bad-model' } },
    { id: 'small-answers', effect: 'deny', action: 'llm:*', resource: '*', conditions: { max_tokens_gt: 100 } },
  ],
};

const WEATHER_SCHEMA = {
  type: 'object',
  properties: { city: { type: 'string' }, unit: { type: 'string', enum: ['celsius', 'fahrenheit'] } },
  required: ['city', 'unit'],
  additionalProperties: false,
};
const PATH_SCHEMA = { type: 'object', properties: { path: { type: 'string' } }, required: ['path'] };
/** What the fakes synthesise from WEATHER_SCHEMA when the model picks the tool itself. */
const WEATHER_ARGS = { city: 'city_value', unit: 'celsius' };

const WEATHER = { name: 'get_weather', arguments: { city: 'Paris', unit: 'celsius' } };
const DELETE = { name: 'delete_file', arguments: { path: '/tmp/x' } };
const NOTICE = /^\[tollgate\] Tool call "delete_file" was denied by policy "wire-apis" \(rule no-delete\): /;

const RESPONSES_TOOLS: OpenAI.Responses.FunctionTool[] = [
  { type: 'function', name: 'get_weather', description: 'Weather of a city', parameters: WEATHER_SCHEMA, strict: true },
  { type: 'function', name: 'delete_file', parameters: PATH_SCHEMA, strict: false },
];
const ANTHROPIC_TOOLS: Anthropic.Tool[] = [
  { name: 'get_weather', description: 'Weather of a city', input_schema: WEATHER_SCHEMA as Anthropic.Tool.InputSchema },
  { name: 'delete_file', input_schema: PATH_SCHEMA as Anthropic.Tool.InputSchema },
];
const QUESTION = 'What is the weather in Paris? Then tidy up my files.';
const CLAUDE = 'claude-sonnet-4-5';

type Mode = 'replace' | 'strip' | 'error';

interface Setup {
  h: Harness;
  key: string;
  openaiFake: FakeVendorServer;
  anthropicFake: FakeVendorServer;
  openai: OpenAI;
  anthropic: Anthropic;
  /** The headers of each request the Anthropic SDK sent to the gateway. */
  anthropicSent: Headers[];
}

async function setup(env: Record<string, string>): Promise<Setup> {
  const [openaiFake, anthropicFake] = await Promise.all([
    startFakeVendor('openai', { apiKey: OPENAI_KEY, record: true }),
    startFakeVendor('anthropic', { apiKey: ANTHROPIC_KEY, record: true }),
  ]);
  const h = await startHarness({
    env: {
      CZ_GATEWAY_OPENAI_ENABLED: 'true',
      CZ_GATEWAY_OPENAI_API_KEY: OPENAI_KEY,
      CZ_GATEWAY_OPENAI_BASE_URL: openaiFake.url,
      CZ_GATEWAY_ANTHROPIC_ENABLED: 'true',
      CZ_GATEWAY_ANTHROPIC_API_KEY: ANTHROPIC_KEY,
      CZ_GATEWAY_ANTHROPIC_BASE_URL: anthropicFake.url,
      ...env,
    },
  });
  await h.createPolicy(POLICY);
  const key = (await h.createKey('wire-apis')).key;
  const anthropicSent: Headers[] = [];
  const recordingFetch = (input: string | URL | Request, init?: RequestInit) => {
    anthropicSent.push(new Headers(init?.headers));
    return fetch(input, init);
  };
  return {
    h,
    key,
    openaiFake,
    anthropicFake,
    openai: new OpenAI({ baseURL: `${h.url}/openai/v1`, apiKey: key, maxRetries: 0 }),
    anthropic: new Anthropic({ baseURL: `${h.url}/anthropic`, apiKey: key, maxRetries: 0, fetch: recordingFetch }),
    anthropicSent,
  };
}

async function teardown(s: Setup | undefined): Promise<void> {
  if (!s) return;
  await s.h.close();
  await Promise.all([s.openaiFake.close(), s.anthropicFake.close()]);
}

let tags = 0;
/**
 * Per-request options naming a fresh calling agent (audited as `agent_id`), so the test finds that request's record,
 * plus the tool calls the fake vendor must return.
 */
function tagged(forced?: unknown[]): { agent: string; options: { headers: Record<string, string> } } {
  const agent = `wire-test-${++tags}`;
  const headers: Record<string, string> = { 'x-controlzero-agent-id': agent };
  if (forced) headers[TOOL_CALLS_HEADER] = JSON.stringify(forced);
  return { agent, options: { headers } };
}

function recordOf(h: Harness, agent: string): Promise<any> {
  return eventually(async () => (await h.audit()).find((r) => r.agent_id === agent));
}

const verdicts = (record: any) => (record.details?.tool_calls ?? []).map((v: any) => [v.name, v.decision, v.rule]);

/** Resolves to what `promise` rejects with; fails when it resolves. */
async function rejection(promise: Promise<unknown>, message = 'expected the call to fail'): Promise<any> {
  return promise.then(
    () => assert.fail(message),
    (err: unknown) => err,
  );
}

/** The events of a stream until it ends or throws. */
async function drain<T>(stream: AsyncIterable<T>): Promise<{ events: T[]; error: unknown }> {
  const events: T[] = [];
  try {
    for await (const event of stream) events.push(event);
    return { events, error: undefined };
  } catch (error) {
    return { events, error };
  }
}

const functionCalls = (output: readonly OpenAI.Responses.ResponseOutputItem[]) =>
  output.filter((item): item is OpenAI.Responses.ResponseFunctionToolCall => item.type === 'function_call');
const callSummary = (output: readonly OpenAI.Responses.ResponseOutputItem[]) => functionCalls(output).map((c) => [c.name, JSON.parse(c.arguments)]);
const toolUses = (content: readonly Anthropic.ContentBlock[]) => content.filter((b): b is Anthropic.ToolUseBlock => b.type === 'tool_use');
const blockSummary = (content: readonly Anthropic.ContentBlock[]) =>
  content.map((b) => (b.type === 'tool_use' ? ['tool_use', b.name, b.input] : b.type === 'text' ? ['text', b.text] : [b.type]));

/** The notice text of a replaced Responses call: its item is an assistant message. */
function noticeItem(item: OpenAI.Responses.ResponseOutputItem | undefined): string {
  assert.equal(item?.type, 'message');
  const message = item as OpenAI.Responses.ResponseOutputMessage;
  assert.equal(message.role, 'assistant');
  assert.equal(message.content.length, 1);
  const part = message.content[0]!;
  assert.equal(part.type, 'output_text');
  return (part as OpenAI.Responses.ResponseOutputText).text;
}

for (const mode of ['replace', 'strip', 'error'] as const satisfies readonly Mode[]) {
  describe(`CZ_GATEWAY_TOOL_DENY_MODE=${mode}`, () => {
    let s: Setup;
    before(async () => {
      s = await setup({ CZ_GATEWAY_TOOL_DENY_MODE: mode, CZ_GATEWAY_DENY_DETAIL: 'full' });
    });
    after(() => teardown(s));

    describe('OpenAI Responses (openai SDK)', () => {
      test('allowed call, not streamed: reaches the client intact; audit names action, resource, verdict and usage', async () => {
        const { agent, options } = tagged();
        const response = await s.openai.responses.create({ model: 'gpt-4.1', input: QUESTION, tools: RESPONSES_TOOLS }, options);
        assert.equal(response.status, 'completed');
        assert.deepEqual(callSummary(response.output), [['get_weather', WEATHER_ARGS]]);
        const call = functionCalls(response.output)[0]!;
        assert.match(call.call_id, /^call_/);
        assert.equal(response.output_text, '');
        // the upstream got the provider key, never the gateway key
        const upstream = s.openaiFake.requests.at(-1)!;
        assert.equal(upstream.headers.authorization, `Bearer ${OPENAI_KEY}`);
        assert.ok(!JSON.stringify(upstream.headers).includes(s.key));

        const record = await recordOf(s.h, agent);
        assert.equal(record.action, 'llm:responses');
        assert.equal(record.resource, 'openai/gpt-4.1');
        assert.equal(record.model, 'gpt-4.1');
        assert.equal(record.decision, 'allow');
        assert.equal(record.status, 200);
        assert.equal(record.streamed, false);
        assert.deepEqual(verdicts(record), [['get_weather', 'allow', 'all']]);
        assert.equal(record.prompt_tokens, response.usage!.input_tokens);
        assert.equal(record.completion_tokens, response.usage!.output_tokens);
        assert.equal(record.total_tokens, response.usage!.total_tokens);
      });

      test('text answer: output_text works', async () => {
        const response = await s.openai.responses.create({ model: 'gpt-4.1-mini', instructions: 'Be brief. ', input: 'Hello there', max_output_tokens: 50 });
        assert.equal(response.output_text, 'Answer 1 to: Be brief. Hello there');
      });

      test('a denied call next to an allowed one, not streamed', async () => {
        const { agent, options } = tagged([WEATHER, DELETE]);
        const request = s.openai.responses.create({ model: 'gpt-4.1', input: QUESTION, tools: RESPONSES_TOOLS }, options);
        if (mode === 'error') {
          const err = await rejection(request);
          assert.ok(err instanceof OpenAI.PermissionDeniedError);
          assert.equal(err.status, 403);
          assert.equal(err.code, 'tool_call_denied');
          assert.equal((err.error as any).tool, 'delete_file');
          assert.equal((err.error as any).rule, 'no-delete');
        } else {
          const response = await request;
          assert.deepEqual(callSummary(response.output), [['get_weather', WEATHER.arguments]]);
          if (mode === 'replace') {
            assert.equal(response.output.length, 2);
            assert.match(noticeItem(response.output[1]), NOTICE);
            assert.match(response.output_text, NOTICE);
          } else {
            assert.equal(response.output.length, 1);
            assert.equal(response.output_text, '');
          }
        }
        const record = await recordOf(s.h, agent);
        assert.deepEqual(verdicts(record), [
          ['get_weather', 'allow', 'all'],
          ['delete_file', 'deny', 'no-delete'],
        ]);
        if (mode === 'error') {
          assert.equal(record.status, 403);
          assert.equal(record.decision, 'deny');
          assert.equal(record.rule, 'no-delete');
        } else {
          assert.equal(record.status, 200);
          assert.ok(record.prompt_tokens > 0 && record.completion_tokens > 0);
        }
      });

      test('stream: true, allowed call: the events arrive whole; usage from response.completed', async () => {
        const { agent, options } = tagged();
        const stream = await s.openai.responses.create({ model: 'gpt-4.1', input: QUESTION, tools: RESPONSES_TOOLS, stream: true }, options);
        const { events, error } = await drain(stream);
        assert.equal(error, undefined);
        assert.deepEqual(
          events.map((e) => e.sequence_number),
          events.map((_, i) => i),
        );
        const done = events.find((e) => e.type === 'response.function_call_arguments.done');
        assert.deepEqual(done && JSON.parse(done.arguments), WEATHER_ARGS);
        const completed = events.at(-1)!;
        assert.equal(completed.type, 'response.completed');
        const usage = completed.type === 'response.completed' ? completed.response.usage! : assert.fail();
        const record = await recordOf(s.h, agent);
        assert.equal(record.action, 'llm:responses');
        assert.equal(record.streamed, true);
        assert.equal(record.status, 200);
        assert.deepEqual(verdicts(record), [['get_weather', 'allow', 'all']]);
        assert.deepEqual([record.prompt_tokens, record.completion_tokens, record.total_tokens], [usage.input_tokens, usage.output_tokens, usage.total_tokens]);
      });

      test('stream: true, a denied call before an allowed one', async () => {
        const { agent, options } = tagged([DELETE, WEATHER]);
        const stream = await s.openai.responses.create({ model: 'gpt-4.1', input: QUESTION, tools: RESPONSES_TOOLS, stream: true }, options);
        const { events, error } = await drain(stream);
        // no piece of the denied call reaches the client
        for (const event of events) {
          assert.ok(!('item' in event) || event.item.type !== 'function_call' || event.item.name !== 'delete_file', `leaked: ${JSON.stringify(event)}`);
          assert.ok(!(event.type === 'response.function_call_arguments.delta' && event.delta.includes('/tmp/x')), 'leaked arguments');
        }
        if (mode === 'error') {
          assert.ok(error instanceof OpenAI.APIError, `expected an APIError, got ${String(error)}`);
          assert.equal(error.code, 'tool_call_denied');
          assert.ok(!events.some((e) => e.type === 'response.completed'));
        } else {
          assert.equal(error, undefined);
          const completed = events.at(-1)!;
          assert.equal(completed.type, 'response.completed');
          const output = completed.type === 'response.completed' ? completed.response.output : [];
          assert.deepEqual(callSummary(output), [['get_weather', WEATHER.arguments]]);
          const itemsDone = events.filter((e): e is OpenAI.Responses.ResponseOutputItemDoneEvent => e.type === 'response.output_item.done');
          if (mode === 'replace') {
            assert.deepEqual(
              itemsDone.map((e) => [e.output_index, e.item.type]),
              [
                [0, 'message'],
                [1, 'function_call'],
              ],
            );
            assert.match(noticeItem(itemsDone[0]!.item), NOTICE);
            assert.match(noticeItem(output[0]), NOTICE);
            const text = events.filter((e) => e.type === 'response.output_text.delta').map((e) => (e as OpenAI.Responses.ResponseTextDeltaEvent).delta);
            assert.match(text.join(''), NOTICE);
          } else {
            // the allowed call moves up to output_index 0
            assert.deepEqual(
              itemsDone.map((e) => [e.output_index, e.item.type]),
              [[0, 'function_call']],
            );
            for (const e of events) if ('output_index' in e) assert.equal(e.output_index, 0);
            assert.equal(output.length, 1);
          }
        }
        const record = await recordOf(s.h, agent);
        assert.deepEqual(verdicts(record)[0], ['delete_file', 'deny', 'no-delete']);
        assert.equal(record.streamed, true);
        assert.equal(record.status, mode === 'error' ? 403 : 200);
        if (mode !== 'error') {
          assert.deepEqual(verdicts(record), [
            ['delete_file', 'deny', 'no-delete'],
            ['get_weather', 'allow', 'all'],
          ]);
          assert.ok(record.prompt_tokens > 0 && record.completion_tokens > 0);
        } else assert.equal(record.decision, 'deny');
      });

      test('stream: true in error mode keeps what was released before the denial', async () => {
        const { options } = tagged([WEATHER, DELETE]);
        const stream = await s.openai.responses.create({ model: 'gpt-4.1', input: QUESTION, tools: RESPONSES_TOOLS, stream: true }, options);
        const { events, error } = await drain(stream);
        const itemsDone = events.filter((e): e is OpenAI.Responses.ResponseOutputItemDoneEvent => e.type === 'response.output_item.done');
        assert.equal(itemsDone[0]?.item.type === 'function_call' && itemsDone[0].item.name, 'get_weather');
        if (mode === 'error') {
          assert.ok(error instanceof OpenAI.APIError);
          assert.equal(itemsDone.length, 1);
        } else {
          assert.equal(error, undefined);
          assert.equal(itemsDone.length, mode === 'replace' ? 2 : 1);
        }
      });

      test('responses.stream(...).finalResponse()', async () => {
        const { agent, options } = tagged([DELETE, WEATHER]);
        const stream = s.openai.responses.stream({ model: 'gpt-4.1', input: QUESTION, tools: RESPONSES_TOOLS }, options);
        if (mode === 'error') {
          const err = await rejection(stream.finalResponse());
          assert.ok(err instanceof OpenAI.APIError);
          assert.equal(err.code, 'tool_call_denied');
          assert.match(err.message, /delete_file/);
        } else {
          const final = await stream.finalResponse();
          assert.equal(final.status, 'completed');
          assert.deepEqual(callSummary(final.output), [['get_weather', WEATHER.arguments]]);
          // the SDK parses the arguments of strict tools
          assert.deepEqual((functionCalls(final.output)[0] as { parsed_arguments?: unknown }).parsed_arguments, WEATHER.arguments);
          if (mode === 'replace') {
            assert.equal(final.output.length, 2);
            assert.match(noticeItem(final.output[0]), NOTICE);
            assert.match(final.output_text, NOTICE);
          } else {
            assert.equal(final.output.length, 1);
            assert.equal(final.output_text, '');
          }
        }
        const record = await recordOf(s.h, agent);
        assert.deepEqual(verdicts(record)[0], ['delete_file', 'deny', 'no-delete']);
      });

      test('responses.stream(...) text: the snapshot and the final text agree', async () => {
        const stream = s.openai.responses.stream({ model: 'gpt-4.1-mini', input: 'Stream me something' });
        let snapshot = '';
        stream.on('response.output_text.delta', (event) => (snapshot = event.snapshot));
        const final = await stream.finalResponse();
        assert.equal(final.output_text, 'Answer 1 to: Stream me something');
        assert.equal(snapshot, final.output_text);
      });
    });

    describe('Anthropic Messages (@anthropic-ai/sdk)', () => {
      test('allowed tool_use, not streamed: intact; provider key and anthropic-version upstream; audit', async () => {
        const { agent, options } = tagged();
        const message = await s.anthropic.messages.create({ model: CLAUDE, max_tokens: 100, messages: [{ role: 'user', content: QUESTION }], tools: ANTHROPIC_TOOLS }, options);
        assert.equal(message.stop_reason, 'tool_use');
        assert.deepEqual(blockSummary(message.content), [['tool_use', 'get_weather', WEATHER_ARGS]]);
        assert.match(toolUses(message.content)[0]!.id, /^toolu_01/);

        // the SDK sends its gateway key as a bearer token and names its own API version, which the upstream gets
        const sent = s.anthropicSent.at(-1)!;
        assert.equal(sent.get('authorization'), `Bearer ${s.key}`);
        const version = sent.get('anthropic-version');
        assert.match(version ?? '', /^\d{4}-\d{2}-\d{2}$/);
        const upstream = s.anthropicFake.requests.at(-1)!;
        assert.equal(upstream.headers['x-api-key'], ANTHROPIC_KEY);
        assert.equal(upstream.headers['anthropic-version'], version);
        assert.equal(upstream.headers.authorization, undefined);
        assert.ok(!JSON.stringify(upstream.headers).includes(s.key));

        const record = await recordOf(s.h, agent);
        assert.equal(record.action, 'llm:messages');
        assert.equal(record.resource, `anthropic/${CLAUDE}`);
        assert.equal(record.decision, 'allow');
        assert.equal(record.status, 200);
        assert.deepEqual(verdicts(record), [['get_weather', 'allow', 'all']]);
        assert.deepEqual([record.prompt_tokens, record.completion_tokens], [message.usage.input_tokens, message.usage.output_tokens]);
        assert.equal(record.total_tokens, message.usage.input_tokens + message.usage.output_tokens);
      });

      test('a denied tool_use next to an allowed one, not streamed', async () => {
        const { agent, options } = tagged([WEATHER, DELETE]);
        const request = s.anthropic.messages.create({ model: CLAUDE, max_tokens: 100, messages: [{ role: 'user', content: QUESTION }], tools: ANTHROPIC_TOOLS }, options);
        if (mode === 'error') {
          const err = await rejection(request);
          assert.ok(err instanceof Anthropic.PermissionDeniedError, `expected PermissionDeniedError, got ${String(err)}`);
          assert.equal(err.status, 403);
          assert.equal((err.error as any).type, 'error');
          const inner = (err.error as any).error;
          assert.equal(inner.type, 'permission_error');
          assert.match(inner.message, /delete_file/);
          assert.equal(inner.code, 'tool_call_denied');
        } else {
          const message = await request;
          assert.equal(message.stop_reason, 'tool_use');
          const [first, ...rest] = blockSummary(message.content);
          assert.deepEqual(first, ['tool_use', 'get_weather', WEATHER.arguments]);
          if (mode === 'replace') {
            assert.equal(rest.length, 1);
            assert.equal(rest[0]![0], 'text');
            assert.match(rest[0]![1] as string, NOTICE);
          } else assert.deepEqual(rest, []);
        }
        const record = await recordOf(s.h, agent);
        assert.deepEqual(verdicts(record), [
          ['get_weather', 'allow', 'all'],
          ['delete_file', 'deny', 'no-delete'],
        ]);
        assert.equal(record.status, mode === 'error' ? 403 : 200);
      });

      test('only a denied tool_use, not streamed: stop_reason is no longer tool_use', async () => {
        const { options } = tagged([DELETE]);
        const request = s.anthropic.messages.create({ model: CLAUDE, max_tokens: 100, messages: [{ role: 'user', content: QUESTION }], tools: ANTHROPIC_TOOLS }, options);
        if (mode === 'error') {
          assert.ok((await rejection(request)) instanceof Anthropic.PermissionDeniedError);
          return;
        }
        const message = await request;
        assert.equal(message.stop_reason, 'end_turn');
        assert.deepEqual(toolUses(message.content), []);
        if (mode === 'replace') {
          assert.equal(message.content.length, 1);
          assert.match((message.content[0] as Anthropic.TextBlock).text, NOTICE);
        } else assert.deepEqual(message.content, []);
      });

      test('stream: true: raw events, a denied tool_use before an allowed one; usage from message_start/message_delta', async () => {
        const { agent, options } = tagged([DELETE, WEATHER]);
        const stream = await s.anthropic.messages.create(
          { model: CLAUDE, max_tokens: 100, messages: [{ role: 'user', content: QUESTION }], tools: ANTHROPIC_TOOLS, stream: true },
          options,
        );
        const { events, error } = await drain(stream);
        for (const event of events) {
          assert.ok(!(event.type === 'content_block_start' && event.content_block.type === 'tool_use' && event.content_block.name === 'delete_file'), 'leaked');
          assert.ok(!(event.type === 'content_block_delta' && event.delta.type === 'input_json_delta' && event.delta.partial_json.includes('tmp')), 'leaked input');
        }
        const record = await recordOf(s.h, agent);
        assert.equal(record.streamed, true);
        assert.deepEqual(verdicts(record)[0], ['delete_file', 'deny', 'no-delete']);
        if (mode === 'error') {
          assert.ok(error instanceof Anthropic.APIError, `expected an APIError, got ${String(error)}`);
          const body = error.error as any;
          assert.equal(body.type, 'error');
          assert.equal(body.error.type, 'permission_error');
          assert.match(body.error.message, /delete_file/);
          assert.ok(!events.some((e) => e.type === 'message_stop'));
          assert.equal(record.status, 403);
          return;
        }
        assert.equal(error, undefined);
        const starts = events.filter((e): e is Anthropic.RawContentBlockStartEvent => e.type === 'content_block_start');
        const messageDelta = events.find((e): e is Anthropic.RawMessageDeltaEvent => e.type === 'message_delta')!;
        assert.equal(messageDelta.delta.stop_reason, 'tool_use');
        if (mode === 'replace') {
          assert.deepEqual(
            starts.map((e) => [e.index, e.content_block.type]),
            [
              [0, 'text'],
              [1, 'tool_use'],
            ],
          );
          const text = events
            .filter((e): e is Anthropic.RawContentBlockDeltaEvent => e.type === 'content_block_delta' && e.index === 0)
            .map((e) => (e.delta.type === 'text_delta' ? e.delta.text : ''))
            .join('');
          assert.match(text, NOTICE);
        } else {
          assert.deepEqual(
            starts.map((e) => [e.index, e.content_block.type]),
            [[0, 'tool_use']],
          );
          for (const e of events) if ('index' in e) assert.equal(e.index, 0);
        }
        const start = events.find((e): e is Anthropic.RawMessageStartEvent => e.type === 'message_start')!;
        assert.deepEqual(verdicts(record), [
          ['delete_file', 'deny', 'no-delete'],
          ['get_weather', 'allow', 'all'],
        ]);
        assert.equal(record.prompt_tokens, start.message.usage.input_tokens);
        assert.equal(record.completion_tokens, messageDelta.usage.output_tokens);
        assert.ok(record.completion_tokens > 1, 'the final output count, not message_start’s');
      });

      test('messages.stream(...).finalMessage(), allowed and denied tool_use', async () => {
        const { agent, options } = tagged([WEATHER, DELETE]);
        const stream = s.anthropic.messages.stream({ model: CLAUDE, max_tokens: 100, messages: [{ role: 'user', content: QUESTION }], tools: ANTHROPIC_TOOLS }, options);
        if (mode === 'error') {
          const err = await rejection(stream.finalMessage());
          assert.ok(err instanceof Anthropic.APIError, `expected an APIError, got ${String(err)}`);
          assert.equal((err.error as any)?.error?.type, 'permission_error');
        } else {
          const message = await stream.finalMessage();
          assert.equal(message.stop_reason, 'tool_use');
          const summary = blockSummary(message.content);
          assert.deepEqual(summary[0], ['tool_use', 'get_weather', WEATHER.arguments]);
          if (mode === 'replace') {
            assert.equal(summary.length, 2);
            assert.equal(summary[1]![0], 'text');
            assert.match(summary[1]![1] as string, NOTICE);
          } else assert.equal(summary.length, 1);
          assert.ok(message.usage.output_tokens > 1);
        }
        const record = await recordOf(s.h, agent);
        assert.deepEqual(verdicts(record), [
          ['get_weather', 'allow', 'all'],
          ['delete_file', 'deny', 'no-delete'],
        ]);
        if (mode !== 'error') assert.ok(record.prompt_tokens > 0 && record.completion_tokens > 1);
      });

      test('messages.stream(...): only a denied tool_use', async () => {
        const { options } = tagged([DELETE]);
        const stream = s.anthropic.messages.stream({ model: CLAUDE, max_tokens: 100, messages: [{ role: 'user', content: QUESTION }], tools: ANTHROPIC_TOOLS }, options);
        if (mode === 'error') {
          assert.ok((await rejection(stream.finalMessage())) instanceof Anthropic.APIError);
          return;
        }
        const message = await stream.finalMessage();
        assert.equal(message.stop_reason, 'end_turn');
        assert.deepEqual(toolUses(message.content), []);
        if (mode === 'replace') {
          assert.equal(message.content.length, 1);
          assert.match((message.content[0] as Anthropic.TextBlock).text, NOTICE);
        } else assert.deepEqual(message.content, []);
      });

      test('messages.stream(...) text', async () => {
        const stream = s.anthropic.messages.stream({ model: CLAUDE, max_tokens: 100, messages: [{ role: 'user', content: 'Tell me a story' }] });
        const pieces: string[] = [];
        stream.on('text', (text) => pieces.push(text));
        const message = await stream.finalMessage();
        assert.ok(pieces.length > 1);
        assert.deepEqual(blockSummary(message.content), [['text', 'Answer 1 to: Tell me a story']]);
        assert.equal(message.stop_reason, 'end_turn');
      });
    });
  });
}

describe('request policies and routes (deny mode independent)', () => {
  let s: Setup;
  before(async () => {
    s = await setup({});
  });
  after(() => teardown(s));

  test('Responses: max_output_tokens over the limit is denied before the upstream sees it', async () => {
    const seen = s.openaiFake.requests.length;
    const { agent, options } = tagged();
    const err = await rejection(s.openai.responses.create({ model: 'gpt-4.1', input: 'Hello', max_output_tokens: 1000 }, options));
    assert.ok(err instanceof OpenAI.PermissionDeniedError);
    assert.equal(err.code, 'policy_denied');
    assert.equal((err.error as any).rule, 'small-answers');
    assert.equal(s.openaiFake.requests.length, seen);
    const record = await recordOf(s.h, agent);
    assert.deepEqual([record.action, record.resource, record.decision, record.status, record.rule], ['llm:responses', 'openai/gpt-4.1', 'deny', 403, 'small-answers']);
    // the same request within the limit passes
    await s.openai.responses.create({ model: 'gpt-4.1', input: 'Hello', max_output_tokens: 100 });
    assert.equal(s.openaiFake.requests.length, seen + 1);
  });

  test('Responses: a denied model, streamed and not', async () => {
    const seen = s.openaiFake.requests.length;
    const { agent, options } = tagged();
    const err = await rejection(s.openai.responses.create({ model: 'bad-model', input: 'Hello' }, options));
    assert.ok(err instanceof OpenAI.PermissionDeniedError);
    assert.equal(err.code, 'policy_denied');
    assert.equal((err.error as any).rule, 'no-bad-model');
    const streamed = await rejection(s.openai.responses.create({ model: 'bad-model', input: 'Hello', stream: true }));
    assert.ok(streamed instanceof OpenAI.PermissionDeniedError);
    assert.equal(s.openaiFake.requests.length, seen);
    const record = await recordOf(s.h, agent);
    assert.deepEqual([record.resource, record.model, record.decision, record.status], ['openai/bad-model', 'bad-model', 'deny', 403]);
  });

  test('Responses: bad gateway key is a 401 AuthenticationError', async () => {
    const bad = new OpenAI({ baseURL: `${s.h.url}/openai/v1`, apiKey: 'cz_live_not-a-real-key', maxRetries: 0 });
    const err = await rejection(bad.responses.create({ model: 'gpt-4.1', input: 'Hello' }));
    assert.ok(err instanceof OpenAI.AuthenticationError);
    assert.equal(err.code, 'invalid_api_key');
  });

  test('OpenAI: models.list and models.retrieve through the gateway, audited', async () => {
    const list = tagged();
    const ids: string[] = [];
    for await (const model of s.openai.models.list(list.options)) ids.push(model.id);
    assert.ok(ids.includes('gpt-4.1'));
    const listRecord = await recordOf(s.h, list.agent);
    assert.deepEqual([listRecord.action, listRecord.resource, listRecord.status], ['llm:models.list', 'openai/*', 200]);
    const one = tagged();
    assert.equal((await s.openai.models.retrieve('gpt-4.1-mini', one.options)).id, 'gpt-4.1-mini');
    const oneRecord = await recordOf(s.h, one.agent);
    assert.deepEqual([oneRecord.action, oneRecord.resource], ['llm:models.list', 'openai/gpt-4.1-mini']);
  });

  test('Responses: input items, function_call_output round trip', async () => {
    const first = await s.openai.responses.create({ model: 'gpt-4.1', input: [{ role: 'user', content: [{ type: 'input_text', text: QUESTION }] }], tools: RESPONSES_TOOLS });
    const call = functionCalls(first.output)[0]!;
    const second = await s.openai.responses.create({
      model: 'gpt-4.1',
      tools: RESPONSES_TOOLS,
      input: [{ role: 'user', content: QUESTION }, call, { type: 'function_call_output', call_id: call.call_id, output: 'sunny' }],
    });
    assert.equal(second.output_text, 'The tool get_weather returned: "sunny"');
  });

  test('Anthropic: max_tokens over the limit is a 403 in Anthropic’s shape, not forwarded', async () => {
    const seen = s.anthropicFake.requests.length;
    const { agent, options } = tagged();
    const err = await rejection(s.anthropic.messages.create({ model: CLAUDE, max_tokens: 1000, messages: [{ role: 'user', content: 'Hello' }] }, options));
    assert.ok(err instanceof Anthropic.PermissionDeniedError);
    assert.equal((err.error as any).type, 'error');
    const inner = (err.error as any).error;
    assert.equal(inner.type, 'permission_error');
    assert.equal(inner.code, 'policy_denied');
    assert.equal(inner.rule, 'small-answers');
    assert.equal(typeof inner.message, 'string');
    const streamed = await rejection(s.anthropic.messages.stream({ model: CLAUDE, max_tokens: 1000, messages: [{ role: 'user', content: 'Hello' }] }).finalMessage());
    assert.ok(streamed instanceof Anthropic.PermissionDeniedError);
    assert.equal(s.anthropicFake.requests.length, seen);
    const record = await recordOf(s.h, agent);
    assert.deepEqual([record.action, record.resource, record.decision, record.status, record.rule], ['llm:messages', `anthropic/${CLAUDE}`, 'deny', 403, 'small-answers']);
  });

  test('Anthropic: a denied model is a 403 PermissionDeniedError', async () => {
    const seen = s.anthropicFake.requests.length;
    const err = await rejection(s.anthropic.messages.create({ model: 'bad-model', max_tokens: 10, messages: [{ role: 'user', content: 'Hello' }] }));
    assert.ok(err instanceof Anthropic.PermissionDeniedError);
    assert.equal((err.error as any).error.rule, 'no-bad-model');
    assert.equal(s.anthropicFake.requests.length, seen);
  });

  test('Anthropic: a bad gateway key is a 401 AuthenticationError in Anthropic’s shape', async () => {
    const { agent, options } = tagged();
    const bad = new Anthropic({ baseURL: `${s.h.url}/anthropic`, apiKey: 'cz_live_not-a-real-key', maxRetries: 0 });
    const err = await rejection(bad.messages.create({ model: CLAUDE, max_tokens: 10, messages: [{ role: 'user', content: 'Hello' }] }, options));
    assert.ok(err instanceof Anthropic.AuthenticationError);
    assert.equal((err.error as any).type, 'error');
    assert.equal((err.error as any).error.type, 'authentication_error');
    const record = await recordOf(s.h, agent);
    assert.equal(record.status, 401);
    assert.equal(record.decision, 'deny');
  });

  test('Anthropic: the gateway key in x-api-key works too; the client’s anthropic-version is forwarded, else the default', async () => {
    const call = (headers: Record<string, string>) =>
      fetch(`${s.h.url}/anthropic/v1/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': s.key, ...headers },
        body: JSON.stringify({ model: CLAUDE, max_tokens: 20, messages: [{ role: 'user', content: 'Hello' }] }),
      });
    const versioned = await call({ 'anthropic-version': '2023-01-01' });
    assert.equal(versioned.status, 200);
    assert.equal((await versioned.json()).type, 'message');
    let upstream = s.anthropicFake.requests.at(-1)!;
    assert.equal(upstream.headers['anthropic-version'], '2023-01-01');
    assert.equal(upstream.headers['x-api-key'], ANTHROPIC_KEY);
    const bare = await call({});
    assert.equal(bare.status, 200);
    upstream = s.anthropicFake.requests.at(-1)!;
    assert.equal(upstream.headers['anthropic-version'], '2023-06-01');
    assert.ok(!JSON.stringify(upstream.headers).includes(s.key));
  });

  test('Anthropic: countTokens and models.list work through the gateway and are audited', async () => {
    const count = tagged();
    const params = { model: CLAUDE, system: 'Be brief.', messages: [{ role: 'user' as const, content: 'Hello' }], tools: ANTHROPIC_TOOLS };
    const counted = await s.anthropic.messages.countTokens(params, count.options);
    const message = await s.anthropic.messages.create({ ...params, max_tokens: 50 });
    assert.deepEqual(counted, { input_tokens: message.usage.input_tokens });
    const countRecord = await recordOf(s.h, count.agent);
    assert.deepEqual(
      [countRecord.action, countRecord.resource, countRecord.decision, countRecord.status],
      ['llm:messages.count_tokens', `anthropic/${CLAUDE}`, 'allow', 200],
    );

    const list = tagged();
    const ids: string[] = [];
    for await (const model of s.anthropic.models.list({}, list.options)) ids.push(model.id);
    assert.ok(ids.includes('claude-sonnet-4-5-20250929'));
    const listRecord = await recordOf(s.h, list.agent);
    assert.deepEqual([listRecord.action, listRecord.resource, listRecord.decision, listRecord.status], ['llm:models.list', 'anthropic/*', 'allow', 200]);

    const one = tagged();
    const model = await s.anthropic.models.retrieve('claude-sonnet-4-5-20250929', {}, one.options);
    assert.equal(model.display_name, 'Claude Sonnet 4.5');
    const oneRecord = await recordOf(s.h, one.agent);
    assert.deepEqual([oneRecord.action, oneRecord.resource], ['llm:models.list', 'anthropic/claude-sonnet-4-5-20250929']);
    const notFound = await rejection(s.anthropic.models.retrieve('claude-0'));
    assert.ok(notFound instanceof Anthropic.NotFoundError);
    assert.equal((notFound.error as any).error.type, 'not_found_error');
  });

  test('Anthropic: a tool_result round trip', async () => {
    const question: Anthropic.MessageParam = { role: 'user', content: QUESTION };
    const first = await s.anthropic.messages.create({ model: CLAUDE, max_tokens: 100, messages: [question], tools: ANTHROPIC_TOOLS });
    const use = toolUses(first.content)[0]!;
    const answer = await s.anthropic.messages.create({
      model: CLAUDE,
      max_tokens: 100,
      tools: ANTHROPIC_TOOLS,
      messages: [question, { role: 'assistant', content: first.content }, { role: 'user', content: [{ type: 'tool_result', tool_use_id: use.id, content: 'sunny' }] }],
    });
    assert.deepEqual(blockSummary(answer.content), [['text', 'The tool get_weather returned: "sunny"']]);
  });

  test('PII detect (default): forwarded unchanged, detector counts audited', async () => {
    const { agent, options } = tagged();
    await s.anthropic.messages.create({ model: CLAUDE, max_tokens: 50, system: 'Write to jane.doe@corp.com', messages: [{ role: 'user', content: 'Hello' }] }, options);
    assert.equal((s.anthropicFake.requests.at(-1)!.body as any).system, 'Write to jane.doe@corp.com');
    const record = await recordOf(s.h, agent);
    assert.deepEqual(record.details.pii, { action: 'detect', detectors: { email: 1 } });
  });
});

const EMAIL = 'jane.doe@corp.com';
const CARD = '4111 1111 1111 1111';

describe('CZ_GATEWAY_PII_ACTION=block', () => {
  let s: Setup;
  before(async () => {
    s = await setup({ CZ_GATEWAY_PII_ACTION: 'block' });
  });
  after(() => teardown(s));

  const responsesInputs: Array<[string, Partial<OpenAI.Responses.ResponseCreateParamsNonStreaming>]> = [
    ['input string', { input: `Mail ${EMAIL} please` }],
    ['input_text part', { input: [{ role: 'user', content: [{ type: 'input_text', text: `Charge card ${CARD}` }] }] }],
    ['message item with string content', { input: [{ type: 'message', role: 'user', content: `Mail ${EMAIL}` }] }],
    ['instructions', { instructions: `Always cc ${EMAIL}`, input: 'Hello' }],
    [
      'function_call_output',
      {
        input: [
          { role: 'user', content: 'Look me up' },
          { type: 'function_call', call_id: 'call_1', name: 'get_weather', arguments: '{}' },
          { type: 'function_call_output', call_id: 'call_1', output: `The user is ${EMAIL}` },
        ],
      },
    ],
    [
      'function_call_output with input_text parts',
      {
        input: [
          { role: 'user', content: 'Look me up' },
          { type: 'function_call', call_id: 'call_1', name: 'get_weather', arguments: '{}' },
          { type: 'function_call_output', call_id: 'call_1', output: [{ type: 'input_text', text: `The user is ${EMAIL}` }] },
        ],
      },
    ],
  ];
  for (const [where, params] of responsesInputs) {
    test(`Responses: PII in ${where} is refused and audited`, async () => {
      const seen = s.openaiFake.requests.length;
      const { agent, options } = tagged();
      const err = await rejection(
        s.openai.responses.create({ model: 'gpt-4.1', input: 'Hello', ...params } as OpenAI.Responses.ResponseCreateParamsNonStreaming, options),
        `PII in ${where} was forwarded to the upstream instead of being refused`,
      );
      assert.ok(err instanceof OpenAI.PermissionDeniedError);
      assert.equal(err.code, 'dlp_blocked');
      assert.equal(s.openaiFake.requests.length, seen);
      const record = await recordOf(s.h, agent);
      assert.deepEqual([record.action, record.decision, record.status, record.reason_code], ['llm:responses', 'deny', 403, 'DLP_BLOCKED']);
      assert.equal(record.details.pii.action, 'block');
      assert.ok(!JSON.stringify(record).includes(EMAIL));
    });
  }

  const anthropicInputs: Array<[string, Partial<Anthropic.MessageCreateParamsNonStreaming>]> = [
    ['system string', { system: `Always cc ${EMAIL}` }],
    ['system text blocks', { system: [{ type: 'text', text: `Card on file: ${CARD}` }] }],
    ['content text blocks', { messages: [{ role: 'user', content: [{ type: 'text', text: `Mail ${EMAIL}` }] }] }],
    ['string content', { messages: [{ role: 'user', content: `Charge ${CARD}` }] }],
    [
      'tool_result content',
      {
        messages: [
          { role: 'user', content: 'Look me up' },
          { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_01abc', name: 'get_weather', input: {} }] },
          { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_01abc', content: [{ type: 'text', text: `user: ${EMAIL}` }] }] },
        ],
      },
    ],
    [
      'a plain-text document',
      { messages: [{ role: 'user', content: [{ type: 'document', source: { type: 'text', media_type: 'text/plain', data: `Contact: ${EMAIL}` } }, { type: 'text', text: 'Summarise' }] }] },
    ],
    [
      'a document of content blocks',
      { messages: [{ role: 'user', content: [{ type: 'document', source: { type: 'content', content: [{ type: 'text', text: `Card ${CARD}` }] } }, { type: 'text', text: 'Summarise' }] }] },
    ],
  ];
  for (const [where, params] of anthropicInputs) {
    test(`Anthropic: PII in ${where} is refused in Anthropic’s shape and audited`, async () => {
      const seen = s.anthropicFake.requests.length;
      const { agent, options } = tagged();
      const body = { model: CLAUDE, max_tokens: 50, messages: [{ role: 'user' as const, content: 'Hello' }], ...params };
      const err = await rejection(
        s.anthropic.messages.create(body as Anthropic.MessageCreateParamsNonStreaming, options),
        `PII in ${where} was forwarded to the upstream instead of being refused`,
      );
      assert.ok(err instanceof Anthropic.PermissionDeniedError);
      assert.equal((err.error as any).type, 'error');
      assert.equal((err.error as any).error.type, 'permission_error');
      assert.equal((err.error as any).error.code, 'dlp_blocked');
      assert.equal(s.anthropicFake.requests.length, seen);
      const record = await recordOf(s.h, agent);
      assert.deepEqual([record.action, record.decision, record.status, record.reason_code], ['llm:messages', 'deny', 403, 'DLP_BLOCKED']);
    });
  }

  test('Anthropic: a streamed request is refused before it starts', async () => {
    const seen = s.anthropicFake.requests.length;
    const err = await rejection(s.anthropic.messages.stream({ model: CLAUDE, max_tokens: 50, system: `cc ${EMAIL}`, messages: [{ role: 'user', content: 'Hello' }] }).finalMessage());
    assert.ok(err instanceof Anthropic.PermissionDeniedError);
    assert.equal(s.anthropicFake.requests.length, seen);
  });

  test('Anthropic: countTokens is scanned too', async () => {
    const err = await rejection(s.anthropic.messages.countTokens({ model: CLAUDE, system: `cc ${EMAIL}`, messages: [{ role: 'user', content: 'Hello' }] }));
    assert.ok(err instanceof Anthropic.PermissionDeniedError);
  });

  test('clean prompts pass', async () => {
    const response = await s.openai.responses.create({ model: 'gpt-4.1', input: 'Hello' });
    assert.equal(response.output_text, 'Answer 1 to: Hello');
    const message = await s.anthropic.messages.create({ model: CLAUDE, max_tokens: 50, messages: [{ role: 'user', content: 'Hello' }] });
    assert.equal(message.stop_reason, 'end_turn');
  });
});

describe('CZ_GATEWAY_PII_ACTION=mask', () => {
  let s: Setup;
  before(async () => {
    s = await setup({ CZ_GATEWAY_PII_ACTION: 'mask' });
  });
  after(() => teardown(s));

  const upstreamBody = (fake: FakeVendorServer) => fake.requests.at(-1)!.body as any;

  test('Responses: the upstream receives masked input (string, parts, instructions, tool output)', async () => {
    const { agent, options } = tagged();
    const response = await s.openai.responses.create({ model: 'gpt-4.1', instructions: `cc ${EMAIL}. `, input: `Mail ${EMAIL} please` }, options);
    assert.equal(response.output_text, 'Answer 1 to: cc [REDACTED-EMAIL]. Mail [REDACTED-EMAIL] please');
    assert.equal(upstreamBody(s.openaiFake).input, 'Mail [REDACTED-EMAIL] please');
    assert.equal(upstreamBody(s.openaiFake).instructions, 'cc [REDACTED-EMAIL]. ');
    const record = await recordOf(s.h, agent);
    assert.deepEqual(record.details.pii, { action: 'mask', detectors: { email: 2 } });

    await s.openai.responses.create({
      model: 'gpt-4.1',
      input: [
        { role: 'user', content: [{ type: 'input_text', text: `Charge card ${CARD}` }] },
        { type: 'function_call', call_id: 'call_1', name: 'get_weather', arguments: '{}' },
        { type: 'function_call_output', call_id: 'call_1', output: `The user is ${EMAIL}` },
      ],
    });
    const input = upstreamBody(s.openaiFake).input;
    assert.equal(input[0].content[0].text, 'Charge card [REDACTED-CREDIT_CARD]');
    assert.equal(input[2].output, 'The user is [REDACTED-EMAIL]');
  });

  test('Responses: function_call_output given as input_text parts is masked', async () => {
    await s.openai.responses.create({
      model: 'gpt-4.1',
      input: [
        { role: 'user', content: 'Look me up' },
        { type: 'function_call', call_id: 'call_1', name: 'get_weather', arguments: '{}' },
        { type: 'function_call_output', call_id: 'call_1', output: [{ type: 'input_text', text: `The user is ${EMAIL}` }] },
      ],
    });
    assert.deepEqual(upstreamBody(s.openaiFake).input[2].output, [{ type: 'input_text', text: 'The user is [REDACTED-EMAIL]' }]);
  });

  test('Responses, streamed: masked too', async () => {
    const stream = s.openai.responses.stream({ model: 'gpt-4.1', input: [{ role: 'user', content: [{ type: 'input_text', text: `Mail ${EMAIL}` }] }] });
    const final = await stream.finalResponse();
    assert.equal(final.output_text, 'Answer 1 to: Mail [REDACTED-EMAIL]');
    assert.equal(upstreamBody(s.openaiFake).input[0].content[0].text, 'Mail [REDACTED-EMAIL]');
  });

  test('Anthropic: the upstream receives masked system and content blocks', async () => {
    const message = await s.anthropic.messages.create({
      model: CLAUDE,
      max_tokens: 100,
      system: [{ type: 'text', text: `Card ${CARD}. ` }],
      messages: [{ role: 'user', content: [{ type: 'text', text: `Mail ${EMAIL}` }] }],
    });
    const body = upstreamBody(s.anthropicFake);
    assert.deepEqual(body.system, [{ type: 'text', text: 'Card [REDACTED-CREDIT_CARD]. ' }]);
    assert.deepEqual(body.messages[0].content, [{ type: 'text', text: 'Mail [REDACTED-EMAIL]' }]);
    assert.deepEqual(blockSummary(message.content), [['text', 'Answer 1 to: Card [REDACTED-CREDIT_CARD]. Mail [REDACTED-EMAIL]']]);

    await s.anthropic.messages.create({ model: CLAUDE, max_tokens: 50, system: `cc ${EMAIL}`, messages: [{ role: 'user', content: `Charge ${CARD}` }] });
    assert.equal(upstreamBody(s.anthropicFake).system, 'cc [REDACTED-EMAIL]');
    assert.equal(upstreamBody(s.anthropicFake).messages[0].content, 'Charge [REDACTED-CREDIT_CARD]');
  });

  test('Anthropic: a plain-text document is masked', async () => {
    const message = await s.anthropic.messages.create({
      model: CLAUDE,
      max_tokens: 100,
      messages: [{ role: 'user', content: [{ type: 'document', source: { type: 'text', media_type: 'text/plain', data: `Contact: ${EMAIL}. ` } }, { type: 'text', text: 'Summarise' }] }],
    });
    assert.equal(upstreamBody(s.anthropicFake).messages[0].content[0].source.data, 'Contact: [REDACTED-EMAIL]. ');
    assert.deepEqual(blockSummary(message.content), [['text', 'Answer 1 to: Contact: [REDACTED-EMAIL]. Summarise']]);
  });

  test('Anthropic, streamed: masked too, and tool_result content', async () => {
    const stream = s.anthropic.messages.stream({
      model: CLAUDE,
      max_tokens: 100,
      messages: [
        { role: 'user', content: 'Look me up' },
        { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_01abc', name: 'get_weather', input: {} }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_01abc', content: `user: ${EMAIL}` }] },
      ],
      tools: ANTHROPIC_TOOLS,
    });
    const message = await stream.finalMessage();
    assert.deepEqual(blockSummary(message.content), [['text', 'The tool get_weather returned: "user: [REDACTED-EMAIL]"']]);
    assert.equal(upstreamBody(s.anthropicFake).messages[2].content[0].content, 'user: [REDACTED-EMAIL]');
  });
});

/**
 * Anthropic's published stream example reports only `output_tokens` in message_delta (the SDK types its
 * `input_tokens` as nullable): the input count is then only in message_start's `message.usage`, and must reach the
 * audit however the events are cut into chunks.
 */
describe('Anthropic stream usage split between message_start and message_delta', () => {
  let upstream: Server;
  let h: Harness;
  let anthropic: Anthropic;
  let cut: 'one-write' | 'split-start' = 'one-write';
  const ev = (type: string, fields: Record<string, unknown> = {}) => `event: ${type}\ndata: ${JSON.stringify({ type, ...fields })}\n\n`;

  before(async () => {
    upstream = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        const tool = req.headers['x-stub-tool'] === 'yes';
        const start = ev('message_start', {
          message: { id: 'msg_01stub', type: 'message', role: 'assistant', model: CLAUDE, content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 42, output_tokens: 1 } },
        });
        const block = tool
          ? ev('content_block_start', { index: 0, content_block: { type: 'tool_use', id: 'toolu_01stub', name: 'get_weather', input: {} } }) +
            ev('content_block_delta', { index: 0, delta: { type: 'input_json_delta', partial_json: JSON.stringify(WEATHER.arguments) } }) +
            ev('content_block_stop', { index: 0 })
          : ev('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }) +
            ev('content_block_delta', { index: 0, delta: { type: 'text_delta', text: 'Hello!' } }) +
            ev('content_block_stop', { index: 0 });
        const end = ev('message_delta', { delta: { stop_reason: tool ? 'tool_use' : 'end_turn', stop_sequence: null }, usage: { output_tokens: 7 } }) + ev('message_stop');
        res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8' });
        if (cut === 'one-write') return res.end(start + block + end);
        res.write(start.slice(0, 40));
        setTimeout(() => res.end(start.slice(40) + block + end), 10);
      });
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    const { port } = upstream.address() as AddressInfo;
    h = await startHarness({
      env: { CZ_GATEWAY_ANTHROPIC_ENABLED: 'true', CZ_GATEWAY_ANTHROPIC_API_KEY: ANTHROPIC_KEY, CZ_GATEWAY_ANTHROPIC_BASE_URL: `http://127.0.0.1:${port}` },
    });
    await h.createPolicy(POLICY);
    anthropic = new Anthropic({ baseURL: `${h.url}/anthropic`, apiKey: (await h.createKey('usage')).key, maxRetries: 0 });
  });
  after(async () => {
    await h.close();
    await new Promise<void>((resolve) => upstream.close(() => resolve()));
  });

  for (const [name, stubCut, tool] of [
    ['the whole stream in one chunk', 'one-write', false],
    ['the whole stream with a tool_use in one chunk', 'one-write', true],
    ['message_start cut across chunks', 'split-start', false],
  ] as const) {
    test(name, async () => {
      cut = stubCut;
      const { agent, options } = tagged();
      options.headers['x-stub-tool'] = tool ? 'yes' : 'no';
      const message = await anthropic.messages
        .stream({ model: CLAUDE, max_tokens: 50, messages: [{ role: 'user', content: 'Hello' }], tools: ANTHROPIC_TOOLS }, options)
        .finalMessage();
      assert.equal(message.usage.input_tokens, 42);
      assert.equal(message.usage.output_tokens, 7);
      const record = await recordOf(h, agent);
      assert.deepEqual([record.prompt_tokens, record.completion_tokens, record.total_tokens], [42, 7, 49]);
    });
  }
});
