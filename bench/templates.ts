/**
 * Template engine micro-benchmark: per-request cost of executing KrakenD's default Mistral v1 input and output
 * templates (parsed once at start-up, as the gateway does). Target: < 20 µs for both combined.
 * Run: node dist/bench/templates.js   (TEMPLATE_BENCH_ITERATIONS, default 100000)
 */
import { pathToFileURL } from 'node:url';
import {
  LLM_INT_VARIABLES, MISTRAL_V1_INPUT_TEMPLATE, MISTRAL_V1_OUTPUT_TEMPLATE, convertIntPaths, fromGoJson, parseTemplate,
} from '../src/templates/index.js';

const ITERATIONS = Number(process.env.TEMPLATE_BENCH_ITERATIONS ?? 100_000);
const BATCH = 1000;
const TARGET_MICROS = 20;

const REQUEST = JSON.stringify({
  variables: {
    model: 'mistral-small-latest', temperature: 0.7, top_p: 1, max_tokens: 1000, random_seed: -1, n: 1,
    stop: ['\n\n'], safe_prompt: false,
  },
  req_body: { instructions: 'Act as a 1000 dollar consultant', contents: 'Tell me a consultant joke' },
});

const RESPONSE = JSON.stringify({
  resp_body: {
    id: 'cmpl-1', object: 'chat.completion', model: 'mistral-small-latest',
    choices: [{ index: 0, message: { role: 'assistant', content: 'Why did the consultant cross the road? To bill both sides.' }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 21, completion_tokens: 14, total_tokens: 35 },
  },
});

interface Result {
  meanMicros: number;
  p50Micros: number;
  p99Micros: number;
}

/** Runs `fn` in batches and reports the mean and the batch-level median and p99, in µs per call. */
function measure(fn: () => void): Result {
  for (let i = 0; i < Math.min(ITERATIONS, 20_000); i++) fn();
  const perCall: number[] = [];
  const start = process.hrtime.bigint();
  for (let done = 0; done < ITERATIONS; done += BATCH) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < BATCH; i++) fn();
    perCall.push(Number(process.hrtime.bigint() - t0) / 1000 / BATCH);
  }
  const total = Number(process.hrtime.bigint() - start) / 1000;
  perCall.sort((a, b) => a - b);
  const at = (q: number): number => perCall[Math.min(perCall.length - 1, Math.floor(q * perCall.length))]!;
  return { meanMicros: total / (Math.ceil(ITERATIONS / BATCH) * BATCH), p50Micros: at(0.5), p99Micros: at(0.99) };
}

export function runTemplateBench(): { execute: Result; decodeAndExecute: Result } {
  const input = parseTemplate('mistral_input', MISTRAL_V1_INPUT_TEMPLATE);
  const output = parseTemplate('mistral_output', MISTRAL_V1_OUTPUT_TEMPLATE);
  const requestData = convertIntPaths(fromGoJson(REQUEST), LLM_INT_VARIABLES);
  const responseData = fromGoJson(RESPONSE);
  let sink = 0;
  const execute = measure(() => {
    sink += input.execute(requestData).length + output.execute(responseData).length;
  });
  const decodeAndExecute = measure(() => {
    const req = convertIntPaths(fromGoJson(REQUEST), LLM_INT_VARIABLES);
    sink += input.execute(req).length + output.execute(fromGoJson(RESPONSE)).length;
  });
  if (sink === 0) throw new Error('templates rendered nothing');
  return { execute, decodeAndExecute };
}

function format(r: Result): string {
  return `mean ${r.meanMicros.toFixed(2)} µs, batch p50 ${r.p50Micros.toFixed(2)} µs, batch p99 ${r.p99Micros.toFixed(2)} µs`;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { execute, decodeAndExecute } = runTemplateBench();
  console.log(`Mistral v1 default input + output templates, ${ITERATIONS} requests`);
  console.log(`  execute only:            ${format(execute)}`);
  console.log(`  JSON decode + execute:   ${format(decodeAndExecute)}`);
  const verdict = execute.meanMicros < TARGET_MICROS ? 'meets' : 'MISSES';
  console.log(`  target < ${TARGET_MICROS} µs per request (execute only): ${verdict}`);
}
