/**
 * Self time by function in a V8 CPU profile (`node --cpu-prof --cpu-prof-dir=DIR ...` writes one per process):
 * `node dist/bench/cpu-profile-top.js <file.cpuprofile | DIR> [rows]` prints the top rows, the largest profile of a
 * directory when given one. docs/performance.md says how to profile the gateway under a benchmark's load.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const [target, rowsArg] = process.argv.slice(2);
if (!target) throw new Error('usage: cpu-profile-top <file.cpuprofile | directory> [rows]');
const file = statSync(target).isDirectory()
  ? readdirSync(target)
      .filter((f) => f.endsWith('.cpuprofile'))
      .map((f) => path.join(target, f))
      .sort((a, b) => statSync(b).size - statSync(a).size)[0]
  : target;
if (!file) throw new Error(`no .cpuprofile in ${target}`);
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
const selfUs = new Map<string, number>();
profile.samples.forEach((id, i) => {
  const { functionName, url, lineNumber } = nodes.get(id)!.callFrame;
  const where = `${functionName || '(anonymous)'} ${url.split('/').slice(-2).join('/')}:${lineNumber + 1}`;
  selfUs.set(where, (selfUs.get(where) ?? 0) + (profile.timeDeltas[i] ?? 0));
});
const total = [...selfUs.values()].reduce((a, b) => a + b, 0);
process.stdout.write(`${file}: ${(total / 1000).toFixed(0)} ms sampled\n`);
for (const [where, us] of [...selfUs].sort((a, b) => b[1] - a[1]).slice(0, Number(rowsArg ?? 25))) {
  process.stdout.write(`${(us / 1000).toFixed(1).padStart(9)} ms ${((us / total) * 100).toFixed(1).padStart(5)}%  ${where}\n`);
}
