/**
 * Runs the fake Mistral API as a process: `node dist/src/fake-mistral/main.js [--port 8100] [--host H]
 * [--api-key KEY] [--faults SPEC]` (env FAKE_MISTRAL_API_KEY / FAKE_MISTRAL_FAULTS as fallbacks). Prints its URL;
 * SIGINT/SIGTERM close it. Also used by `tollgate mock-upstream`.
 */
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { FaultSpecError } from './faults.js';
import { startFakeMistral } from './server.js';

export interface FakeMistralCliOptions {
  port?: string | undefined;
  host?: string | undefined;
  apiKey?: string | undefined;
  faults?: string | undefined;
}

export const DEFAULT_PORT = 8100;

/** An option value the fake cannot run with; the message names the option (`tollgate mock-upstream` exits 2 on it). */
export class FakeMistralUsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FakeMistralUsageError';
  }
}

function parsePort(value: string | undefined): number {
  if (value === undefined) return DEFAULT_PORT;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new FakeMistralUsageError(`--port must be an integer from 0 to 65535, got ${JSON.stringify(value)}`);
  return port;
}

export async function runFakeMistralCli(options: FakeMistralCliOptions): Promise<void> {
  const port = parsePort(options.port);
  const faults = options.faults ?? process.env.FAKE_MISTRAL_FAULTS;
  let fake;
  try {
    fake = await startFakeMistral({ port, host: options.host, apiKey: options.apiKey ?? process.env.FAKE_MISTRAL_API_KEY, faults });
  } catch (err) {
    const from = options.faults === undefined ? 'FAKE_MISTRAL_FAULTS' : '--faults';
    if (err instanceof FaultSpecError) throw new FakeMistralUsageError(`${from} ${JSON.stringify(faults)}: ${err.message}`);
    throw err;
  }
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
