/**
 * Protocol Buffers encoding and decoding of the runtime's API, read from its checked-in
 * descriptor (generated/runtime-api.json, protobufjs's JSON form) without protobufjs: what
 * the daemon serves with (grpc-http2/), so that its bundle and heap hold no reflection
 * objects and no generated coders.
 *
 * Why: protobufjs builds a Type, Field and Enum object per element of the descriptor and
 * five generated functions per message type; loading the runtime's API and coding each of
 * its messages once holds ~1.2 MB of heap after collection in an otherwise empty process
 * (issue 13, footprint). This reads the descriptor into small tables and codes messages by
 * walking them.
 *
 * It gives exactly what the runtime's clients get from protobufjs with the options of
 * load-proto.ts (PROTO_CONVERSION_OPTIONS: longs and enums as strings, defaults, oneofs):
 * encode(value) is `Type.encode(Type.fromObject(value)).finish()` and decode(bytes) is
 * `Type.toObject(Type.decode(bytes), options)`, byte for byte and key for key
 * (tests/unit/runtime/descriptor-codec.test.ts compares both for every message type). It
 * covers what the API uses: proto3 scalars (string, bool, int32, uint32, int64, uint64,
 * double), enums, messages, repeated fields (packed numbers) and proto3 `optional`; a
 * descriptor with anything else (maps, bytes, real oneofs, other scalar types) is refused
 * when it is read, not mis-coded.
 */

type Scalar = 'string' | 'bool' | 'int32' | 'uint32' | 'int64' | 'uint64' | 'double';
const SCALARS = new Set<string>(['string', 'bool', 'int32', 'uint32', 'int64', 'uint64', 'double']);

interface EnumTable {
  kind: 'enum';
  byName: Map<string, number>;
  byNumber: Map<number, string>;
  /** The name of value 0, the field's default. */
  zeroName: string | number;
}

interface FieldTable {
  name: string;
  id: number;
  repeated: boolean;
  /** proto3 `optional`: present or absent, never defaulted; `_name` names it when present. */
  optional: boolean;
  scalar: Scalar | null;
  /** Set once every type is read. */
  enumType: EnumTable | null;
  messageType: MessageCodec | null;
  typeName: string;
}

interface DescriptorNamespace {
  nested?: Record<string, DescriptorNode>;
}
interface DescriptorNode extends DescriptorNamespace {
  fields?: Record<string, { type: string; id: number; rule?: string; options?: Record<string, unknown>; keyType?: string }>;
  oneofs?: Record<string, { oneof: string[] }>;
  values?: Record<string, number>;
  methods?: Record<string, DescriptorMethod>;
}
export interface DescriptorMethod {
  requestType: string;
  responseType: string;
  requestStream?: boolean;
  responseStream?: boolean;
}

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LENGTH = 2;
const WIRE_FIXED32 = 5;

export class MessageCodec {
  /** Fields in declaration order (protobufjs encodes in this order). */
  readonly fields: FieldTable[] = [];
  private readonly byId = new Map<number, FieldTable>();

  constructor(readonly fullName: string) {}

  addField(field: FieldTable): void {
    this.fields.push(field);
    this.byId.set(field.id, field);
  }

  /** `Type.encode(Type.fromObject(value)).finish()`. Throws TypeError where fromObject does. */
  encode(value: unknown): Buffer {
    const out = new ByteWriter();
    this.write(value, out);
    return out.finish();
  }

  /** `Type.toObject(Type.decode(bytes), PROTO_CONVERSION_OPTIONS)`. Throws on bytes that are not this message. */
  decode(bytes: Buffer): Record<string, unknown> {
    return this.read(new ByteReader(bytes, 0, bytes.length));
  }

  private write(value: unknown, out: ByteWriter): void {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new TypeError(`.${this.fullName}: object expected`);
    const object = value as Record<string, unknown>;
    for (const field of this.fields) {
      const given = object[field.name];
      if (given === null || given === undefined) continue;
      if (field.repeated) {
        if (!Array.isArray(given)) throw new TypeError(`.${this.fullName}.${field.name}: array expected`);
        if (field.scalar !== null && field.scalar !== 'string') {
          // proto3 packs repeated numbers; an empty list writes nothing.
          if (given.length === 0) continue;
          const packed = new ByteWriter();
          for (const item of given) writeScalarValue(field.scalar, item, packed);
          out.tag(field.id, WIRE_LENGTH);
          out.bytes(packed.finish());
          continue;
        }
        for (const item of given) this.writeOne(field, item, out);
        continue;
      }
      this.writeOne(field, given, out);
    }
  }

  private writeOne(field: FieldTable, item: unknown, out: ByteWriter): void {
    if (field.messageType !== null) {
      if (item === null || item === undefined) return;
      if (typeof item !== 'object') throw new TypeError(`.${this.fullName}.${field.name}: object expected`);
      const inner = new ByteWriter();
      field.messageType.write(item, inner);
      out.tag(field.id, WIRE_LENGTH);
      out.bytes(inner.finish());
      return;
    }
    if (field.enumType !== null) {
      const number = typeof item === 'number' ? item : field.enumType.byName.get(String(item));
      // fromObject leaves a name it does not know unset.
      if (number === undefined) return;
      out.tag(field.id, WIRE_VARINT);
      out.int32(number);
      return;
    }
    const scalar = field.scalar!;
    if (scalar === 'string') {
      out.tag(field.id, WIRE_LENGTH);
      out.bytes(Buffer.from(String(item), 'utf8'));
      return;
    }
    out.tag(field.id, scalar === 'double' ? WIRE_FIXED64 : WIRE_VARINT);
    writeScalarValue(scalar, item, out);
  }

  private read(reader: ByteReader): Record<string, unknown> {
    const object: Record<string, unknown> = {};
    // toObject's order: the lists, then every defaulted field, then what was decoded.
    for (const field of this.fields) if (field.repeated) object[field.name] = [];
    for (const field of this.fields) if (!field.repeated && !field.optional) object[field.name] = defaultOf(field);
    const present = new Map<FieldTable, unknown>();
    while (reader.more()) {
      const key = reader.varint32();
      const id = key >>> 3;
      const wire = key & 7;
      const field = this.byId.get(id);
      if (field === undefined) {
        reader.skip(wire);
        continue;
      }
      if (field.repeated) {
        const list = object[field.name] as unknown[];
        if (field.scalar !== null && field.scalar !== 'string' && wire === WIRE_LENGTH) {
          const inner = reader.sub();
          while (inner.more()) list.push(readScalarValue(field.scalar, inner));
        } else list.push(this.readOne(field, reader));
        continue;
      }
      const value = this.readOne(field, reader);
      if (field.optional) present.set(field, value);
      else object[field.name] = value;
    }
    // A proto3 optional field, when present, comes after the others, in declaration order, with `_name` naming it.
    for (const field of this.fields) {
      if (!present.has(field)) continue;
      object[field.name] = present.get(field);
      object[`_${field.name}`] = field.name;
    }
    return object;
  }

  private readOne(field: FieldTable, reader: ByteReader): unknown {
    if (field.messageType !== null) return field.messageType.read(reader.sub());
    if (field.enumType !== null) {
      const number = reader.varint32() | 0;
      return field.enumType.byNumber.get(number) ?? number;
    }
    if (field.scalar === 'string') return reader.sub().utf8();
    return readScalarValue(field.scalar!, reader);
  }
}

function defaultOf(field: FieldTable): unknown {
  if (field.messageType !== null) return null;
  if (field.enumType !== null) return field.enumType.zeroName;
  switch (field.scalar) {
    case 'string':
      return '';
    case 'bool':
      return false;
    case 'int64':
    case 'uint64':
      return '0';
    default:
      return 0;
  }
}

/** A 64-bit value as fromObject takes it (Long.fromValue): a decimal string or a number, truncated. */
function toBigInt(value: unknown, unsigned: boolean): bigint {
  let big: bigint;
  if (typeof value === 'bigint') big = value;
  else if (typeof value === 'string') big = BigInt(value.trim() === '' ? '0' : value.trim());
  else {
    const number = Number(value);
    big = Number.isFinite(number) ? BigInt(Math.trunc(number)) : 0n;
  }
  return unsigned ? BigInt.asUintN(64, big) : BigInt.asIntN(64, big);
}

function writeScalarValue(scalar: Scalar, value: unknown, out: ByteWriter): void {
  switch (scalar) {
    case 'bool':
      out.varint(value ? 1 : 0);
      return;
    case 'int32':
      out.int32(Number(value) | 0);
      return;
    case 'uint32':
      out.varint(Number(value) >>> 0);
      return;
    case 'int64':
    case 'uint64':
      out.varint(BigInt.asUintN(64, toBigInt(value, scalar === 'uint64')));
      return;
    case 'double':
      out.double(Number(value));
      return;
    case 'string':
      out.bytes(Buffer.from(String(value), 'utf8'));
  }
}

function readScalarValue(scalar: Scalar, reader: ByteReader): unknown {
  switch (scalar) {
    case 'bool':
      // protobufjs reads a bool as a uint32: the low 32 bits.
      return BigInt.asUintN(32, reader.varint()) !== 0n;
    case 'int32':
      return Number(BigInt.asIntN(32, reader.varint()));
    case 'uint32':
      return Number(BigInt.asUintN(32, reader.varint()));
    case 'int64':
      return BigInt.asIntN(64, reader.varint()).toString();
    case 'uint64':
      return BigInt.asUintN(64, reader.varint()).toString();
    case 'double':
      return reader.double();
    case 'string':
      return reader.sub().utf8();
  }
}

class ByteWriter {
  private readonly chunks: Buffer[] = [];
  private current: number[] = [];

  tag(id: number, wire: number): void {
    this.varint((id << 3) | wire);
  }

  /** A number below 2^53 without BigInt (tags, lengths, 32-bit values: every varint but a 64-bit one). */
  varint(value: number | bigint): void {
    if (typeof value === 'number') {
      let rest = value;
      while (rest >= 0x80) {
        this.current.push((rest % 0x80) | 0x80);
        rest = Math.floor(rest / 0x80);
      }
      this.current.push(rest);
      return;
    }
    let rest = value;
    while (rest >= 0x80n) {
      this.current.push(Number(rest & 0x7fn) | 0x80);
      rest >>= 7n;
    }
    this.current.push(Number(rest));
  }

  /** int32 as protobufjs writes it: a negative one sign-extended to ten bytes. */
  int32(value: number): void {
    this.varint(value < 0 ? BigInt.asUintN(64, BigInt(value)) : value);
  }

  double(value: number): void {
    const bytes = Buffer.allocUnsafe(8);
    bytes.writeDoubleLE(value, 0);
    this.raw(bytes);
  }

  /** Length, then the bytes. */
  bytes(value: Buffer): void {
    this.varint(value.length);
    this.raw(value);
  }

  finish(): Buffer {
    this.flush();
    return Buffer.concat(this.chunks);
  }

  private raw(value: Buffer): void {
    this.flush();
    this.chunks.push(value);
  }

  private flush(): void {
    if (this.current.length === 0) return;
    this.chunks.push(Buffer.from(this.current));
    this.current = [];
  }
}

class ByteReader {
  constructor(
    private readonly buf: Buffer,
    private at: number,
    private readonly end: number,
  ) {}

  more(): boolean {
    return this.at < this.end;
  }

  varint(): bigint {
    let value = 0n;
    let shift = 0n;
    for (let i = 0; i < 10; i += 1) {
      const byte = this.byte();
      value |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return value;
      shift += 7n;
    }
    throw new RangeError('invalid varint encoding');
  }

  varint32(): number {
    return Number(BigInt.asUintN(32, this.varint()));
  }

  double(): number {
    if (this.at + 8 > this.end) throw new RangeError(`index out of range: ${this.at} + 8 > ${this.end}`);
    const value = this.buf.readDoubleLE(this.at);
    this.at += 8;
    return value;
  }

  /** The length-delimited field that starts here, as its own reader. */
  sub(): ByteReader {
    const length = this.varint32();
    if (this.at + length > this.end) throw new RangeError(`index out of range: ${this.at} + ${length} > ${this.end}`);
    const inner = new ByteReader(this.buf, this.at, this.at + length);
    this.at += length;
    return inner;
  }

  utf8(): string {
    return this.buf.toString('utf8', this.at, this.end);
  }

  skip(wire: number): void {
    if (wire === WIRE_VARINT) this.varint();
    else if (wire === WIRE_FIXED64) this.advance(8);
    else if (wire === WIRE_LENGTH) this.sub();
    else if (wire === WIRE_FIXED32) this.advance(4);
    else throw new Error(`invalid wire type ${wire}`);
  }

  private advance(bytes: number): void {
    if (this.at + bytes > this.end) throw new RangeError(`index out of range: ${this.at} + ${bytes} > ${this.end}`);
    this.at += bytes;
  }

  private byte(): number {
    if (this.at >= this.end) throw new RangeError(`index out of range: ${this.at} + 1 > ${this.end}`);
    const byte = this.buf[this.at]!;
    this.at += 1;
    return byte;
  }
}

/** Every message and enum of a descriptor, by full name, and its services' methods. */
export interface DescriptorCodecs {
  messages: ReadonlyMap<string, MessageCodec>;
  services: ReadonlyMap<string, Readonly<Record<string, DescriptorMethod>>>;
}

/** `typeName` as protobufjs resolves it from `scope` (a full name): from the innermost scope outwards. */
export function resolveName<T>(table: ReadonlyMap<string, T>, typeName: string, scope: string): T | undefined {
  const parts = scope.split('.');
  for (let i = parts.length; i >= 0; i -= 1) {
    const found = table.get([...parts.slice(0, i), typeName].join('.'));
    if (found !== undefined) return found;
  }
  return undefined;
}

/** Reads a protobufjs JSON descriptor; throws on anything this codec does not cover. */
export function readDescriptor(root: DescriptorNamespace): DescriptorCodecs {
  const messages = new Map<string, MessageCodec>();
  const enums = new Map<string, EnumTable>();
  const services = new Map<string, Record<string, DescriptorMethod>>();
  const pending: Array<{ scope: string; codec: MessageCodec; node: DescriptorNode }> = [];
  const visit = (namespace: DescriptorNamespace, prefix: string): void => {
    for (const [name, node] of Object.entries(namespace.nested ?? {})) {
      const fullName = prefix === '' ? name : `${prefix}.${name}`;
      if (node.values !== undefined) {
        const byName = new Map(Object.entries(node.values));
        const byNumber = new Map<number, string>();
        for (const [valueName, number] of byName) if (!byNumber.has(number)) byNumber.set(number, valueName);
        enums.set(fullName, { kind: 'enum', byName, byNumber, zeroName: byNumber.get(0) ?? 0 });
      } else if (node.methods !== undefined) {
        services.set(fullName, node.methods);
      } else if (node.fields !== undefined) {
        const codec = new MessageCodec(fullName);
        messages.set(fullName, codec);
        pending.push({ scope: fullName, codec, node });
      }
      if (node.nested !== undefined) visit(node, fullName);
    }
  };
  visit(root, '');
  for (const { scope, codec, node } of pending) {
    const synthetic = new Set<string>();
    for (const [oneofName, oneof] of Object.entries(node.oneofs ?? {})) {
      const field = node.fields![oneof.oneof[0]!];
      if (oneof.oneof.length !== 1 || oneofName !== `_${oneof.oneof[0]}` || field?.options?.['proto3_optional'] !== true)
        throw new Error(`${scope}: the oneof ${oneofName} is not a proto3 optional field, which this codec does not cover`);
      synthetic.add(oneof.oneof[0]!);
    }
    for (const [name, field] of Object.entries(node.fields!)) {
      if (field.keyType !== undefined) throw new Error(`${scope}.${name}: map fields are not covered`);
      const scalar = SCALARS.has(field.type) ? (field.type as Scalar) : null;
      const enumType = scalar === null ? (resolveName(enums, field.type, scope) ?? null) : null;
      const messageType = scalar === null && enumType === null ? (resolveName(messages, field.type, scope) ?? null) : null;
      if (scalar === null && enumType === null && messageType === null)
        throw new Error(`${scope}.${name}: type ${field.type} is not covered (or not in the descriptor)`);
      codec.addField({
        name,
        id: field.id,
        repeated: field.rule === 'repeated',
        optional: synthetic.has(name),
        scalar,
        enumType,
        messageType,
        typeName: field.type,
      });
    }
  }
  return { messages, services };
}
