import { z } from 'zod';

/**
 * Every failure an operator or a client can meet carries a stable code, a one-line
 * message saying what happened, and a remedy saying what to do about it.
 */
export const ERROR_CODES = [
  // Messages crossing a process boundary.
  'BAD_JSON',
  'BAD_MESSAGE',
  'MESSAGE_TOO_LARGE',
  'UNKNOWN_METHOD',
  'UNKNOWN_EVENT',
  'BAD_PARAMS',
  'UNKNOWN_SUBSCRIPTION',
  'UNAUTHORIZED',
  'DISCONNECTED',
  'TIMEOUT',
  // Store and data directory.
  'STORE_NEWER_VERSION',
  'STORE_CORRUPT',
  'STORE_UNREADABLE',
  'DATA_DIR_NOT_WRITABLE',
  'STORE_MIGRATION_FAILED',
  'STORE_WRITE_FAILED',
  // Hosts and facts.
  'NOT_FOUND',
  'HOST_NOT_FOUND',
  'HOST_NAME_TAKEN',
  'HOST_IN_USE',
  'IMPORT_INVALID',
  'PROBE_FAILED',
  'PROBE_OUTPUT_INVALID',
  'NO_FACTS',
  // SSH: each way a connection can fail is its own code, with its own remedy.
  'ADDRESS_UNRESOLVED',
  'HOST_UNREACHABLE',
  'CONNECTION_REFUSED',
  'HANDSHAKE_TIMEOUT',
  'HOST_KEY_UNKNOWN',
  'HOST_KEY_MISMATCH',
  'AUTH_FAILED',
  'KEY_FILE_UNREADABLE',
  'KEY_PASSPHRASE_WRONG',
  'SSH_FAILED',
  // Sealed secrets.
  'SECRETS_LOCKED',
  'SECRETS_PASSPHRASE_WRONG',
  // Anything we did not foresee; the log has the details.
  'INTERNAL',
] as const;

export const ErrorCodeSchema = z.enum(ERROR_CODES);
export type ErrorCode = z.infer<typeof ErrorCodeSchema>;

export const ApiErrorBodySchema = z.object({
  code: ErrorCodeSchema,
  message: z.string(),
  remedy: z.string(),
});
export type ApiErrorBody = z.infer<typeof ApiErrorBodySchema>;

/** An error that is safe to show to the operator as it is. */
export class ApiError extends Error {
  readonly code: ErrorCode;
  readonly remedy: string;

  constructor(code: ErrorCode, message: string, remedy: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ApiError';
    this.code = code;
    this.remedy = remedy;
  }

  toBody(): ApiErrorBody {
    return { code: this.code, message: this.message, remedy: this.remedy };
  }

  static fromBody(body: ApiErrorBody): ApiError {
    return new ApiError(body.code, body.message, body.remedy);
  }
}

export function isApiError(value: unknown): value is ApiError {
  return value instanceof ApiError;
}
