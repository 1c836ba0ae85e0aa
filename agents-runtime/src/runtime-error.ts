/**
 * Every failure the runtime reports (to its log, as an event, or over gRPC) carries a
 * stable code, a one-line message and a remedy, like the control center's ApiError.
 * The runtime ships on its own, so it keeps its own small copy of the idea.
 */
export const RUNTIME_ERROR_CODES = [
  'MANIFEST_INVALID',
  'MANIFEST_CYCLE',
  'COMMAND_NOT_FOUND',
  'SPAWN_FAILED',
  'HEALTH_TARGET_IN_USE',
  'LOG_DIR_NOT_WRITABLE',
  'LOG_DISK_FULL',
  'STATE_FILE_INVALID',
  'PROCESS_NOT_FOUND',
  'CERTIFICATE_INVALID',
  'PERMISSION_DENIED',
  /** The role allows the call, and the access policy the control center pushed (access_control: abac) does not. */
  'ACCESS_POLICY_DENIED',
  /** The control center's access policy has a file that does not load: every call it would judge is refused (fail closed). */
  'ACCESS_POLICY_INVALID',
  'ACCESS_TOKEN_INVALID',
  'CREDENTIAL_REVOKED',
  'ACCESS_STATE_STALE',
  /** The access state kept on disk is gone or unreadable though the control center pushed one before: operators' calls wait for its next push. */
  'ACCESS_STATE_LOST',
  'CONFIG_INVALID',
  'INTERNAL',
] as const;

export type RuntimeErrorCode = (typeof RUNTIME_ERROR_CODES)[number];

/** A RuntimeError as plain data: what supervisor events, instance statuses and the API carry. */
export interface ErrorInfo {
  code: RuntimeErrorCode;
  message: string;
  remedy: string;
}

export class RuntimeError extends Error {
  readonly code: RuntimeErrorCode;
  readonly remedy: string;

  constructor(code: RuntimeErrorCode, message: string, remedy: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RuntimeError';
    this.code = code;
    this.remedy = remedy;
  }

  toJSON(): ErrorInfo {
    return { code: this.code, message: this.message, remedy: this.remedy };
  }
}
