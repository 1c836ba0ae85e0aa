// Calls to a runtime's real gRPC client with an optional Bearer token, and the refusal they
// end in (the runtime's error code from the metadata, and the details), for the tests of the
// access state and tokens at the runtime.
import * as grpc from '@grpc/grpc-js';
import { runtimeErrorFromMetadata } from '../../agents-runtime/src/wire';

const CALL_DEADLINE_MS = 5_000;

/** Runs one unary call (`start` gets the metadata, options and callback) with `authorization: Bearer <token>` when a token is given. */
export function bearerCall<T>(
  start: (metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<T>) => void,
  token: string | null,
): Promise<T> {
  const metadata = new grpc.Metadata();
  if (token !== null) metadata.set('authorization', `Bearer ${token}`);
  return new Promise<T>((resolve, reject) =>
    start(metadata, { deadline: Date.now() + CALL_DEADLINE_MS }, (error, value) => (error ? reject(error) : resolve(value as T))),
  );
}

/** The refusal `promise` ends in; fails the test when it resolves. */
export async function runtimeRefusal(promise: Promise<unknown>): Promise<{ code: string | undefined; details: string }> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e as grpc.ServiceError,
  );
  if (error === null) throw new Error('expected the call to be refused');
  return { code: runtimeErrorFromMetadata(error.metadata)?.code, details: error.details };
}
