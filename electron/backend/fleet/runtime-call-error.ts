import { status, type ServiceError } from '@grpc/grpc-js';
import { ApiError } from '../../contract';
import { runtimeErrorFromMetadata } from '../../../agents-runtime/src/wire';
import { ForwardRefusedError } from '../hosts/ssh/ssh-errors';
import type { TlsDiagnosis } from './diagnose-runtime-tls';

/**
 * What a failed call to a runtime means to the operator. gRPC says little (UNAVAILABLE
 * covers a dead SSH link, a stopped runtime and a refused certificate alike), so the
 * tunnel's and the session's own account of what happened is asked first.
 */
export interface RuntimeCallContext {
  /** `GetInfo`, `ListProcesses`, `Health/Check`. */
  method: string;
  /** `host db-1 (198.18.0.5:22)`, as SSH errors name it. */
  host: string;
  /** Where the runtime listens on the host, `127.0.0.1:7600`. */
  runtimeAddress: string;
  /** The name the runtime's certificate is checked against. */
  serverName: string;
  timeoutMs: number;
  /** The SSH session's error when it ended on its own. */
  sessionLost: ApiError | null;
  /** Set once the SSH session was closed on purpose (the host was disconnected). */
  sessionClosed: boolean;
  /** Why the tunnel's latest connection failed (a ForwardRefusedError, or the session's error). */
  tunnelFailure: ApiError | null;
  /** Set once the caller closed the connection. */
  closed: boolean;
  /** A TLS handshake of our own after the call failed UNAVAILABLE (diagnose-runtime-tls.ts). */
  tls: TlsDiagnosis | null;
}

function seconds(ms: number): string {
  const value = ms / 1000;
  return `${Number.isInteger(value) ? value : value.toFixed(1)} s`;
}

/** The runtime's own message: its details are `CODE: message. Remedy: remedy`. */
function runtimeMessage(details: string): string {
  return details.replace(/^[A-Z_]+: /, '').replace(/\. Remedy: [\s\S]*$/, '');
}

export function runtimeCallError(error: unknown, context: RuntimeCallContext): ApiError {
  if (error instanceof ApiError) return error;
  const serviceError = error as Partial<ServiceError>;
  const code = typeof serviceError.code === 'number' ? serviceError.code : status.UNKNOWN;
  const details = typeof serviceError.details === 'string' ? serviceError.details : String(error);
  const runtime = `the runtime on ${context.host}`;
  const cause = { cause: error };

  if (context.closed) {
    return new ApiError(
      'RUNTIME_UNREACHABLE',
      `The connection to ${runtime} was closed, so ${context.method} did not complete.`,
      'Open the connection again and retry.',
      cause,
    );
  }
  if (context.sessionLost !== null) {
    return new ApiError(
      'RUNTIME_UNREACHABLE',
      `${context.method} cannot reach ${runtime}: the SSH connection it runs through was lost.`,
      'Check that the machine is up and reachable over SSH (probe it from its host page), then connect again.',
      { cause: context.sessionLost },
    );
  }
  if (context.sessionClosed) {
    return new ApiError(
      'RUNTIME_UNREACHABLE',
      `${context.method} cannot reach ${runtime}: the SSH session it runs through was closed.`,
      'Connect to the host again, then retry.',
      cause,
    );
  }
  if ((code === status.UNAVAILABLE || code === status.DEADLINE_EXCEEDED) && context.tunnelFailure !== null) {
    const failure = context.tunnelFailure;
    if (failure instanceof ForwardRefusedError && failure.prohibited) {
      return new ApiError(
        'RUNTIME_UNREACHABLE',
        `${context.method} cannot reach ${runtime}: its sshd does not allow a tunnel to ${context.runtimeAddress} (${failure.detail}).`,
        failure.remedy,
        cause,
      );
    }
    if (failure instanceof ForwardRefusedError) {
      return new ApiError(
        'RUNTIME_UNREACHABLE',
        `${context.method} cannot reach ${runtime}: nothing answers on ${context.runtimeAddress} there (${failure.detail}).`,
        `Check that sutazai-runtime runs on the machine (\`systemctl status sutazai-runtime\`) and listens on ${context.runtimeAddress} (its config's listen).`,
        cause,
      );
    }
    return new ApiError('RUNTIME_UNREACHABLE', `${context.method} cannot reach ${runtime}: ${failure.message}`, failure.remedy, cause);
  }
  switch (code) {
    case status.DEADLINE_EXCEEDED:
      return new ApiError(
        'RUNTIME_UNREACHABLE',
        `${sentence(runtime)} did not answer ${context.method} within ${seconds(context.timeoutMs)}.`,
        'The network or the machine may be cut off or overloaded: check that it answers over SSH, then retry.',
        cause,
      );
    case status.UNAVAILABLE:
      if (context.tls?.kind === 'server-certificate-refused') {
        return new ApiError(
          'RUNTIME_TLS_FAILED',
          `The server certificate of ${runtime} was refused: ${context.tls.detail}.`,
          `A runtime's server certificate must come from this install's CA and name ${context.serverName}: issue the host a new one from this install, install it in the runtime's config (tls.cert, tls.key) and restart sutazai-runtime.`,
          cause,
        );
      }
      if (context.tls?.kind === 'client-certificate-refused') {
        return new ApiError(
          'RUNTIME_TLS_FAILED',
          `${sentence(runtime)} refused this operator's client certificate at the TLS handshake.`,
          "The runtime trusts only client certificates of the CA in its config (tls.ca): use a certificate issued by this install's CA, or install this install's CA certificate on the machine and restart sutazai-runtime.",
          cause,
        );
      }
      return new ApiError(
        'RUNTIME_UNREACHABLE',
        `${sentence(runtime)} cannot be reached (${context.tls?.kind === 'no-handshake' ? context.tls.detail : details}).`,
        `Check that sutazai-runtime runs on the machine (\`systemctl status sutazai-runtime\`) and listens on ${context.runtimeAddress}, then retry.`,
        cause,
      );
    case status.PERMISSION_DENIED:
    case status.UNAUTHENTICATED:
      return new ApiError(
        'RUNTIME_PERMISSION_DENIED',
        `${sentence(runtime)} refused ${context.method}: ${runtimeMessage(details)}.`,
        runtimeErrorFromMetadata(serviceError.metadata)?.remedy ||
          "Use a client certificate from this install's CA with a role that may do this.",
        cause,
      );
    default: {
      const fromRuntime = runtimeErrorFromMetadata(serviceError.metadata);
      return new ApiError(
        'RUNTIME_CALL_FAILED',
        `${sentence(runtime)} failed ${context.method}${fromRuntime ? ` (${fromRuntime.code})` : ''}: ${runtimeMessage(details)}.`,
        fromRuntime?.remedy || 'See the runtime log on the machine (journalctl -u sutazai-runtime), then retry.',
        cause,
      );
    }
  }
}

function sentence(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
