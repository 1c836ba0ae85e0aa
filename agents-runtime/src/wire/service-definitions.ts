/**
 * gRPC service definitions from a protobufjs root: for each method its path, stream flags,
 * serializers and the camel-cased alias grpc-js adds to clients; what grpc-js's
 * loadPackageDefinition needs to make clients and serve, and nothing else.
 *
 * Memory: @grpc/proto-loader's createPackageDefinition also builds, for every message type
 * and for each method's request and response, a DescriptorProto object and the encoded
 * FileDescriptorProtos (for gRPC server reflection, which nothing here serves), and loading it
 * registers Google's descriptor.proto types: ~1.3 MB of the runtime daemon's heap after GC,
 * against ~0.2 MB for this (measured in one Node process; README, issue 13's footprint).
 * Serializing and deserializing are proto-loader's, with the same conversion options.
 */
import type { loadPackageDefinition, MethodDefinition } from '@grpc/grpc-js';
// The default import (the CommonJS module object), not named ones: Node's ES module loader finds
// no named exports in protobufjs (it assigns them at run time), so a script loaded as an ES module
// (tsx with top-level await) failed to start with named imports.
import protobufjs, { type IConversionOptions, type Method, type Namespace, type Root, type Type } from 'protobufjs';

const { Namespace: ProtoNamespace, Service: ProtoService, Type: ProtoType } = protobufjs;

export type PackageDefinition = Parameters<typeof loadPackageDefinition>[0];

/** lodash's camelCase for an ASCII identifier, as proto-loader names a method's alias (`ListProcesses` -> `listProcesses`). */
export function camelCaseName(name: string): string {
  const words = name.match(/[A-Z]{2,}(?=[A-Z][a-z]+[0-9]*|\b)|[A-Z]?[a-z]+[0-9]*|[A-Z]|[0-9]+/g) ?? [];
  return words
    .map((word, i) => {
      const lower = word.toLowerCase();
      return i === 0 ? lower : lower.charAt(0).toUpperCase() + lower.slice(1);
    })
    .join('');
}

function serializer(type: Type): (value: object) => Buffer {
  return (value) => {
    if (Array.isArray(value))
      throw new Error(`Failed to serialize message: expected object with ${type.name} structure, got array instead`);
    return type.encode(type.fromObject(value)).finish() as Buffer;
  };
}

function deserializer(type: Type, options: IConversionOptions): (bytes: Buffer) => object {
  return (bytes) => type.toObject(type.decode(bytes), options);
}

function methodDefinition(method: Method, serviceName: string, options: IConversionOptions): MethodDefinition<object, object> {
  // resolveAll() ran first: both types are set.
  const request = method.resolvedRequestType!;
  const response = method.resolvedResponseType!;
  return {
    path: `/${serviceName}/${method.name}`,
    requestStream: method.requestStream === true,
    responseStream: method.responseStream === true,
    requestSerialize: serializer(request),
    requestDeserialize: deserializer(request, options),
    responseSerialize: serializer(response),
    responseDeserialize: deserializer(response, options),
    originalName: camelCaseName(method.name),
  };
}

/** Every service under `root`, keyed by its full name (`sutazai.runtime.v1.Runtime`), as proto-loader keys them. */
export function serviceDefinitions(root: Root, options: IConversionOptions): PackageDefinition {
  root.resolveAll();
  const definition: PackageDefinition = {};
  const visit = (namespace: Namespace, prefix: string): void => {
    for (const nested of namespace.nestedArray) {
      const name = prefix === '' ? nested.name : `${prefix}.${nested.name}`;
      if (nested instanceof ProtoService) {
        const service: Record<string, MethodDefinition<object, object>> = {};
        for (const method of nested.methodsArray) service[method.name] = methodDefinition(method, name, options);
        definition[name] = service;
      } else if (nested instanceof ProtoNamespace && !(nested instanceof ProtoType)) {
        visit(nested, name);
      }
    }
  };
  visit(root, '');
  return definition;
}
