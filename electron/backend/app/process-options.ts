import os from 'node:os';
import { parseArgs } from 'node:util';
import { ApiError } from '../../contract';
import { isLogLevel, type LogLevel } from '../logging/logger';
import { resolveDataDir } from './data-dir';

export interface BackendOptions {
  dataDir: string;
  logLevel: LogLevel;
}

/** The options every entry (desktop backend, web mode, CLI) shares. */
export const SHARED_OPTION_SPEC = {
  'data-dir': { type: 'string' },
  'log-level': { type: 'string' },
} as const;

export function sharedOptions(values: { 'data-dir'?: string | undefined; 'log-level'?: string | undefined }): BackendOptions {
  const level = values['log-level'] ?? process.env.SUTAZAI_LOG_LEVEL ?? 'info';
  if (!isLogLevel(level)) {
    throw new ApiError(
      'BAD_PARAMS',
      `Unknown log level "${level}".`,
      'Use one of fatal, error, warn, info, debug, trace or silent.',
    );
  }
  return {
    dataDir: resolveDataDir(values['data-dir'], { platform: process.platform, env: process.env, homedir: os.homedir() }),
    logLevel: level,
  };
}

/** Parses argv strictly: an unknown flag is an error with a remedy, not silently ignored. */
export function parseEntryArgs<T extends Record<string, { type: 'string' | 'boolean' }>>(
  argv: string[],
  spec: T,
  usage: string,
) {
  try {
    return parseArgs({ args: argv, options: { ...SHARED_OPTION_SPEC, ...spec }, allowPositionals: true, strict: true });
  } catch (error) {
    throw new ApiError('BAD_PARAMS', (error as Error).message, `Usage: ${usage}`);
  }
}
