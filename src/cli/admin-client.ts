/** The CLI's connection to a running gateway's admin API. */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { ADMIN_TOKEN_FILE } from '../admin/token.js';

export class CliError extends Error {}

/** Reads a JSON file named on the command line; errors say which file and what is wrong. */
export async function readJsonFile(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new CliError(`cannot read ${file}: ${(err as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new CliError(`${file} is not valid JSON: ${(err as Error).message}`);
  }
}

export interface AdminClientOptions {
  url?: string;
  token?: string;
}

export class AdminClient {
  private constructor(
    readonly baseUrl: string,
    private readonly token: string,
  ) {}

  /** URL: --url, CZ_GATEWAY_URL, else localhost:CZ_GATEWAY_PORT. Token: --token, CZ_GATEWAY_ADMIN_TOKEN, else the data dir file. */
  static async connect(options: AdminClientOptions, env: NodeJS.ProcessEnv = process.env): Promise<AdminClient> {
    const url = options.url ?? env.CZ_GATEWAY_URL ?? `http://localhost:${env.CZ_GATEWAY_PORT || 8000}`;
    let token = options.token ?? env.CZ_GATEWAY_ADMIN_TOKEN;
    if (!token) {
      const file = path.join(path.resolve(env.CZ_GATEWAY_DATA_DIR || './data'), ADMIN_TOKEN_FILE);
      try {
        token = (await readFile(file, 'utf8')).trim();
      } catch {
        throw new CliError(`no admin token: set CZ_GATEWAY_ADMIN_TOKEN, pass --token, or run from the gateway's directory (${file} not found)`);
      }
    }
    return new AdminClient(url.replace(/\/+$/, ''), token);
  }

  async request<T>(method: string, pathAndQuery: string, body?: unknown): Promise<T> {
    let res: Response;
    try {
      res = await fetch(this.baseUrl + pathAndQuery, {
        method,
        headers: { authorization: `Bearer ${this.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (err) {
      throw new CliError(`cannot reach the gateway at ${this.baseUrl} (${(err as Error).cause ?? (err as Error).message}); is it running? (--url / CZ_GATEWAY_URL)`);
    }
    const text = await res.text();
    const json = text ? (JSON.parse(text) as unknown) : null;
    if (!res.ok) {
      const error = (json as { error?: { message?: string; errors?: { path: string; message: string }[] } } | null)?.error;
      const details = error?.errors?.map((e) => `\n  ${e.path}: ${e.message}`).join('') ?? '';
      throw new CliError(`${res.status}: ${error?.message ?? text}${details}`);
    }
    return json as T;
  }
}
