/**
 * Loads the runtime's .proto files at run time with the same options the checked-in types
 * were generated with (scripts/gen-proto.mjs), so the objects on the wire match them.
 * From source the files sit in agents-runtime/proto; the bundled daemon ships them next
 * to its single JS file and passes that directory.
 */
import type { GrpcObject } from '@grpc/grpc-js';
import { loadPackageDefinition } from '@grpc/grpc-js';
import { loadSync, type Options, type PackageDefinition } from '@grpc/proto-loader';
import fs from 'node:fs';
import path from 'node:path';
import type { ProtoGrpcType as HealthProto } from '../generated/health';
import type { ProtoGrpcType as RuntimeProto } from '../generated/runtime';
import { RuntimeError } from '../runtime-error';
import { findProtoDir } from './find-proto-dir';

export const PROTO_FILES = ['sutazai/runtime/v1/runtime.proto', 'grpc/health/v1/health.proto'] as const;

/** Keep in step with GENERATOR_OPTIONS in scripts/gen-proto.mjs. */
export const PROTO_LOADER_OPTIONS: Options = {
  keepCase: false,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
};

export type RuntimeProtos = RuntimeProto & HealthProto;

/**
 * agents-runtime/proto when running from source: found from the program being run and the
 * working directory, not from `import.meta` (this module is also bundled into the control
 * center's CommonJS backend, where `import.meta` is empty and esbuild warns about it).
 * Bundled programs pass their directory.
 */
export function defaultProtoDir(): string {
  const starts = [process.argv[1] ? path.dirname(path.resolve(process.argv[1])) : null, process.cwd()].filter(
    (d): d is string => d !== null,
  );
  return findProtoDir(starts, [path.join('agents-runtime', 'proto')], PROTO_FILES) ?? path.join(process.cwd(), 'agents-runtime', 'proto');
}

export function loadRuntimePackageDefinition(protoDir: string = defaultProtoDir()): PackageDefinition {
  const missing = PROTO_FILES.filter((file) => !fs.existsSync(path.join(protoDir, file)));
  if (missing.length > 0) {
    throw new RuntimeError(
      'CONFIG_INVALID',
      `the gRPC API definitions are missing from ${protoDir}: ${missing.join(', ')}`,
      'reinstall sutazai-runtime from its release bundle, or pass the directory that holds its proto/ files',
    );
  }
  return loadSync([...PROTO_FILES], { ...PROTO_LOADER_OPTIONS, includeDirs: [protoDir] });
}

/** The Runtime and Health services and their messages, typed by the generated types. */
export function loadRuntimeProtos(protoDir: string = defaultProtoDir()): RuntimeProtos {
  return loadPackageDefinition(loadRuntimePackageDefinition(protoDir)) as GrpcObject as unknown as RuntimeProtos;
}
