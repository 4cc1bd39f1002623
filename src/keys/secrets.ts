/** Gateway API keys: `cz_live_` + 256 bits of randomness in base62. Only the SHA-256 hash is ever stored. */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export const KEY_PREFIX = 'cz_live_';
const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

function base62(bytes: Buffer): string {
  let n = BigInt(`0x${bytes.toString('hex')}`);
  let out = '';
  while (n > 0n) {
    out = BASE62[Number(n % 62n)] + out;
    n /= 62n;
  }
  return out.padStart(43, '0');
}

export function generateKeySecret(): string {
  return KEY_PREFIX + base62(randomBytes(32));
}

export function hashKeySecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

/** A short public identifier, e.g. "key_3f9a0c1b2d4e5f60". */
export function generateId(prefix: string): string {
  return `${prefix}_${randomBytes(8).toString('hex')}`;
}

/** Displayable start of a secret: enough to recognise it, far too little to use it. */
export function secretPrefix(secret: string): string {
  return secret.slice(0, KEY_PREFIX.length + 4);
}

export function constantTimeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a);
  const bb = Buffer.from(b);
  return ab.length === bb.length && timingSafeEqual(ab, bb);
}
