/**
 * Where a failed call carries the runtime's own error code and remedy: trailing metadata
 * beside the gRPC status (server/grpc-status.ts writes it), so a client can tell the
 * operator what failed and what to do rather than only a status number.
 */
/** grpc-js's Metadata and the runtime's own CallMetadata both fit. */
interface ReadableMetadata {
  get(key: string): ReadonlyArray<string | Buffer>;
}

export const ERROR_CODE_HEADER = 'sutazai-error-code';
export const REMEDY_HEADER = 'sutazai-remedy';

/** The runtime's code and remedy from a failed call's metadata, for clients and tests. */
export function runtimeErrorFromMetadata(metadata: ReadableMetadata | null | undefined): { code: string; remedy: string } | null {
  const code = metadata?.get(ERROR_CODE_HEADER)[0];
  if (typeof code !== 'string') return null;
  const remedy = metadata?.get(REMEDY_HEADER)[0];
  return { code, remedy: typeof remedy === 'string' ? remedy : '' };
}
