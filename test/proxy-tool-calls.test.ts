/** The pure tool-call governance: responses rewritten per deny mode, stream fragments held, judged and released. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  carriesToolCalls,
  denialNotice,
  governResponseToolCalls,
  parseToolArguments,
  StreamToolCallGovernor,
  ToolCallDenied,
  type ToolCallJudge,
  type ToolCallVerdict,
} from '../src/proxy/tool-calls.js';

/** Denies every tool whose name starts with delete_; records the arguments it was shown. */
function judgeDeletes(seen: [string, string][] = []): ToolCallJudge {
  return (name, args) => {
    seen.push([name, args]);
    const deny = name.startsWith('delete_');
    return {
      name,
      decision: deny ? 'deny' : 'allow',
      policy: 'p',
      rule: deny ? 'no-delete' : 'tools',
      reason: deny ? 'denied by rule no-delete of policy p' : 'allowed',
      reason_code: 'RULE_MATCH',
    };
  };
}

const call = (id: string, name: string, args: string) => ({ id, type: 'function', function: { name, arguments: args } });

function response(calls: unknown[], content: string | null = '') {
  return { id: 'r', choices: [{ index: 0, message: { role: 'assistant', content, tool_calls: calls }, finish_reason: 'tool_calls' }] };
}

describe('governResponseToolCalls', () => {
  test('replace: removes the denied call and appends a notice naming tool, policy and rule', () => {
    const body = response([call('a', 'read_file', '{"path":"/x"}'), call('b', 'delete_file', '{"path":"/y"}')], 'Sure.');
    const verdicts: ToolCallVerdict[] = [];
    assert.equal(governResponseToolCalls(body, judgeDeletes(), 'replace', verdicts), true);
    const choice = body.choices[0]!;
    assert.deepEqual(choice.message.tool_calls, [call('a', 'read_file', '{"path":"/x"}')]);
    assert.equal(choice.message.content, `Sure.\n\n${denialNotice(verdicts[1]!)}`);
    assert.equal(verdicts[1]!.decision, 'deny');
    assert.match(choice.message.content!, /"delete_file" was denied by policy "p" \(rule no-delete\)/);
    assert.equal(choice.finish_reason, 'tool_calls');
  });

  test('strip: all denied -> tool_calls removed, finish_reason stop, content untouched', () => {
    const body = response([call('b', 'delete_file', '{}')], null);
    assert.equal(governResponseToolCalls(body, judgeDeletes(), 'strip', []), true);
    const choice = body.choices[0]!;
    assert.equal('tool_calls' in choice.message, false);
    assert.equal(choice.message.content, null);
    assert.equal(choice.finish_reason, 'stop');
  });

  test('error: throws on the first denied call, after recording every decision so far', () => {
    const verdicts: ToolCallVerdict[] = [];
    const body = response([call('a', 'read_file', '{}'), call('b', 'delete_file', '{}'), call('c', 'delete_all', '{}')]);
    assert.throws(() => governResponseToolCalls(body, judgeDeletes(), 'error', verdicts), (e: unknown) => e instanceof ToolCallDenied && e.verdict.name === 'delete_file');
    assert.deepEqual(verdicts.map((v) => v.name), ['read_file', 'delete_file']);
  });

  test('all allowed: unchanged', () => {
    const body = response([call('a', 'read_file', '{}')]);
    const before = JSON.stringify(body);
    assert.equal(governResponseToolCalls(body, judgeDeletes(), 'replace', []), false);
    assert.equal(JSON.stringify(body), before);
  });

  test('arguments are parsed for conditions, or kept raw when not JSON', () => {
    assert.deepEqual(parseToolArguments('{"to":["a@b.c"]}'), { to: ['a@b.c'] });
    assert.equal(parseToolArguments('{not json'), '{not json');
  });
});

function chunk(delta: Record<string, unknown>, finish: string | null = null, index = 0) {
  return { id: 'c', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index, delta, finish_reason: finish }] };
}

describe('StreamToolCallGovernor', () => {
  test('fragmented calls are held until complete, then released whole and renumbered', () => {
    const seen: [string, string][] = [];
    const g = new StreamToolCallGovernor(judgeDeletes(seen), 'replace');
    const out = [
      g.push(chunk({ role: 'assistant', content: '' })),
      g.push(chunk({ tool_calls: [{ index: 0, id: 'a', type: 'function', function: { name: 'delete_file', arguments: '' } }] })),
      g.push(chunk({ tool_calls: [{ index: 0, function: { arguments: '{"path":' } }] })),
      g.push(chunk({ tool_calls: [{ index: 0, function: { arguments: '"/y"}' } }] })),
    ];
    assert.deepEqual(out[0], chunk({ role: 'assistant', content: '' }));
    assert.deepEqual(out.slice(1), [null, null, null]);
    assert.equal(g.holding, true);
    // A new call index completes the previous call.
    const next = g.push(chunk({ tool_calls: [{ index: 1, id: 'b', type: 'function', function: { name: 'read_file', arguments: '{}' } }] }));
    assert.deepEqual(seen, [['delete_file', '{"path":"/y"}']]);
    assert.match(String((next as any).choices[0].delta.content), /"delete_file" was denied/);
    assert.equal((next as any).choices[0].delta.tool_calls, undefined);
    // The finish completes the rest; the allowed call gets index 0.
    const last = g.push(chunk({}, 'tool_calls')) as any;
    assert.deepEqual(last.choices[0].delta.tool_calls, [{ index: 0, id: 'b', type: 'function', function: { name: 'read_file', arguments: '{}' } }]);
    assert.equal(last.choices[0].finish_reason, 'tool_calls');
    assert.equal(g.holding, false);
    assert.deepEqual(g.verdicts.map((v) => [v.name, v.decision]), [['delete_file', 'deny'], ['read_file', 'allow']]);
  });

  test('Mistral style: complete calls with the finish in one chunk are judged at once', () => {
    const g = new StreamToolCallGovernor(judgeDeletes(), 'strip');
    const out = g.push(
      chunk({ content: '', tool_calls: [{ ...call('a', 'delete_file', '{}'), index: 0 }, { ...call('b', 'read_file', '{}'), index: 1 }] }, 'tool_calls'),
    ) as any;
    assert.deepEqual(out.choices[0].delta, { content: '', tool_calls: [{ index: 0, id: 'b', type: 'function', function: { name: 'read_file', arguments: '{}' } }] });
    assert.equal(out.choices[0].finish_reason, 'tool_calls');
  });

  test('all denied: finish_reason becomes stop', () => {
    const g = new StreamToolCallGovernor(judgeDeletes(), 'strip');
    g.push(chunk({ tool_calls: [{ index: 0, id: 'a', function: { name: 'delete_file', arguments: '{}' } }] }));
    const out = g.push(chunk({}, 'tool_calls')) as any;
    assert.equal(out.choices[0].finish_reason, 'stop');
    assert.deepEqual(out.choices[0].delta, {});
  });

  test('flush completes calls still held at the end of the stream', () => {
    const g = new StreamToolCallGovernor(judgeDeletes(), 'replace');
    assert.equal(g.push(chunk({ tool_calls: [{ index: 0, id: 'a', function: { name: 'read_file', arguments: '{}' } }] })), null);
    const out = g.flush() as any;
    assert.equal(out.id, 'c');
    assert.equal(out.choices[0].delta.tool_calls[0].function.name, 'read_file');
    assert.equal(g.flush(), null);
  });

  test('error mode throws ToolCallDenied when a denied call completes', () => {
    const g = new StreamToolCallGovernor(judgeDeletes(), 'error');
    g.push(chunk({ tool_calls: [{ index: 0, id: 'a', function: { name: 'delete_file', arguments: '{}' } }] }));
    assert.throws(() => g.push(chunk({}, 'tool_calls')), ToolCallDenied);
  });

  test('chunks without choices (or without tool calls) pass unchanged', () => {
    const g = new StreamToolCallGovernor(judgeDeletes(), 'replace');
    const usage = { id: 'c', choices: [], usage: { total_tokens: 3 } };
    assert.equal(g.push(usage), usage);
    const text = chunk({ content: 'hi' });
    assert.deepEqual(g.push(text), chunk({ content: 'hi' }));
  });
});

test('carriesToolCalls: only a non-empty-looking tool_calls array counts', () => {
  assert.equal(carriesToolCalls('{"message":{"content":"hi","tool_calls":null}}'), false);
  assert.equal(carriesToolCalls(Buffer.from('{"message":{"tool_calls": null}}')), false);
  assert.equal(carriesToolCalls('{"content":"the \\"tool_calls\\" key"}'), false);
  assert.equal(carriesToolCalls('{"delta":{"tool_calls":[{"index":0}]}}'), true);
  assert.equal(carriesToolCalls(Buffer.from('{"tool_calls" : \n [ ]}')), true);
  assert.equal(carriesToolCalls('{"a":"tool_calls","tool_calls":null,"b":{"tool_calls":[{}]}}'), true);
});
