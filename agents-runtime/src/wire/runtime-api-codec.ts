/**
 * The runtime's services as the daemon serves and calls them: each method's path and stream
 * flags from the API's checked-in descriptor (generated/runtime-api.json, kept fresh by
 * `npm run gen:proto:check`), its messages coded by descriptor-codec.ts. Nothing here loads
 * protobufjs or grpc-js: the daemon's bundle holds neither (issue 13, footprint). Clients of
 * the runtime (the control center, tests) use load-proto.ts and runtime-client-protos.ts,
 * which code the same bytes with protobufjs (tests/unit/runtime/descriptor-codec.test.ts).
 */
import runtimeApi from '../generated/runtime-api.json';
import { readDescriptor, resolveName, type DescriptorCodecs, type MessageCodec } from './descriptor-codec';

export interface RuntimeMethodCodec {
  path: string;
  requestStream: boolean;
  responseStream: boolean;
  requestSerialize(message: unknown): Buffer;
  requestDeserialize(bytes: Buffer): unknown;
  responseSerialize(message: unknown): Buffer;
  responseDeserialize(bytes: Buffer): unknown;
}

/** Service full name (`sutazai.runtime.v1.Runtime`) -> method name -> its codec. */
export type RuntimeServiceCodecs = Readonly<Record<string, Readonly<Record<string, RuntimeMethodCodec>>>>;

function messageOf(codecs: DescriptorCodecs, typeName: string, service: string): MessageCodec {
  const scope = service.slice(0, service.lastIndexOf('.'));
  const codec = resolveName(codecs.messages, typeName, scope);
  if (codec === undefined) throw new Error(`the API descriptor has no message ${typeName} for ${service}`);
  return codec;
}

let cached: RuntimeServiceCodecs | undefined;

/** The services of the checked-in descriptor (read once per process). */
export function runtimeServiceCodecs(): RuntimeServiceCodecs {
  if (cached !== undefined) return cached;
  const codecs = readDescriptor(runtimeApi);
  const services: Record<string, Record<string, RuntimeMethodCodec>> = {};
  for (const [service, methods] of codecs.services) {
    const table: Record<string, RuntimeMethodCodec> = {};
    for (const [name, method] of Object.entries(methods)) {
      const request = messageOf(codecs, method.requestType, service);
      const response = messageOf(codecs, method.responseType, service);
      table[name] = {
        path: `/${service}/${name}`,
        requestStream: method.requestStream === true,
        responseStream: method.responseStream === true,
        requestSerialize: (message) => request.encode(message),
        requestDeserialize: (bytes) => request.decode(bytes),
        responseSerialize: (message) => response.encode(message),
        responseDeserialize: (bytes) => response.decode(bytes),
      };
    }
    services[service] = table;
  }
  cached = services;
  return services;
}
