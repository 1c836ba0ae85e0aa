import { ApiError, type ErrorCode } from '../../contract';
import type { Origin } from './config-layer';

/**
 * An ApiError that also says where, so the app can put the cursor on the line: the
 * message carries the same `file:line:column: key:` text for the CLI and the log.
 */
export class ConfigError extends ApiError {
  readonly origin: Origin | undefined;
  /** The key's dotted path, when the error is about one key. */
  readonly key: string | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    remedy: string,
    where: { origin?: Origin; key?: string } = {},
    options?: { cause?: unknown; cliRemedy?: string },
  ) {
    super(code, message, remedy, options);
    this.name = 'ConfigError';
    this.origin = where.origin;
    this.key = where.key;
  }
}
