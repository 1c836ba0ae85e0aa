// The runtime's API as the daemon loads it (the checked-in descriptor, service definitions
// built by service-definitions.ts) against what it replaced (@grpc/proto-loader parsing the
// .proto files): the same services, paths, stream flags and client aliases, the same bytes
// for the same object and the same object back, for every method of every .proto.
import { loadSync, type MethodDefinition as LoaderMethod, type PackageDefinition as LoaderDefinition } from '@grpc/proto-loader';
import path from 'node:path';
import { Enum, Root, Type, type INamespace } from 'protobufjs';
import { describe, expect, it } from 'vitest';
import runtimeApi from '../../../agents-runtime/src/generated/runtime-api.json';
import { loadRuntimePackageDefinition, PROTO_CONVERSION_OPTIONS, PROTO_FILES } from '../../../agents-runtime/src/wire/load-proto';
import { camelCaseName, serviceDefinitions, type PackageDefinition } from '../../../agents-runtime/src/wire/service-definitions';

const PROTO_DIR = path.resolve(__dirname, '../../../agents-runtime/proto');
const ALL_PROTOS = [...PROTO_FILES, 'sutazai/core/v1/core.proto'];
const LOADER_OPTIONS = { keepCase: false, ...PROTO_CONVERSION_OPTIONS, includeDirs: [PROTO_DIR] };

type Method = { path: string; requestStream: boolean; responseStream: boolean; originalName?: string } & Record<string, unknown>;
const methodsOf = (definition: PackageDefinition | LoaderDefinition): Map<string, Method> =>
  new Map(
    Object.values(definition)
      .filter((entry) => !('format' in entry))
      .flatMap((service) => Object.values(service as Record<string, Method>).map((method) => [method.path, method] as const)),
  );

/** An object that sets every field of `type` (two items in lists and maps, each oneof's first member, nesting 3 deep). */
function sample(type: Type, depth = 0): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const seenOneofs = new Set<string>();
  for (const field of type.fieldsArray) {
    if (field.partOf) {
      if (seenOneofs.has(field.partOf.name)) continue;
      seenOneofs.add(field.partOf.name);
    }
    const resolved = field.resolve().resolvedType;
    const one = (n: number): unknown => {
      if (resolved instanceof Type) return depth < 3 ? sample(resolved, depth + 1) : {};
      if (resolved instanceof Enum) return Object.keys(resolved.values)[Math.min(n, Object.keys(resolved.values).length - 1)];
      switch (field.type) {
        case 'string':
          return `${field.name}-${n}`;
        case 'bool':
          return n % 2 === 1;
        case 'bytes':
          return Buffer.from([n, 0xff, 0]);
        case 'double':
        case 'float':
          return n + 0.5;
        case 'int64':
        case 'uint64':
        case 'sint64':
        case 'fixed64':
        case 'sfixed64':
          return String(2 ** 40 + n);
        default:
          return n + 7;
      }
    };
    if (field.map) out[field.name] = { a: one(1), b: one(2) };
    else if (field.repeated) out[field.name] = [one(1), one(2)];
    else out[field.name] = one(1);
  }
  return out;
}

describe("the runtime's API as the daemon loads it", () => {
  it('is what @grpc/proto-loader made of the .proto files: paths, streams, aliases, bytes and objects', () => {
    const root = new Root().loadSync(
      ALL_PROTOS.map((f) => path.join(PROTO_DIR, f)),
      { keepCase: false },
    );
    const ours = methodsOf(serviceDefinitions(root, PROTO_CONVERSION_OPTIONS));
    const theirs = methodsOf(loadSync(ALL_PROTOS, LOADER_OPTIONS));
    expect([...ours.keys()].sort()).toEqual([...theirs.keys()].sort());
    expect(ours.size).toBeGreaterThan(15);
    for (const [methodPath, mine] of ours) {
      const loader = theirs.get(methodPath) as unknown as LoaderMethod<object, object>;
      expect({
        path: mine.path,
        requestStream: mine.requestStream,
        responseStream: mine.responseStream,
        originalName: mine.originalName,
      }).toEqual({
        path: loader.path,
        requestStream: loader.requestStream,
        responseStream: loader.responseStream,
        originalName: loader.originalName,
      });
      const [serviceName, methodName] = methodPath.slice(1).split('/') as [string, string];
      const method = root.lookupService(serviceName).methods[methodName]!;
      for (const [side, type] of [
        ['request', method.resolvedRequestType!],
        ['response', method.resolvedResponseType!],
      ] as const) {
        const value = sample(type);
        const serialize = mine[`${side}Serialize`] as (v: object) => Buffer;
        const deserialize = mine[`${side}Deserialize`] as (b: Buffer) => object;
        const bytes = serialize(value);
        expect(Buffer.from(bytes).equals(Buffer.from(loader[`${side}Serialize`](value))), `${methodPath} ${side} bytes`).toBe(true);
        expect(deserialize(bytes), `${methodPath} ${side} object`).toEqual(loader[`${side}Deserialize`](bytes));
        expect(() => serialize([] as unknown as object)).toThrow(/got array instead/);
      }
    }
  });

  it('comes from the checked-in descriptor, which holds what runtime.proto and health.proto hold', () => {
    const parsed = new Root().loadSync(
      PROTO_FILES.map((f) => path.join(PROTO_DIR, f)),
      { keepCase: false },
    );
    parsed.resolveAll();
    expect(Root.fromJSON(runtimeApi as INamespace).toJSON()).toEqual(parsed.toJSON());
    const fromDescriptor = methodsOf(loadRuntimePackageDefinition());
    const fromFiles = methodsOf(loadRuntimePackageDefinition(PROTO_DIR));
    expect([...fromDescriptor.keys()]).toEqual([...fromFiles.keys()]);
    expect([...fromDescriptor.keys()]).toContain('/sutazai.runtime.v1.Runtime/StreamMetrics');
    expect([...fromDescriptor.keys()]).toContain('/grpc.health.v1.Health/Check');
  });

  it('builds no descriptor objects (what proto-loader kept for reflection: the bulk of its memory)', () => {
    const definition = loadRuntimePackageDefinition();
    expect(Object.keys(definition).sort()).toEqual(['grpc.health.v1.Health', 'sutazai.runtime.v1.Runtime']);
    for (const method of methodsOf(definition).values()) {
      expect(Object.keys(method).sort()).toEqual(
        [
          'originalName',
          'path',
          'requestDeserialize',
          'requestSerialize',
          'requestStream',
          'responseDeserialize',
          'responseSerialize',
          'responseStream',
        ].sort(),
      );
    }
  });

  it("names a method's client alias as lodash's camelCase does", () => {
    expect(['ListProcesses', 'GetGPUInfo', 'Check', 'V2Watch', 'streamMetrics'].map(camelCaseName)).toEqual([
      'listProcesses',
      'getGpuInfo',
      'check',
      'v2Watch',
      'streamMetrics',
    ]);
  });

  it('refuses a folder without the .proto files, with a remedy', () => {
    expect(() => loadRuntimePackageDefinition(path.join(PROTO_DIR, 'nowhere'))).toThrow(/gRPC API definitions are missing/);
  });
});
