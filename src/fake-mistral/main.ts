/**
 * Runs the fake Mistral API as a process: `node dist/src/fake-mistral/main.js [--port 8100] [--host H]
 * [--api-key KEY] [--faults SPEC]` (env FAKE_MISTRAL_API_KEY / FAKE_MISTRAL_FAULTS as fallbacks). Prints its URL;
 * SIGINT/SIGTERM close it. Also used by `tollgate mock-upstream`.
 */
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { startFakeMistral } from './server.js';

export interface FakeMistralCliOptions {
  port?: string | undefined;
  host?: string | undefined;
  apiKey?: string | undefined;
  faults?: string | undefined;
}

export const DEFAULT_PORT = 8100;

function parsePort(value: string | undefined): number {
  if (value === undefined) return DEFAULT_PORT;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port: expected 0-65535, got "${value}"`);
  return port;
}

export async function runFakeMistralCli(options: FakeMistralCliOptions): Promise<void> {
  const fake = await startFakeMistral({
    port: parsePort(options.port),
    host: options.host,
    apiKey: options.apiKey ?? process.env.FAKE_MISTRAL_API_KEY,
    faults: options.faults ?? process.env.FAKE_MISTRAL_FAULTS,
  });
  process.stdout.write(`fake Mistral API listening on ${fake.url} (base URL for clients: ${fake.url}/v1)\n`);
  const stop = () => {
    fake.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

const isEntryPoint = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;

if (isEntryPoint) {
  const { values } = parseArgs({
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      'api-key': { type: 'string' },
      faults: { type: 'string' },
    },
  });
  runFakeMistralCli({ port: values.port, host: values.host, apiKey: values['api-key'], faults: values.faults }).catch(
    (err: unknown) => {
      process.stderr.write(`fake-mistral: ${(err as Error).message}\n`);
      process.exit(1);
    },
  );
}
