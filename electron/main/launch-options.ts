import path from 'node:path';

/** The backend's log levels (pino's names). */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface LaunchOptions {
  /** Where the backend keeps its database and logs; null means the per-user default (electron/shared-node/data-dir.ts). */
  dataDir: string | null;
  logLevel: LogLevel;
  /** Problems with the given options, worth a line on stderr; the app still starts. */
  warnings: string[];
}

/**
 * Reads `--data-dir` and `--log-level` (either `--flag value` or `--flag=value`) from the
 * command line, with `SUTAZAI_DATA_DIR` and `SUTAZAI_LOG_LEVEL` as fallbacks. The command
 * line wins over the environment.
 */
export function parseLaunchOptions(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): LaunchOptions {
  const warnings: string[] = [];
  const dataDirArg = readFlag(argv, 'data-dir');
  const logLevelArg = readFlag(argv, 'log-level');

  let dataDir: string | null = null;
  const rawDataDir = dataDirArg ?? nonEmpty(env.SUTAZAI_DATA_DIR);
  if (rawDataDir !== undefined) {
    if (rawDataDir === '') warnings.push('--data-dir needs a folder; using the default data folder');
    else dataDir = path.resolve(rawDataDir);
  }

  let logLevel: LogLevel = 'info';
  const rawLevel = logLevelArg ?? nonEmpty(env.SUTAZAI_LOG_LEVEL);
  if (rawLevel !== undefined) {
    if (isLogLevel(rawLevel)) logLevel = rawLevel;
    else warnings.push(`unknown log level "${rawLevel}" (use one of ${LOG_LEVELS.join(', ')}); using info`);
  }
  return { dataDir, logLevel, warnings };
}

/** The arguments the backend utility process is started with. */
export function backendArgs(dataDir: string, logLevel: LogLevel): string[] {
  return ['--data-dir', dataDir, '--mode', 'desktop', '--log-level', logLevel];
}

/** Where the backend writes its logs below its data folder; named in the crash dialog. */
export function backendLogDir(dataDir: string): string {
  return path.join(dataDir, 'logs');
}

function isLogLevel(value: string): value is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(value);
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value;
}

/** `--name value` or `--name=value`; the last occurrence wins. '' when the value is missing. */
function readFlag(argv: readonly string[], name: string): string | undefined {
  let found: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === `--${name}`) {
      const next = argv[i + 1];
      found = next === undefined || next.startsWith('--') ? '' : next;
      if (found !== '') i++;
    } else if (arg?.startsWith(`--${name}=`)) {
      found = arg.slice(name.length + 3);
    }
  }
  return found;
}
