/**
 * The runtime's API as @grpc/grpc-js client constructors (the control center and tests): kept
 * apart from load-proto.ts so that the daemon's bundle, which imports that, holds no grpc-js.
 */
import type * as grpc from '@grpc/grpc-js';
import { loadPackageDefinition } from '@grpc/grpc-js';
import type { HealthClient, HealthDefinition } from '../generated/grpc/health/v1/Health';
import type { RuntimeClient, RuntimeDefinition } from '../generated/sutazai/runtime/v1/Runtime';
import { loadRuntimePackageDefinition } from './load-proto';

/**
 * A method's definition as built here: proto-loader's `requestType` and `responseType`
 * (descriptor objects for reflection) are not there, so the types do not claim them.
 */
type WithoutDescriptors<Definition> = { [Method in keyof Definition]: Omit<Definition[Method], 'requestType' | 'responseType'> };
type ServiceConstructor<Client, Definition> = (new (...args: ConstructorParameters<typeof grpc.Client>) => Client) & {
  service: WithoutDescriptors<Definition>;
};

/** The Runtime and Health services: the API's only entries (its message types are not loaded as objects). */
export interface RuntimeProtos {
  sutazai: { runtime: { v1: { Runtime: ServiceConstructor<RuntimeClient, RuntimeDefinition> } } };
  grpc: { health: { v1: { Health: ServiceConstructor<HealthClient, HealthDefinition> } } };
}

/** The Runtime and Health services, typed by the generated types. */
export function loadRuntimeProtos(protoDir?: string): RuntimeProtos {
  return loadPackageDefinition(loadRuntimePackageDefinition(protoDir)) as unknown as RuntimeProtos;
}
