/**
 * The gRPC status codes (grpc/doc/statuscodes.md), by number and by name: what a call ends
 * with on the wire (`grpc-status`), as grpc-js's clients read it.
 */
export const GrpcCode = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const;

export type GrpcCodeName = keyof typeof GrpcCode;
export type GrpcCodeNumber = (typeof GrpcCode)[GrpcCodeName];

const NAMES = new Map<number, GrpcCodeName>(Object.entries(GrpcCode).map(([name, code]) => [code, name as GrpcCodeName]));

/** The name of a status code (`UNKNOWN` for a number outside the table, as a peer may send). */
export function grpcCodeName(code: number): GrpcCodeName {
  return NAMES.get(code) ?? 'UNKNOWN';
}
