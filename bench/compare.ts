/**
 * `node dist/bench/compare.js <other checkout>`: this build's gateway against another build's (e.g. a worktree of
 * the commit before a change, built with `npx tsc`), both in front of one fake upstream, under the same load taken
 * in turns round by round. Reports each gateway process's CPU time per request (user + system, all threads), which
 * on a shared machine is far steadier than requests/s: the instrument for "this change costs nothing".
 *
 * Options (env): COMPARE_ROUNDS (default 6, the first is warm-up), COMPARE_SECONDS (per build and round, default 3).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { load, type Target } from './measure.js';
import { startProcess } from './processes.js';
import { chatBody, setUpGateway, UPSTREAM_KEY } from './setup.js';

const ROUNDS = Number(process.env.COMPARE_ROUNDS ?? 6);
const SECONDS = Number(process.env.COMPARE_SECONDS ?? 3);
const here = path.dirname(fileURLToPath(import.meta.url));

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function main(): Promise<void> {
  const other = process.argv[2];
  if (!other) throw new Error('usage: node dist/bench/compare.js <path of another built checkout>');
  const builds = [
    { name: 'this', main: path.join(here, '../src/main.js') },
    { name: path.basename(path.resolve(other)), main: path.resolve(other, 'dist/src/main.js') },
  ];
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'tollgate-compare-'));
  const upstream = await startProcess(path.join(here, '../src/fake-mistral/main.js'), ['--port', '0', '--api-key', UPSTREAM_KEY], {}, /listening on (http:\/\/\S+?) /);
  const gateways = await Promise.all(builds.map((b, i) => setUpGateway(b.main, upstream.url, path.join(dataDir, String(i)))));
  const targets: Target[] = gateways.map((g, i) => ({
    name: builds[i]!.name,
    origin: g.running.url,
    path: '/mistral/v1/chat/completions',
    headers: { authorization: `Bearer ${g.key}` },
    pid: g.running.child.pid,
  }));
  try {
    process.stdout.write(`# CPU per request, ${ROUNDS - 1} rounds of ${SECONDS}s per build (after one warm-up round), 16 connections\n`);
    for (const stream of [false, true]) {
      const cpu = targets.map(() => [] as number[]);
      for (let round = 0; round < ROUNDS; round++) {
        for (const [i, t] of targets.entries()) {
          const result = await load(t, chatBody(stream), 16, SECONDS);
          if (round > 0) cpu[i]!.push(result.cpuUs);
        }
      }
      const medians = cpu.map(median);
      const cells = targets.map((t, i) => `${t.name} ${medians[i]!.toFixed(1)} µs [${cpu[i]!.map((v) => v.toFixed(0)).join(' ')}]`);
      const change = ((medians[0]! / medians[1]! - 1) * 100).toFixed(1);
      process.stdout.write(`- ${stream ? 'streaming' : 'non-streaming'}: ${cells.join(' | ')}; this build ${Number(change) >= 0 ? '+' : ''}${change}%\n`);
    }
  } finally {
    await Promise.all([...gateways.map((g) => g.running.stop()), upstream.stop()]);
    await rm(dataDir, { recursive: true, force: true });
  }
}

main().catch((err: Error) => {
  process.stderr.write(`${err.stack ?? err.message}\n`);
  process.exit(1);
});
