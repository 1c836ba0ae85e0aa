/**
 * Loads core.proto and health.proto at run time with @grpc/proto-loader. The .proto files
 * are not bundled into the JavaScript: they ship in a `proto/` folder next to the bundle
 * (dist/runtime/core.cjs + dist/runtime/proto/...). Looked for, in order:
 *   1. $SUTAZAI_PROTO_DIR
 *   2. <folder of the running file>/proto          (the shipped layout)
 *   3. <folder of the running file>/../proto       (from source: agents-runtime/programs/ -> agents-runtime/proto)
 *   4. <cwd>/agents-runtime/proto                  (from the repository root)
 * The running file is process.argv[1], which is right for `node core.cjs` and for
 * `tsx agents-runtime/programs/core.ts` alike (no import.meta, which a CJS bundle lacks).
 */
import type { GrpcObject } from '@grpc/grpc-js';
import { loadPackageDefinition } from '@grpc/grpc-js';
import { loadSync, type Options } from '@grpc/proto-loader';
import fs from 'node:fs';
import path from 'node:path';
import type { ProtoGrpcType as CoreProto } from '../../src/generated/core';
import type { ProtoGrpcType as HealthProto } from '../../src/generated/health';

export const CORE_PROTO = 'sutazai/core/v1/core.proto';
export const HEALTH_PROTO = 'grpc/health/v1/health.proto';

/** Keep in step with GENERATOR_OPTIONS in scripts/gen-proto.mjs (as src/wire/load-proto.ts does). */
export const PROTO_LOADER_OPTIONS: Options = { keepCase: false, longs: String, enums: String, defaults: true, oneofs: true };

export type ProgramProtos = CoreProto & HealthProto;

export function protoDirCandidates(
  env: NodeJS.ProcessEnv = process.env,
  runningFile: string | undefined = process.argv[1],
  cwd: string = process.cwd(),
): string[] {
  const candidates: string[] = [];
  if (env.SUTAZAI_PROTO_DIR) candidates.push(path.resolve(env.SUTAZAI_PROTO_DIR));
  if (runningFile) {
    const here = path.dirname(path.resolve(runningFile));
    candidates.push(path.join(here, 'proto'), path.join(here, '..', 'proto'));
  }
  candidates.push(path.join(cwd, 'agents-runtime', 'proto'));
  return candidates;
}

export function findProtoDir(
  env: NodeJS.ProcessEnv = process.env,
  runningFile: string | undefined = process.argv[1],
  cwd: string = process.cwd(),
): string {
  const candidates = protoDirCandidates(env, runningFile, cwd);
  // An explicit SUTAZAI_PROTO_DIR is the only place looked at: a wrong one is an error, not a fallback.
  const searched = env.SUTAZAI_PROTO_DIR ? candidates.slice(0, 1) : candidates;
  const found = searched.find((dir) => fs.existsSync(path.join(dir, CORE_PROTO)) && fs.existsSync(path.join(dir, HEALTH_PROTO)));
  if (found === undefined) {
    throw new Error(
      `cannot find ${CORE_PROTO} and ${HEALTH_PROTO}; looked in ${searched.join(', ')}. Ship the proto/ folder next to the program or set SUTAZAI_PROTO_DIR`,
    );
  }
  return found;
}

export function loadProgramProtos(protoDir: string = findProtoDir()): ProgramProtos {
  const definition = loadSync([CORE_PROTO, HEALTH_PROTO], { ...PROTO_LOADER_OPTIONS, includeDirs: [protoDir] });
  return loadPackageDefinition(definition) as GrpcObject as unknown as ProgramProtos;
}
