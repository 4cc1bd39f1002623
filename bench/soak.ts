/**
 * The chaos suite (test/chaos.test.ts) as a soak: the same scenarios and invariants with loads `scale` times longer
 * (default 20: minutes instead of seconds). `npm run build && node dist/bench/soak.js [scale]`; prints the table of
 * answered requests against audit records per scenario, and exits non-zero if an invariant broke.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const scale = process.argv[2] ?? '20';
const suite = path.join(path.dirname(fileURLToPath(import.meta.url)), '../test/chaos.test.js');
const child = spawn(process.execPath, ['--test', '--test-reporter=spec', suite], {
  env: { ...process.env, TOLLGATE_CHAOS_SCALE: scale },
  stdio: 'inherit',
});
child.once('exit', (code) => process.exit(code ?? 1));
