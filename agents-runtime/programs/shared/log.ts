/**
 * Structured log lines on stdout, one JSON object per line:
 * {"ts":"2025-01-01T00:00:00.000Z","level":"info","program":"core","msg":"listening","port":7700}
 * sutazai-runtime captures stdout into the instance's log file; anything that reads it
 * can split on newlines and JSON.parse each line.
 */
export type Level = 'debug' | 'info' | 'warn' | 'error';

const RANK: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

export function createLogger(
  program: string,
  base: Record<string, unknown> = {},
  level: string = process.env.SUTAZAI_LOG_LEVEL ?? 'info',
): Logger {
  const min = RANK[(level in RANK ? level : 'info') as Level];
  const write = (lvl: Level, msg: string, fields: Record<string, unknown> = {}): void => {
    if (RANK[lvl] < min) return;
    const line = JSON.stringify({ ts: new Date().toISOString(), level: lvl, program, ...base, msg, ...fields }, (_key, value: unknown) =>
      value instanceof Error ? { name: value.name, message: value.message } : typeof value === 'bigint' ? value.toString() : value,
    );
    process.stdout.write(`${line}\n`);
  };
  return {
    debug: (msg, fields) => write('debug', msg, fields),
    info: (msg, fields) => write('info', msg, fields),
    warn: (msg, fields) => write('warn', msg, fields),
    error: (msg, fields) => write('error', msg, fields),
  };
}
