// Preloaded by `npm start` and `npm run mock-upstream` (`node --import ./bin/require-build.js dist/...`): they run the
// compiled entry point without rebuilding, so when it was never built, say how to build instead of a module-not-found stack.
import { existsSync } from 'node:fs';
import path from 'node:path';

const entry = process.argv[1];
if (entry !== undefined && !existsSync(entry)) {
  process.stderr.write(`tollgate: ${path.relative(process.cwd(), entry)} not found: the gateway is not built; run \`npm run build\` (npm ci does it), then start again\n`);
  process.exit(1);
}
