/**
 * `npm start`: validates the configuration, opens the embedded store and serves until SIGTERM/SIGINT, then shuts
 * down gracefully (in-flight requests finish, queued audit records are written).
 */
import { resolveAdminToken } from './admin/token.js';
import { ConfigError, loadConfig } from './config/config.js';
import { startGateway } from './gateway.js';
import { createLogger } from './log.js';
import { openSqliteStore } from './store/sqlite.js';

async function main(): Promise<void> {
  let config;
  try {
    config = await loadConfig(process.env, process.argv.slice(2));
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`tollgate: refusing to start, ${err.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw err;
  }
  const logger = createLogger(config.logLevel);
  let store;
  try {
    store = await openSqliteStore(config.dataDir, { fsyncAuditCommits: config.audit.durability === 'sync' });
  } catch (err) {
    // A full disk, a read-only or foreign data dir: one clear line, not a stack.
    process.stderr.write(`tollgate: refusing to start, cannot open the store in ${config.dataDir}: ${(err as Error).message}\n`);
    process.exit(74); // EX_IOERR
  }
  const admin = await resolveAdminToken(config.dataDir, config.adminToken);
  const gateway = await startGateway(config, store, admin.token, logger);
  // Before the "listening" line: a supervisor may send SIGTERM as soon as it reads it.
  const shutdown = (signal: string) => {
    logger.info(`${signal} received: shutting down (finishing requests, flushing audit)`);
    gateway.close().then(
      () => process.exit(0),
      (err: Error) => {
        logger.error('shutdown failed', { error: err.message });
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));

  logger.info(`tollgate listening on ${gateway.url}`, { data_dir: config.dataDir, store: store.kind, audit_durability: config.audit.durability });
  for (const p of config.providers.values()) logger.info(`provider ${p.name}: ${gateway.url}/${p.name}/v1 -> ${p.baseUrl}`);
  for (const e of config.endpoints) {
    logger.info(`endpoint ${e.method} ${gateway.url}${e.path} -> ${e.vendor.vendor}/${e.vendor.version} ${e.origin}${e.upstreamPath}${e.public ? ' (public)' : ''}`);
  }
  for (const warning of config.warnings) logger.warn(warning);
  if (config.providers.size === 0 && config.endpoints.length === 0) {
    logger.warn('no provider enabled: set CZ_GATEWAY_MISTRAL_ENABLED=true and CZ_GATEWAY_MISTRAL_API_KEY=... (see README)');
  }
  if (admin.generated) {
    logger.info(`admin token generated and saved to ${config.dataDir}/admin-token (shown once): ${admin.token}`);
  }
  if (gateway.policies.snapshot.policyCount === 0) {
    if (config.strictPolicy) logger.warn('STRICT POLICY MODE with no policy: every request is denied until you create one');
    else {
      logger.warn(
        '*** OBSERVE MODE: no policy exists, so every request is ALLOWED and audited with reason OBSERVE_MODE_NO_POLICY. ' +
          'Create a policy to enforce, or set CZ_GATEWAY_STRICT_POLICY=true to deny without one. ***',
      );
    }
  }

}

main().catch((err: Error) => {
  process.stderr.write(`tollgate: fatal: ${err.stack ?? err.message}\n`);
  process.exit(1);
});
