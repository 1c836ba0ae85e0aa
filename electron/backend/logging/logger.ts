import path from 'node:path';
import pino, { type Logger } from 'pino';
import { RotatingFile } from './rotating-file';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export function isLogLevel(value: string): value is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(value);
}

/**
 * Field names whose values are secrets wherever they appear (two levels deep). A
 * secret must never reach a log line, even by accident in a details object.
 */
const SECRET_KEYS = ['password', 'passphrase', 'newPassphrase', 'secret', 'token', 'privateKey', 'authorization', 'cookie'];
export const REDACT_PATHS = SECRET_KEYS.flatMap((key) => [key, `*.${key}`, `*.*.${key}`]);

export interface LoggerOptions {
  dataDir: string;
  level: LogLevel;
  /** Also write to stderr (development, web mode); the file is always written. */
  console: boolean;
  fileName?: string;
  maxBytes?: number;
  keep?: number;
}

export interface AppLogger {
  logger: Logger;
  file: string;
  close(): void;
}

/** Structured JSON logs in `<dataDir>/logs/`, rotated by size, optionally echoed to stderr. */
export function createAppLogger(options: LoggerOptions): AppLogger {
  const file = path.join(options.dataDir, 'logs', options.fileName ?? 'control-center.log');
  const rotating = new RotatingFile({ file, maxBytes: options.maxBytes ?? 5 * 1024 * 1024, keep: options.keep ?? 5 });
  const streams: pino.StreamEntry[] = [{ stream: rotating, level: options.level === 'silent' ? 'fatal' : options.level }];
  if (options.console) streams.push({ stream: process.stderr, level: options.level === 'silent' ? 'fatal' : options.level });
  const logger = pino(
    {
      level: options.level,
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      serializers: { err: pino.stdSerializers.err },
    },
    pino.multistream(streams),
  );
  return { logger, file, close: () => rotating.close() };
}
