import protobufjs, { type INamespace, type Type } from 'protobufjs';
import { describe, expect, it } from 'vitest';
import runtimeApi from '../../../agents-runtime/src/generated/runtime-api.json';
import { readDescriptor, type MessageCodec } from '../../../agents-runtime/src/wire/descriptor-codec';
import { PROTO_CONVERSION_OPTIONS } from '../../../agents-runtime/src/wire/load-proto';
import { seededRandom as random } from '../../support/seeded-random';

// The daemon's own codec against protobufjs, which every client of the runtime uses: for
// every message type of the API, seeded random values (absent, zero and extreme fields,
// enums by name and number, 64-bit values as strings and numbers, lists, nested messages)
// must encode to the same bytes and decode to the same object, key order included.

const root = protobufjs.Root.fromJSON(runtimeApi as INamespace);
const codecs = readDescriptor(runtimeApi);

const STRINGS = ['', 'core', 'agent-7', 'naïve “quotes” ✓', 'line\nbreak', 'x'.repeat(200), '🙂 emoji'];
const INT64 = ['0', '1', '-1', '1733500000000', '9223372036854775807', '-9223372036854775808', 42, -7, 1733500000000];
const UINT64 = ['0', '1', '4294967296', '18446744073709551615', '9007199254740993', 0, 5, 1e12];
const UINT32 = [0, 1, 127, 128, 300, 65535, 4294967295];
const INT32 = [0, 1, -1, 2147483647, -2147483648, 300];
const DOUBLES = [0, 1, -1, 0.5, 3.14159, 1e300, -2.5e-8, 99.9];

function valueOf(type: Type, next: () => number, depth: number): Record<string, unknown> {
  const pick = <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)]!;
  const object: Record<string, unknown> = {};
  for (const field of type.fieldsArray) {
    if (next() < 0.2) continue; // absent
    const one = (): unknown => {
      field.resolve();
      if (field.resolvedType instanceof protobufjs.Type) return depth > 2 ? {} : valueOf(field.resolvedType, next, depth + 1);
      if (field.resolvedType instanceof protobufjs.Enum) {
        const names = Object.keys(field.resolvedType.values);
        return next() < 0.7 ? pick(names) : field.resolvedType.values[pick(names)];
      }
      switch (field.type) {
        case 'string':
          return pick(STRINGS);
        case 'bool':
          return next() < 0.5;
        case 'int64':
          return pick(INT64);
        case 'uint64':
          return pick(UINT64);
        case 'uint32':
          return pick(UINT32);
        case 'int32':
          return pick(INT32);
        case 'double':
          return pick(DOUBLES);
        default:
          throw new Error(`no generator for ${field.type}`);
      }
    };
    object[field.name] = field.repeated ? Array.from({ length: Math.floor(next() * 4) }, one) : one();
  }
  return object;
}

const messageNames = [...codecs.messages.keys()];

describe('the descriptor codec (the daemon) against protobufjs (its clients)', () => {
  it('reads every message type of the API', () => {
    const protobufjsNames: string[] = [];
    const walk = (ns: protobufjs.NamespaceBase): void => {
      for (const nested of ns.nestedArray) {
        if (nested instanceof protobufjs.Type) protobufjsNames.push(nested.fullName.slice(1));
        if (nested instanceof protobufjs.Namespace) walk(nested);
      }
    };
    walk(root);
    expect(messageNames.sort()).toEqual(protobufjsNames.sort());
    expect(messageNames.length).toBeGreaterThan(30);
  });

  it.each(messageNames)('%s: the same bytes and the same objects for 60 random values and the empty one', (name) => {
    const type = root.lookupType(name);
    const codec: MessageCodec = codecs.messages.get(name)!;
    const next = random(name.length * 7919 + name.charCodeAt(name.length - 1));
    const values = [{}, ...Array.from({ length: 60 }, () => valueOf(type, next, 0))];
    for (const value of values) {
      const theirs = Buffer.from(type.encode(type.fromObject(value)).finish());
      const ours = codec.encode(value);
      expect(ours.toString('hex'), JSON.stringify(value)).toBe(theirs.toString('hex'));
      // JSON keeps key order: toObject's order is part of what clients see (a CLI's --json).
      expect(JSON.stringify(codec.decode(theirs))).toBe(JSON.stringify(type.toObject(type.decode(theirs), PROTO_CONVERSION_OPTIONS)));
    }
  });

  it('reads what another encoder may send: unknown fields skipped, a list not packed, a field twice (the last wins)', () => {
    const codec = codecs.messages.get('sutazai.runtime.v1.InstanceStatus')!;
    const type = root.lookupType('sutazai.runtime.v1.InstanceStatus');
    const unknown = Buffer.from([
      0xf8, 0x07, 0x05, 0xfa, 0x07, 0x02, 0x61, 0x62, 0xfd, 0x07, 1, 2, 3, 4, 0xf9, 0x07, 1, 2, 3, 4, 5, 6, 7, 8,
    ]);
    const twice = Buffer.concat([
      type.encode(type.fromObject({ pid: 5 })).finish(),
      unknown,
      type.encode(type.fromObject({ pid: 9, exitCode: -3 })).finish(),
    ]);
    expect(codec.decode(twice)).toEqual(type.toObject(type.decode(twice), PROTO_CONVERSION_OPTIONS));
    expect(codec.decode(twice)).toMatchObject({ pid: 9, exitCode: -3, _exitCode: 'exitCode' });
    const host = codecs.messages.get('sutazai.runtime.v1.HostMetrics');
    const doubles = host?.fields.find((f) => f.repeated && f.scalar === 'double');
    expect(doubles).toBeDefined();
    const unpacked = Buffer.alloc(9 * 2);
    for (const [i, v] of [1.5, -2].entries()) {
      unpacked[i * 9] = (doubles!.id << 3) | 1;
      unpacked.writeDoubleLE(v, i * 9 + 1);
    }
    expect(host!.decode(unpacked)[doubles!.name]).toEqual([1.5, -2]);
  });

  it('refuses bytes that are not a message, and values fromObject refuses', () => {
    const codec = codecs.messages.get('sutazai.runtime.v1.ProcessStatus')!;
    expect(() => codec.decode(Buffer.from([0x0a, 0x05, 0x61]))).toThrow(RangeError);
    expect(() => codec.decode(Buffer.from([0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]))).toThrow(RangeError);
    expect(() => codec.encode({ instances: 'x' })).toThrow(/instances: array expected/);
    expect(() => codec.encode({ instances: [5] })).toThrow(/object expected/);
    expect(() => codec.encode([])).toThrow(/object expected/);
  });

  it('refuses a descriptor with what it does not cover', () => {
    const withMap = { nested: { T: { fields: { m: { keyType: 'string', type: 'string', id: 1 } } } } };
    expect(() => readDescriptor(withMap)).toThrow(/map fields are not covered/);
    const withBytes = { nested: { T: { fields: { b: { type: 'bytes', id: 1 } } } } };
    expect(() => readDescriptor(withBytes)).toThrow(/type bytes is not covered/);
    const withOneof = {
      nested: { T: { oneofs: { choice: { oneof: ['a', 'b'] } }, fields: { a: { type: 'string', id: 1 }, b: { type: 'string', id: 2 } } } },
    };
    expect(() => readDescriptor(withOneof)).toThrow(/not a proto3 optional field/);
  });
});
