import { Metadata, status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { statusFor, statusFromError } from '../../../agents-runtime/src/server/grpc-status';
import { runtimeErrorFromMetadata } from '../../../agents-runtime/src/wire/error-metadata';
import { RuntimeError } from '../../../agents-runtime/src/runtime-error';

describe('statusFromError', () => {
  it.each([
    ['PROCESS_NOT_FOUND', status.NOT_FOUND],
    ['MANIFEST_INVALID', status.INVALID_ARGUMENT],
    ['MANIFEST_CYCLE', status.INVALID_ARGUMENT],
    ['SPAWN_FAILED', status.FAILED_PRECONDITION],
    ['LOG_DISK_FULL', status.RESOURCE_EXHAUSTED],
    ['PERMISSION_DENIED', status.PERMISSION_DENIED],
    ['INTERNAL', status.INTERNAL],
  ] as const)('maps %s to gRPC status %i, with code and remedy in the metadata', (code, grpcCode) => {
    const result = statusFromError(new RuntimeError(code, 'what happened', 'what to do'));
    expect(result.code).toBe(grpcCode);
    expect(result.details).toBe(`${code}: what happened. Remedy: what to do`);
    expect(runtimeErrorFromMetadata(result.metadata)).toEqual({ code, remedy: 'what to do' });
  });

  it('turns anything else into INTERNAL without leaking its message', () => {
    const result = statusFromError(new Error('secret path /root/.ssh/id_ed25519'));
    expect(result.code).toBe(status.INTERNAL);
    expect(result.details).not.toContain('secret');
    expect(runtimeErrorFromMetadata(result.metadata)?.code).toBe('INTERNAL');
  });

  it('keeps the remedy a legal one-line header value', () => {
    const result = statusFor('SPAWN_FAILED', 'x', 'first line\nsecond line – with a dash');
    expect(result.metadata.get('sutazai-remedy')).toEqual(['first line second line ? with a dash']);
  });
});

describe('runtimeErrorFromMetadata', () => {
  it('gives null when the metadata carries no runtime code', () => {
    expect(runtimeErrorFromMetadata(new Metadata())).toBeNull();
    expect(runtimeErrorFromMetadata(undefined)).toBeNull();
  });
});
