import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { statusFor, type RuntimeStatus } from '../../../agents-runtime/src/server/grpc-status';
import { ApiError } from '../../../electron/contract';
import { runtimeCallError, type RuntimeCallContext } from '../../../electron/backend/fleet/runtime-call-error';
import { ForwardRefusedError } from '../../../electron/backend/hosts/ssh/ssh-errors';

// The mapping from what gRPC and the tunnel report to what the operator reads. The paths
// through a real tunnel are in tests/integration/fleet; these are the ones a read-only
// connection cannot provoke there (the runtime refusing a role, a runtime error code).

const endpoint = { name: 'db-1', address: '198.18.0.5', port: 22 };
const context: RuntimeCallContext = {
  method: 'RestartProcess',
  host: 'host db-1 (198.18.0.5:22)',
  runtimeAddress: '127.0.0.1:7600',
  serverName: 'localhost',
  timeoutMs: 10_000,
  sessionLost: null,
  sessionClosed: false,
  tunnelFailure: null,
  closed: false,
  tls: null,
};

/** A ServiceError as grpc-js builds it from a status the runtime sent (its metadata as the trailers carried it). */
function serviceError(object: { code: number; details: string; metadata?: RuntimeStatus['metadata'] }): ServiceError {
  const metadata = new Metadata();
  for (const [key, value] of Object.entries(object.metadata?.toHeaders() ?? {})) metadata.set(key, String(value));
  return Object.assign(new Error(`${object.code} ${object.details}`), { ...object, code: object.code as status, metadata }) as ServiceError;
}

describe('runtimeCallError', () => {
  it("passes on the runtime's refusal of a role, with the runtime's remedy", () => {
    const refused = statusFor(
      'PERMISSION_DENIED',
      'RestartProcess needs the role operator; this client certificate carries viewer',
      'ask an admin for a client certificate with the role operator (or a higher role), or use one that has it',
    );
    const error = runtimeCallError(serviceError({ code: refused.code, details: refused.details, metadata: refused.metadata }), context);
    expect(error.toBody()).toEqual({
      code: 'RUNTIME_PERMISSION_DENIED',
      message:
        'The runtime on host db-1 (198.18.0.5:22) refused RestartProcess: RestartProcess needs the role operator; this client certificate carries viewer.',
      remedy: 'ask an admin for a client certificate with the role operator (or a higher role), or use one that has it',
    });
  });

  it("names the runtime's own error code and remedy for any other failure", () => {
    const notFound = statusFor('PROCESS_NOT_FOUND', 'no process named web', 'pick a process from ListProcesses');
    const error = runtimeCallError(serviceError({ code: notFound.code, details: notFound.details, metadata: notFound.metadata }), context);
    expect(error.toBody()).toEqual({
      code: 'RUNTIME_CALL_FAILED',
      message: 'The runtime on host db-1 (198.18.0.5:22) failed RestartProcess (PROCESS_NOT_FOUND): no process named web.',
      remedy: 'pick a process from ListProcesses',
    });
  });

  it('says forwarding is off, not that the runtime is down, when sshd forbids the tunnel', () => {
    const prohibited = new ForwardRefusedError(
      endpoint,
      '127.0.0.1',
      7600,
      Object.assign(new Error('(SSH) Channel open failure: administratively prohibited: open failed'), { reason: 1 }),
    );
    const error = runtimeCallError(serviceError({ code: status.UNAVAILABLE, details: 'Connection dropped' }), {
      ...context,
      tunnelFailure: prohibited,
    });
    expect(error.code).toBe('RUNTIME_UNREACHABLE');
    expect(error.message).toContain('its sshd does not allow a tunnel to 127.0.0.1:7600 (administratively prohibited: open failed)');
    expect(error.remedy).toContain('AllowTcpForwarding');
  });

  it('prefers the lost SSH connection over what gRPC saw of it', () => {
    const lost = new ApiError('SSH_FAILED', 'The SSH connection was lost on host db-1 (198.18.0.5:22).', 'Try again.');
    const error = runtimeCallError(serviceError({ code: status.DEADLINE_EXCEEDED, details: 'Deadline exceeded' }), {
      ...context,
      sessionLost: lost,
    });
    expect(error.code).toBe('RUNTIME_UNREACHABLE');
    expect(error.message).toBe(
      'RestartProcess cannot reach the runtime on host db-1 (198.18.0.5:22): the SSH connection it runs through was lost.',
    );
    expect(error.cause).toBe(lost);
  });
});
