/** The admin API token: from CZ_GATEWAY_ADMIN_TOKEN, else generated at first start and kept in the data dir. */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

export const ADMIN_TOKEN_FILE = 'admin-token';

export async function resolveAdminToken(dataDir: string, configured: string | undefined): Promise<{ token: string; generated: boolean }> {
  if (configured) return { token: configured, generated: false };
  const file = path.join(dataDir, ADMIN_TOKEN_FILE);
  try {
    return { token: (await readFile(file, 'utf8')).trim(), generated: false };
  } catch {
    const token = `cz_admin_${randomBytes(24).toString('base64url')}`;
    await mkdir(dataDir, { recursive: true });
    await writeFile(file, `${token}\n`, { mode: 0o600, flag: 'wx' });
    return { token, generated: true };
  }
}
