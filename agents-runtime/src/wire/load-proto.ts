/**
 * The runtime's gRPC API for its clients (the control center, tests), with the conversion
 * options the checked-in types were generated with (scripts/gen-proto.mjs), so the objects
 * on the wire match them.
 *
 * Without a folder it comes from the API's descriptor checked in beside the types
 * (generated/runtime-api.json, `npm run gen:proto`, kept fresh by `npm run gen:proto:check`);
 * with a folder (the control center names the .proto files its package ships) those files
 * are parsed. Either way only the services are built (service-definitions.ts: no descriptor
 * objects, ~1.1 MB less heap than @grpc/proto-loader's package definition), coded by
 * protobufjs. The daemon does not use this module: it codes the same descriptor itself
 * (runtime-api-codec.ts), without protobufjs or grpc-js. Clients made by grpc-js come from
 * runtime-client-protos.ts.
 */
import fs from 'node:fs';
import path from 'node:path';
// The default import, as in service-definitions.ts: Node's ES module loader finds no named exports in protobufjs.
import protobufjs, { type IConversionOptions, type INamespace, type Root } from 'protobufjs';

const { Root: ProtoRoot } = protobufjs;
import runtimeApi from '../generated/runtime-api.json';
import { RuntimeError } from '../runtime-error';
import { serviceDefinitions, type PackageDefinition } from './service-definitions';

export const PROTO_FILES = ['sutazai/runtime/v1/runtime.proto', 'grpc/health/v1/health.proto'] as const;

/**
 * Keep in step with GENERATOR_OPTIONS in scripts/gen-proto.mjs. Field names are camel-cased
 * (proto-loader's keepCase false) when the files are parsed, and in the descriptor already.
 */
export const PROTO_CONVERSION_OPTIONS: IConversionOptions = {
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
};

function rootFromFiles(protoDir: string): Root {
  const missing = PROTO_FILES.filter((file) => !fs.existsSync(path.join(protoDir, file)));
  if (missing.length > 0) {
    throw new RuntimeError(
      'CONFIG_INVALID',
      `the gRPC API definitions are missing from ${protoDir}: ${missing.join(', ')}`,
      'reinstall from the release bundle, or pass the directory that holds its proto/ files',
    );
  }
  const root = new ProtoRoot();
  // Imports resolve inside the folder only, as proto-loader's includeDirs did.
  root.resolvePath = (_origin, target) => path.join(protoDir, target);
  return root.loadSync([...PROTO_FILES], { keepCase: false });
}

/** The services, from the checked-in descriptor, or from the .proto files in `protoDir`. */
export function loadRuntimePackageDefinition(protoDir?: string): PackageDefinition {
  const root = protoDir === undefined ? ProtoRoot.fromJSON(runtimeApi as INamespace) : rootFromFiles(protoDir);
  return serviceDefinitions(root, PROTO_CONVERSION_OPTIONS);
}
