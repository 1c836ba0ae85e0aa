/**
 * How a failure leaves the server: a gRPC status code a generic client understands, plus
 * the runtime's own code and remedy in trailing metadata (wire/error-metadata.ts) for the
 * control center. One table, exhaustive over the codes, so a new
 * RuntimeErrorCode cannot ship without a decision here.
 */
import { CallMetadata } from '../grpc-http2/call-metadata';
import type { CallStatus } from '../grpc-http2/grpc-server';
import { GrpcCode as status, type GrpcCodeNumber } from '../grpc-http2/status-codes';
import { RuntimeError, type RuntimeErrorCode } from '../runtime-error';
import { ERROR_CODE_HEADER, REMEDY_HEADER } from '../wire/error-metadata';

/** A status that carries the runtime's code and remedy in its metadata. */
export type RuntimeStatus = CallStatus & { metadata: CallMetadata };

export const GRPC_STATUS_OF: Readonly<Record<RuntimeErrorCode, GrpcCodeNumber>> = {
  MANIFEST_INVALID: status.INVALID_ARGUMENT,
  MANIFEST_CYCLE: status.INVALID_ARGUMENT,
  CONFIG_INVALID: status.INVALID_ARGUMENT,
  PROCESS_NOT_FOUND: status.NOT_FOUND,
  COMMAND_NOT_FOUND: status.FAILED_PRECONDITION,
  SPAWN_FAILED: status.FAILED_PRECONDITION,
  HEALTH_TARGET_IN_USE: status.FAILED_PRECONDITION,
  LOG_DIR_NOT_WRITABLE: status.FAILED_PRECONDITION,
  STATE_FILE_INVALID: status.FAILED_PRECONDITION,
  LOG_DISK_FULL: status.RESOURCE_EXHAUSTED,
  CERTIFICATE_INVALID: status.UNAUTHENTICATED,
  PERMISSION_DENIED: status.PERMISSION_DENIED,
  ACCESS_POLICY_DENIED: status.PERMISSION_DENIED,
  ACCESS_POLICY_INVALID: status.PERMISSION_DENIED,
  ACCESS_TOKEN_INVALID: status.UNAUTHENTICATED,
  CREDENTIAL_REVOKED: status.UNAUTHENTICATED,
  ACCESS_STATE_STALE: status.FAILED_PRECONDITION,
  ACCESS_STATE_LOST: status.FAILED_PRECONDITION,
  INTERNAL: status.INTERNAL,
};

/** The status a call ends with when the API threw `error`. Anything not a RuntimeError is INTERNAL, without its message. */
export function statusFromError(error: unknown): RuntimeStatus {
  const runtimeError =
    error instanceof RuntimeError
      ? error
      : new RuntimeError(
          'INTERNAL',
          'sutazai-runtime failed while answering the call',
          'see the runtime log for the cause, and report it if it repeats',
          { cause: error },
        );
  return statusFor(runtimeError.code, runtimeError.message, runtimeError.remedy);
}

export function statusFor(code: RuntimeErrorCode, message: string, remedy: string): RuntimeStatus {
  const metadata = new CallMetadata();
  metadata.set(ERROR_CODE_HEADER, code);
  // Metadata values are HTTP/2 header values: keep them to one printable line.
  metadata.set(REMEDY_HEADER, toHeaderValue(remedy));
  // The remedy also goes in the details, for clients (grpcurl) that show only those.
  return { code: GRPC_STATUS_OF[code], details: `${code}: ${message}. Remedy: ${remedy}`, metadata };
}

function toHeaderValue(text: string): string {
  return text.replace(/[\r\n]+/g, ' ').replace(/[^\x20-\x7e]/g, '?');
}
