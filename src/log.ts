/**
 * Minimal structured logger: one line per event on stderr. Kept tiny on purpose; the request path never logs on
 * success, so logging cost only matters for start-up, failures and debug.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

let stderrGuarded = false;

/**
 * Best-effort stderr: logging must never take the gateway down. A failing log stream (a full disk, a closed pipe)
 * drops lines; its errors are swallowed here instead of crashing the process as unhandled 'error' events.
 */
function writeStderr(line: string): void {
  process.stderr.write(line);
}

export function createLogger(level: LogLevel, write: (line: string) => void = writeStderr): Logger {
  if (write === writeStderr && !stderrGuarded) {
    stderrGuarded = true;
    process.stderr.on('error', () => undefined);
  }
  const min = ORDER[level];
  const emit = (lvl: LogLevel, msg: string, fields?: Record<string, unknown>) => {
    if (ORDER[lvl] < min) return;
    const extra = fields && Object.keys(fields).length > 0 ? ` ${JSON.stringify(fields)}` : '';
    try {
      write(`${new Date().toISOString()} ${lvl.toUpperCase().padEnd(5)} ${msg}${extra}\n`);
    } catch {
      // A log line that cannot be written is dropped: the request path and the audit go on.
    }
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
  };
}
