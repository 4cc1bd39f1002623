/**
 * Mistral agents completions and Conversations through the gateway, with the official Mistral SDK pointed at
 * `/mistral`: allowed answers reach the client and parse; a forced `delete_file` call is governed in each deny mode
 * (replace, strip, error), streamed and not, on agents/completions and on conversations start, append and restart;
 * the audit record names the action, the resource (agent or model), each tool-call verdict and the usage; a
 * max_tokens over the limit (Conversations: `completion_args.max_tokens`) and PII in `inputs` are refused before the
 * upstream sees them.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Mistral } from '@mistralai/mistralai';
import type * as components from '@mistralai/mistralai/models/components';
import { MistralError } from '@mistralai/mistralai/models/errors';
import { AGENT_MODEL } from '../src/fake-mistral/agents.js';
import { eventually, startHarness, type Harness } from './support/harness.js';

const POLICY = {
  name: 'agents-governance',
  rules: [
    { id: 'llm', effect: 'allow', action: 'llm:*', resource: 'mistral/*' },
    { id: 'tools', effect: 'allow', action: 'tool:call', resource: 'mistral/tools/*' },
    { id: 'no-delete', effect: 'deny', action: 'tool:call', resource: '*/tools/delete_file' },
    { id: 'small-only', effect: 'deny', action: 'llm:*', resource: '*', conditions: { max_tokens_gt: 100 } },
  ],
};

const AGENT = 'ag_ops';
const MODEL = 'mistral-small-latest';
const READ = { name: 'read_file', arguments: { path: '/etc/hosts' } };
const DELETE = { name: 'delete_file', arguments: { path: '/tmp/x' } };
const READ_TOOL = {
  type: 'function' as const,
  function: { name: 'read_file', parameters: { type: 'object', properties: { path: { type: 'string' } }, required: ['path'] } },
};
const NOTICE = /\[tollgate\] Tool call "delete_file" was denied by policy "agents-governance" \(rule no-delete\)/;

type Mode = 'replace' | 'strip' | 'error';

interface Setup {
  h: Harness;
  key: string;
  client: Mistral;
}

async function setup(env: Record<string, string> = {}): Promise<Setup> {
  const h = await startHarness({ env });
  await h.createPolicy(POLICY);
  const key = (await h.createKey('agents')).key;
  return { h, key, client: new Mistral({ apiKey: key, serverURL: `${h.url}/mistral` }) };
}

let tags = 0;
/** Request options: a unique audit agent tag (to find the request's record) and, optionally, forced tool calls. */
function tagged(calls?: unknown[]) {
  const tag = `agents-test-${++tags}`;
  const headers: Record<string, string> = { 'x-controlzero-agent-id': tag };
  if (calls) headers['x-fake-tool-calls'] = JSON.stringify(calls);
  return { tag, options: { headers } };
}

async function recordOf(h: Harness, tag: string): Promise<any> {
  return eventually(async () => (await h.audit()).find((r) => r.agent_id === tag));
}

/** What an answer adds up to for its user: the text and the calls, whatever the API and streamed or not. */
interface Outcome {
  text: string;
  calls: { name: string; arguments: unknown }[];
  usage: { promptTokens?: number | undefined; completionTokens?: number | undefined; totalTokens?: number | undefined } | undefined;
  /** A stream's last finish reason. */
  finishReason?: string | null;
}

function chatOutcome(res: components.ChatCompletionResponse): Outcome {
  const message = res.choices[0]!.message!;
  return {
    text: (message.content as string | null) ?? '',
    calls: (message.toolCalls ?? []).map((c) => ({ name: c.function.name, arguments: JSON.parse(c.function.arguments as string) })),
    usage: res.usage,
  };
}

async function chatStreamOutcome(stream: AsyncIterable<components.CompletionEvent>): Promise<Outcome> {
  const outcome: Outcome = { text: '', calls: [], usage: undefined };
  const args: string[] = [];
  for await (const { data } of stream) {
    const delta = data.choices[0]?.delta;
    outcome.text += (delta?.content as string | null | undefined) ?? '';
    for (const call of delta?.toolCalls ?? []) {
      const index = call.index ?? 0;
      outcome.calls[index] ??= { name: call.function.name, arguments: undefined };
      args[index] = (args[index] ?? '') + (call.function.arguments as string);
    }
    outcome.usage = data.usage ?? outcome.usage;
    outcome.finishReason = data.choices[0]?.finishReason ?? outcome.finishReason;
  }
  outcome.calls.forEach((call, i) => (call.arguments = JSON.parse(args[i]!)));
  return outcome;
}

function conversationOutcome(res: components.ConversationResponse): Outcome {
  const outcome: Outcome = { text: '', calls: [], usage: res.usage };
  for (const output of res.outputs) {
    if (output.type === 'message.output') outcome.text += output.content as string;
    if (output.type === 'function.call') outcome.calls.push({ name: output.name, arguments: JSON.parse(output.arguments as string) });
  }
  return outcome;
}

/** Merges a conversation stream's deltas by output_index, which must run 0, 1, ... without gaps. */
async function conversationStreamOutcome(stream: AsyncIterable<components.ConversationEvents>): Promise<Outcome & { errors: components.ResponseErrorEvent[] }> {
  const entries: ({ kind: 'text'; text: string } | { kind: 'call'; name: string; args: string })[] = [];
  const errors: components.ResponseErrorEvent[] = [];
  let usage: Outcome['usage'];
  for await (const { data } of stream) {
    if (data.type === 'conversation.response.done') usage = data.usage;
    if (data.type === 'conversation.response.error') errors.push(data);
    if (data.type !== 'message.output.delta' && data.type !== 'function.call.delta') continue;
    const index = data.outputIndex ?? 0;
    assert.ok(index <= entries.length, `output_index ${index} leaves a gap`);
    if (data.type === 'message.output.delta') {
      const entry = (entries[index] ??= { kind: 'text', text: '' });
      assert.equal(entry.kind, 'text');
      if (entry.kind === 'text') entry.text += data.content as string;
    } else {
      const entry = (entries[index] ??= { kind: 'call', name: data.name, args: '' });
      assert.equal(entry.kind, 'call');
      if (entry.kind === 'call') entry.args += data.arguments;
    }
  }
  return {
    text: entries.map((e) => (e.kind === 'text' ? e.text : '')).join(''),
    calls: entries.flatMap((e) => (e.kind === 'call' ? [{ name: e.name, arguments: JSON.parse(e.args) }] : [])),
    usage,
    errors,
  };
}

/** One way to ask for an answer with the given forced calls; `resource` is what the audit record must name. */
interface Operation {
  name: string;
  stream: boolean;
  action: string;
  resource: string;
  run(s: Setup, options: { headers: Record<string, string> }): Promise<Outcome>;
}

const userMessage = [{ role: 'user' as const, content: 'Tidy up my files' }];

/** A stored conversation to append to or restart from (no forced calls: a plain text answer). */
async function storedConversation(s: Setup) {
  return s.client.beta.conversations.start({ model: MODEL, inputs: 'Hello' });
}

const OPERATIONS: Operation[] = [
  {
    name: 'agents.complete',
    stream: false,
    action: 'llm:agents.completions',
    resource: `mistral/agents/${AGENT}`,
    run: async (s, options) => chatOutcome(await s.client.agents.complete({ agentId: AGENT, messages: userMessage }, options)),
  },
  {
    name: 'agents.stream',
    stream: true,
    action: 'llm:agents.completions',
    resource: `mistral/agents/${AGENT}`,
    run: async (s, options) => chatStreamOutcome(await s.client.agents.stream({ agentId: AGENT, messages: userMessage }, options)),
  },
  {
    name: 'conversations.start (agent)',
    stream: false,
    action: 'llm:conversations',
    resource: `mistral/agents/${AGENT}`,
    run: async (s, options) => conversationOutcome(await s.client.beta.conversations.start({ agentId: AGENT, inputs: 'Tidy up my files' }, options)),
  },
  {
    name: 'conversations.startStream (model)',
    stream: true,
    action: 'llm:conversations',
    resource: `mistral/${MODEL}`,
    run: async (s, options) => conversationStreamOutcome(await s.client.beta.conversations.startStream({ model: MODEL, inputs: 'Tidy up my files' }, options)),
  },
  {
    name: 'conversations.append',
    stream: false,
    action: 'llm:conversations',
    resource: 'mistral/*',
    run: async (s, options) => {
      const { conversationId } = await storedConversation(s);
      return conversationOutcome(await s.client.beta.conversations.append({ conversationId, conversationAppendRequest: { inputs: 'Tidy up my files' } }, options));
    },
  },
  {
    name: 'conversations.appendStream',
    stream: true,
    action: 'llm:conversations',
    resource: 'mistral/*',
    run: async (s, options) => {
      const { conversationId } = await storedConversation(s);
      return conversationStreamOutcome(await s.client.beta.conversations.appendStream({ conversationId, conversationAppendStreamRequest: { inputs: 'Tidy up my files' } }, options));
    },
  },
  {
    name: 'conversations.restart',
    stream: false,
    action: 'llm:conversations',
    resource: 'mistral/*',
    run: async (s, options) => {
      const start = await storedConversation(s);
      const request = { fromEntryId: start.outputs[0]!.id!, inputs: 'Tidy up my files' };
      return conversationOutcome(await s.client.beta.conversations.restart({ conversationId: start.conversationId, conversationRestartRequest: request }, options));
    },
  },
  {
    name: 'conversations.restartStream',
    stream: true,
    action: 'llm:conversations',
    resource: 'mistral/*',
    run: async (s, options) => {
      const start = await storedConversation(s);
      const request = { fromEntryId: start.outputs[0]!.id!, inputs: 'Tidy up my files' };
      return conversationStreamOutcome(await s.client.beta.conversations.restartStream({ conversationId: start.conversationId, conversationRestartStreamRequest: request }, options));
    },
  },
];

const verdicts = (record: any) => (record.details?.tool_calls ?? []).map((v: any) => [v.name, v.decision, v.rule]);

function assertUsageRecorded(record: any, usage: Outcome['usage']) {
  assert.ok(usage, 'the answer carries usage');
  assert.ok(usage.promptTokens! > 0 && usage.completionTokens! > 0);
  assert.deepEqual([record.prompt_tokens, record.completion_tokens, record.total_tokens], [usage.promptTokens, usage.completionTokens, usage.totalTokens]);
}

for (const mode of ['replace', 'strip', 'error'] as const satisfies readonly Mode[]) {
  describe(`deny mode ${mode}`, () => {
    let s: Setup;
    before(async () => {
      s = await setup({ CZ_GATEWAY_TOOL_DENY_MODE: mode, CZ_GATEWAY_DENY_DETAIL: 'full' });
    });
    after(() => s.h.close());

    for (const op of OPERATIONS) {
      test(`${op.name}: an allowed forced call reaches the client; audited with its verdict and usage`, async () => {
        const { tag, options } = tagged([READ]);
        const outcome = await op.run(s, options);
        assert.deepEqual(outcome.calls, [READ]);
        const record = await recordOf(s.h, tag);
        assert.deepEqual([record.action, record.resource, record.decision, record.status, record.streamed], [op.action, op.resource, 'allow', 200, op.stream]);
        assert.deepEqual(verdicts(record), [['read_file', 'allow', 'tools']]);
        assertUsageRecorded(record, outcome.usage);
      });

      test(`${op.name}: a forced delete_file call next to an allowed one is governed (${mode})`, async () => {
        const { tag, options } = tagged([READ, DELETE]);
        const answer = await op.run(s, options).then(
          (outcome) => ({ outcome, error: undefined }),
          (error: unknown) => ({ outcome: undefined, error }),
        );
        const record = await recordOf(s.h, tag);
        assert.deepEqual([record.action, record.resource], [op.action, op.resource]);
        assert.deepEqual(verdicts(record), [['read_file', 'allow', 'tools'], ['delete_file', 'deny', 'no-delete']]);
        if (mode === 'error') assert.deepEqual([record.decision, record.status, record.rule], ['deny', 403, 'no-delete']);
        else assert.deepEqual([record.decision, record.status], ['allow', 200]);
        // Usage is known when the answer was read whole, or streamed to its end.
        if (mode !== 'error' || !op.stream) assert.ok(record.prompt_tokens > 0 && record.completion_tokens > 0 && record.total_tokens > 0);

        if (mode !== 'error') {
          assert.equal(answer.error, undefined, 'the SDK parses the governed answer');
          assert.deepEqual(answer.outcome!.calls, [READ], 'the allowed call stays, the denied one goes');
          if (mode === 'replace') assert.match(answer.outcome!.text, NOTICE);
          else assert.equal(answer.outcome!.text, '');
          assert.ok(!JSON.stringify(answer.outcome).includes('/tmp/x'), 'nothing of the denied call reaches the client');
        } else if (!op.stream) {
          const e = answer.error;
          assert.ok(e instanceof MistralError, `expected a MistralError, got ${String(e)}`);
          assert.equal(e.statusCode, 403);
          const body = JSON.parse(e.body);
          assert.deepEqual([body.error.code, body.error.tool, body.error.rule], ['tool_call_denied', 'delete_file', 'no-delete']);
        } else if (op.action === 'llm:agents.completions') {
          // Chat-completion streams have no error event in Mistral's format: the Mistral SDK (its user agent) is told
          // the denial as a last chunk with finish_reason "error", which it parses (an error body would crash it).
          assert.equal(answer.error, undefined, `the SDK reads the stream to its end; it failed with: ${describeError(answer.error)}`);
          assert.equal(answer.outcome!.finishReason, 'error');
          assert.ok(!answer.outcome!.calls.some((c) => c.name === 'delete_file'), 'the denied call never reaches the client');
        } else {
          // Conversations streams do: `conversation.response.error` (the SDK's ResponseErrorEvent {message, code}).
          assert.equal(answer.error, undefined, `the SDK reads the stream to its end; it failed with: ${describeError(answer.error)}`);
          const outcome = answer.outcome as Awaited<ReturnType<typeof conversationStreamOutcome>>;
          assert.deepEqual(outcome.calls, [READ]);
          assert.equal(outcome.errors.length, 1, 'one conversation.response.error event');
          assert.equal(outcome.errors[0]!.code, 403);
          assert.match(outcome.errors[0]!.message, /delete_file/);
        }
      });
    }
  });
}

/** An SDK failure in a line: a zod failure (an event the SDK's schemas reject) shows what it rejected. */
function describeError(error: unknown): string {
  if (error instanceof Error && 'issues' in error) {
    const issues = (error as { issues: { path: PropertyKey[]; message: string }[] }).issues;
    return `${error.name}: ${issues.map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`).join('; ')}`;
  }
  return String(error);
}

describe('conversations through the gateway (replace mode)', () => {
  let s: Setup;
  before(async () => {
    s = await setup();
  });
  after(() => s.h.close());

  test('text answers and schema-synthesised tool calls pass; a function.result round-trip answers naming it', async () => {
    const { tag, options } = tagged();
    const start = await s.client.beta.conversations.start({ model: MODEL, inputs: 'Read my hosts file', tools: [READ_TOOL] }, options);
    const call = start.outputs[0] as components.FunctionCallEntry;
    assert.deepEqual([call.type, call.name, JSON.parse(call.arguments as string)], ['function.call', 'read_file', { path: 'path_value' }]);
    assert.deepEqual(verdicts(await recordOf(s.h, tag)), [['read_file', 'allow', 'tools']]);

    const result = await s.client.beta.conversations.append({
      conversationId: start.conversationId,
      conversationAppendRequest: { inputs: [{ toolCallId: call.toolCallId, result: '127.0.0.1 localhost' }] },
    });
    assert.equal((result.outputs[0] as components.MessageOutputEntry).content, 'The tool read_file returned: "127.0.0.1 localhost"');

    const streamed = await conversationStreamOutcome(
      await s.client.beta.conversations.appendStream({ conversationId: start.conversationId, conversationAppendStreamRequest: { inputs: 'Thanks', completionArgs: { toolChoice: 'none' } } }),
    );
    assert.equal(streamed.text, `This is a fake reply from ${MODEL}. You said: "Thanks"`);
  });

  test('agents completions answer as the agent\'s model', async () => {
    const res = await s.client.agents.complete({ agentId: AGENT, messages: [{ role: 'user', content: 'Hi' }] });
    assert.equal(res.model, AGENT_MODEL);
    assert.equal(res.choices[0]!.message!.content, `This is a fake reply from ${AGENT_MODEL}. You said: "Hi"`);
  });

  test('every call denied: the notice (minimal detail by default) replaces them, the answer still parses', async () => {
    // The default CZ_GATEWAY_DENY_DETAIL=minimal: the tool and the request id, no policy internals.
    const minimal = /\[tollgate\] Tool call "delete_file" was denied by policy \(request req_\w+\)/;
    const { options } = tagged([DELETE, DELETE]);
    const plain = conversationOutcome(await s.client.beta.conversations.start({ agentId: AGENT, inputs: 'x' }, options));
    assert.deepEqual(plain.calls, []);
    assert.equal(plain.text.match(new RegExp(minimal, 'g'))?.length, 2);
    assert.doesNotMatch(plain.text, /agents-governance|no-delete/);
    const streamed = await conversationStreamOutcome(await s.client.beta.conversations.startStream({ agentId: AGENT, inputs: 'x' }, options));
    assert.deepEqual(streamed.calls, []);
    assert.equal(streamed.text.match(new RegExp(minimal, 'g'))?.length, 2);
  });

  test('agents/completions without agent_id is a 400 from the gateway, audited, never forwarded', async () => {
    const upstreamBefore = s.h.fake.requests.length;
    const { tag, options } = tagged();
    const res = await fetch(`${s.h.url}/mistral/v1/agents/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${s.key}`, 'content-type': 'application/json', ...options.headers },
      body: JSON.stringify({ messages: userMessage }),
    });
    assert.equal(res.status, 400);
    assert.equal(((await res.json()) as { error: { param: string } }).error.param, 'agent_id');
    assert.equal(s.h.fake.requests.length, upstreamBefore);
    const record = await recordOf(s.h, tag);
    assert.deepEqual([record.action, record.status, record.decision], ['llm:agents.completions', 400, 'deny']);
  });

  test('an unknown conversation is the upstream\'s 404, relayed', async () => {
    await assert.rejects(
      s.client.beta.conversations.append({ conversationId: 'conv_unknown', conversationAppendRequest: { inputs: 'x' } }),
      (e) => e instanceof MistralError && e.statusCode === 404,
    );
  });

  test('max_tokens over 100 is denied before the upstream sees it (agents: max_tokens; conversations: completion_args)', async () => {
    const stored = await storedConversation(s);
    const big = { maxTokens: 200 };
    const attempts: [string, (options: { headers: Record<string, string> }) => Promise<unknown>][] = [
      ['llm:agents.completions', (o) => s.client.agents.complete({ agentId: AGENT, messages: userMessage, maxTokens: 200 }, o)],
      ['llm:agents.completions', (o) => s.client.agents.stream({ agentId: AGENT, messages: userMessage, maxTokens: 200 }, o)],
      ['llm:conversations', (o) => s.client.beta.conversations.start({ model: MODEL, inputs: 'x', completionArgs: big }, o)],
      ['llm:conversations', (o) => s.client.beta.conversations.startStream({ agentId: AGENT, inputs: 'x', completionArgs: big }, o)],
      ['llm:conversations', (o) => s.client.beta.conversations.append({ conversationId: stored.conversationId, conversationAppendRequest: { inputs: 'x', completionArgs: big } }, o)],
      [
        'llm:conversations',
        (o) =>
          s.client.beta.conversations.restartStream(
            { conversationId: stored.conversationId, conversationRestartStreamRequest: { fromEntryId: stored.outputs[0]!.id!, inputs: 'x', completionArgs: big } },
            o,
          ),
      ],
    ];
    for (const [action, attempt] of attempts) {
      const upstreamBefore = s.h.fake.requests.length;
      const { tag, options } = tagged();
      await assert.rejects(attempt(options), (e) => e instanceof MistralError && e.statusCode === 403);
      assert.equal(s.h.fake.requests.length, upstreamBefore, 'nothing reached the upstream');
      const record = await recordOf(s.h, tag);
      assert.deepEqual([record.action, record.decision, record.status, record.rule], [action, 'deny', 403, 'small-only']);
    }
    // At the limit it passes.
    const ok = await s.client.beta.conversations.start({ model: MODEL, inputs: 'x', completionArgs: { maxTokens: 100 } });
    assert.equal(ok.outputs[0]!.type, 'message.output');
  });
});

describe('PII in conversation inputs (CZ_GATEWAY_PII_ACTION=block)', () => {
  let s: Setup;
  before(async () => {
    s = await setup({ CZ_GATEWAY_PII_ACTION: 'block' });
  });
  after(() => s.h.close());

  const EMAIL = 'Write to jane.doe@corp.com please';
  const CARD = 'My card is 4111 1111 1111 1111';

  test('an email or a credit card in inputs (string, entries with content parts, function results) is refused and audited', async () => {
    const stored = await storedConversation(s);
    const attempts: [string, Record<string, number>, (options: { headers: Record<string, string> }) => Promise<unknown>][] = [
      ['string inputs', { email: 1 }, (o) => s.client.beta.conversations.start({ model: MODEL, inputs: EMAIL }, o)],
      [
        'entries with content parts',
        { credit_card: 1 },
        (o) => s.client.beta.conversations.startStream({ agentId: AGENT, inputs: [{ role: 'user', content: [{ type: 'text', text: 'Hello. ' }, { type: 'text', text: CARD }] }] }, o),
      ],
      ['append', { email: 1 }, (o) => s.client.beta.conversations.append({ conversationId: stored.conversationId, conversationAppendRequest: { inputs: EMAIL } }, o)],
      [
        'a function.result entry',
        { credit_card: 1 },
        (o) => s.client.beta.conversations.append({ conversationId: stored.conversationId, conversationAppendRequest: { inputs: [{ toolCallId: 'abc123def', result: CARD }] } }, o),
      ],
      ['instructions', { email: 1 }, (o) => s.client.beta.conversations.start({ model: MODEL, inputs: 'hi', instructions: EMAIL }, o)],
      ['agents completions', { email: 1 }, (o) => s.client.agents.complete({ agentId: AGENT, messages: [{ role: 'user', content: EMAIL }] }, o)],
    ];
    for (const [what, detectors, attempt] of attempts) {
      const upstreamBefore = s.h.fake.requests.length;
      const { tag, options } = tagged();
      await assert.rejects(attempt(options), (e) => e instanceof MistralError && e.statusCode === 403 && JSON.parse(e.body).error.reason_code === 'DLP_BLOCKED', what);
      assert.equal(s.h.fake.requests.length, upstreamBefore, `${what}: nothing reached the upstream`);
      const record = await recordOf(s.h, tag);
      assert.deepEqual([record.decision, record.status, record.reason_code], ['deny', 403, 'DLP_BLOCKED'], what);
      assert.deepEqual(record.details.pii.detectors, detectors, what);
      assert.ok(!JSON.stringify(record).includes('jane.doe') && !JSON.stringify(record).includes('4111'), `${what}: no PII in the audit`);
    }
    const clean = await s.client.beta.conversations.start({ model: MODEL, inputs: [{ role: 'user', content: [{ type: 'text', text: 'Say hello' }] }] });
    assert.equal(clean.outputs[0]!.type, 'message.output');
  });
});
