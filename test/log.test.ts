/** Logging never takes the gateway down: a failing log stream drops lines. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createLogger } from '../src/log.js';

test('a writer that throws (a full disk) drops the line instead of throwing into the caller', () => {
  const logger = createLogger('debug', () => {
    throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
  });
  assert.doesNotThrow(() => logger.error('audit: cannot write', { records: 3 }));
});

test("the default writer survives its stream's error events (a closed pipe)", () => {
  const logger = createLogger('error');
  logger.debug('installs the guard without writing');
  assert.doesNotThrow(() => process.stderr.emit('error', Object.assign(new Error('write EPIPE'), { code: 'EPIPE' })));
});
