import { readFileSync } from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { ApiError } from '../../contract';
import { isLogLevel, type LogLevel } from '../logging/logger';
import type { VaultKeySource } from '../secrets/secret-vault';
import { resolveDataDir } from '../../shared-node/data-dir';

export interface BackendOptions {
  dataDir: string;
  logLevel: LogLevel;
  /** The operator's passphrase for sealed secrets, when given (never on the command line itself). */
  vaultKey?: VaultKeySource;
}

/** The options every entry (desktop backend, web mode, CLI) shares. */
export const SHARED_OPTION_SPEC = {
  'data-dir': { type: 'string' },
  'log-level': { type: 'string' },
  'passphrase-file': { type: 'string' },
} as const;

export function sharedOptions(values: {
  'data-dir'?: string | undefined;
  'log-level'?: string | undefined;
  'passphrase-file'?: string | undefined;
}): BackendOptions {
  const level = values['log-level'] ?? process.env.SUTAZAI_LOG_LEVEL ?? 'info';
  if (!isLogLevel(level)) {
    throw new ApiError('BAD_PARAMS', `Unknown log level "${level}".`, 'Use one of fatal, error, warn, info, debug, trace or silent.');
  }
  const passphrase = readPassphrase(values['passphrase-file']);
  return {
    dataDir: resolveDataDir(values['data-dir'], { platform: process.platform, env: process.env, homedir: os.homedir() }),
    logLevel: level,
    ...(passphrase ? { vaultKey: { kind: 'passphrase' as const, passphrase } } : {}),
  };
}

/**
 * The vault passphrase comes from a file (first line) or SUTAZAI_PASSPHRASE: never
 * from argv, which other users of the machine can read in the process list.
 */
function readPassphrase(file: string | undefined): string | undefined {
  if (file) {
    try {
      return readFileSync(file, 'utf8').split(/\r?\n/, 1)[0] ?? '';
    } catch (error) {
      throw new ApiError(
        'BAD_PARAMS',
        `The passphrase file ${file} cannot be read (${(error as NodeJS.ErrnoException).code}).`,
        'Give a readable file whose first line is the passphrase.',
      );
    }
  }
  return process.env.SUTAZAI_PASSPHRASE || undefined;
}

/** Parses argv strictly: an unknown flag is an error with a remedy, not silently ignored. */
export function parseEntryArgs<T extends Record<string, { type: 'string' | 'boolean' }>>(argv: string[], spec: T, usage: string) {
  try {
    return parseArgs({ args: argv, options: { ...SHARED_OPTION_SPEC, ...spec }, allowPositionals: true, strict: true });
  } catch (error) {
    throw new ApiError('BAD_PARAMS', (error as Error).message, `Usage: ${usage}`);
  }
}
