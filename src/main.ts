/**
 * `npm start`: validates the configuration, opens the embedded store and serves until SIGTERM/SIGINT, then shuts
 * down gracefully (in-flight requests finish, queued audit records are written).
 * Exit codes of a refused start: 78 (EX_CONFIG) a bad setting, 74 (EX_IOERR) the store cannot be opened, 75
 * (EX_TEMPFAIL) the port is in use.
 */
import path from 'node:path';
import { ADMIN_TOKEN_FILE, resolveAdminToken } from './admin/token.js';
import { ConfigError, loadConfig } from './config/config.js';
import { announcePolicyMode, ListenError, startGateway } from './gateway.js';
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
  let gateway;
  try {
    gateway = await startGateway(config, store, admin.token, logger);
  } catch (err) {
    if (!(err instanceof ListenError)) throw err;
    process.stderr.write(`tollgate: ${err.message}\n`);
    // A busy port may free up (EX_TEMPFAIL: retrying can help); any other address problem is a setting (EX_CONFIG).
    process.exit(err.inUse ? 75 : 78);
  }
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

  const reach = gateway.url === gateway.listenUrl ? '' : ` (every interface; from this machine: ${gateway.url})`;
  logger.info(`tollgate listening on ${gateway.listenUrl}${reach}`, { data_dir: config.dataDir, store: store.kind, audit_durability: config.audit.durability });
  logger.info(`tool calls a policy denies: ${config.toolDenyMode} (CZ_GATEWAY_TOOL_DENY_MODE); prompt PII and secrets: ${config.piiAction} (CZ_GATEWAY_PII_ACTION)`);
  for (const p of config.providers.values()) logger.info(`provider ${p.name}: ${gateway.url}/${p.name}/v1 -> ${p.baseUrl}`);
  for (const e of config.endpoints) {
    logger.info(`endpoint ${e.method} ${gateway.url}${e.path} -> ${e.vendor.vendor}/${e.vendor.version} ${e.origin}${e.upstreamPath}${e.public ? ' (public)' : ''}`);
  }
  for (const warning of config.warnings) logger.warn(warning);
  if (config.providers.size === 0 && config.endpoints.length === 0) {
    logger.warn('no provider enabled: set CZ_GATEWAY_MISTRAL_ENABLED=true and CZ_GATEWAY_MISTRAL_API_KEY=... (see README)');
  }
  if (admin.generated) {
    const file = path.join(config.dataDir, ADMIN_TOKEN_FILE);
    logger.info(`admin token generated and saved to ${file} (private to this user; the CLI reads it from there)`);
    // The token goes to a terminal only, never into the log stream: a redirected or collected stderr may be shipped elsewhere.
    if (process.stderr.isTTY) process.stderr.write(`\n  admin token (shown once; also in ${file}):\n  ${admin.token}\n\n`);
  }
  announcePolicyMode(logger, gateway.policies.mode, null);
}

main().catch((err: Error) => {
  process.stderr.write(`tollgate: fatal: ${err.stack ?? err.message}\n`);
  process.exit(1);
});
