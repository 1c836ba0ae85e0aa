import fs from 'node:fs';
import path from 'node:path';
import { ApiError } from '../../contract';
import { packagedPath } from '../app/packaged-resources';
import { findProtoDir } from '../../../agents-runtime/src/wire';
import { PROTO_FILES } from '../../../agents-runtime/src/wire/load-proto';
import { loadRuntimeProtos, type RuntimeProtos } from '../../../agents-runtime/src/wire/runtime-client-protos';

/**
 * The runtime's gRPC API, loaded from the same .proto files and with the same options as
 * the runtime itself (agents-runtime/src/wire/load-proto.ts), so both ends agree on the wire.
 *
 * Where the files are: given explicitly; in the packaged app, only where the package puts
 * them (app/packaged-resources.ts: resources/runtime/proto, from dist/runtime); from a
 * checkout, dist/runtime/proto beside dist/backend (npm run build:runtime puts them there) or
 * agents-runtime/proto, searched upwards from this module and the working directory, like
 * the probe script.
 */
const FOLDERS = [path.join('runtime', 'proto'), path.join('agents-runtime', 'proto')];

export function findRuntimeProtoDir(options: { protoDir?: string } = {}): string {
  // A folder given on purpose, or the package's own, is the only one: falling back to another would hide the mistake.
  const only = options.protoDir ?? packagedPath('protoDir');
  const starts = [typeof __dirname === 'string' ? __dirname : null, process.cwd()].filter((d): d is string => d !== null);
  const found =
    only !== undefined
      ? PROTO_FILES.every((file) => fs.existsSync(path.join(only, file)))
        ? only
        : undefined
      : findProtoDir(starts, FOLDERS, PROTO_FILES);
  if (found === undefined) {
    throw new ApiError(
      'INTERNAL',
      `The runtime API definitions (runtime.proto, health.proto) are missing from ${only ?? 'this installation'}.`,
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
