import fs from 'node:fs';
import path from 'node:path';
import { ApiError } from '../../contract';
import { findProtoDir, PROTO_FILES, loadRuntimeProtos, type RuntimeProtos } from '../../../agents-runtime/src/wire';

/**
 * The runtime's gRPC API, loaded from the same .proto files and with the same options as
 * the runtime itself (agents-runtime/src/wire/load-proto.ts), so both ends agree on the wire.
 *
 * Where the files are: given explicitly; in a build, dist/runtime/proto beside
 * dist/backend (npm run build:runtime puts them there, and packaging ships dist/); in a
 * checkout, agents-runtime/proto. Searched upwards from this module and the working
 * directory, like the probe script.
 */
const FOLDERS = [path.join('runtime', 'proto'), path.join('agents-runtime', 'proto')];

export function findRuntimeProtoDir(options: { protoDir?: string } = {}): string {
  // A folder given on purpose is the only one: falling back to another would hide the mistake.
  const starts = [typeof __dirname === 'string' ? __dirname : null, process.cwd()].filter((d): d is string => d !== null);
  const found = options.protoDir
    ? PROTO_FILES.every((file) => fs.existsSync(path.join(options.protoDir!, file)))
      ? options.protoDir
      : undefined
    : findProtoDir(starts, FOLDERS, PROTO_FILES);
  if (found === undefined) {
    throw new ApiError(
      'INTERNAL',
      `The runtime API definitions (runtime.proto, health.proto) are missing from ${options.protoDir ?? 'this installation'}.`,
      'Reinstall the app; from a checkout, run `npm run build:runtime` or start it from the repository so agents-runtime/proto is found.',
    );
  }
  return found;
}

const loaded = new Map<string, RuntimeProtos>();

/** The Runtime and Health services, typed by the generated types; loaded once per folder. */
export function runtimeProtos(options: { protoDir?: string } = {}): RuntimeProtos {
  const dir = findRuntimeProtoDir(options);
  let protos = loaded.get(dir);
  if (protos === undefined) {
    protos = loadRuntimeProtos(dir);
    loaded.set(dir, protos);
  }
  return protos;
}
