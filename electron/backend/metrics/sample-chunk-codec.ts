import os from 'node:os';
import { BitReader, BitWriter } from './bit-stream';

/**
 * One stored row of the 1 s tier: the 60 seconds of one minute of one series, NaN where no
 * sample came. Two encodings, told apart by length:
 *
 * - open (and every row written before sealed rows existed): 60 little-endian float64,
 *   exactly CHUNK_BYTES. A fixed size means each flush of a minute still receiving samples
 *   rewrites the row in place instead of growing it.
 * - sealed (a completed minute, written once): a format byte, then which seconds are present,
 *   then the present values XOR-compressed against the previous one (Gorilla, as in
 *   Prometheus's TSDB chunks). Timestamps cost nothing: a value's second is its slot. A sealed
 *   encoding is always shorter than CHUNK_BYTES; a minute that would not compress (noise in
 *   every bit) is stored open-format instead, so a CHUNK_BYTES row is never read as sealed.
 */
export const SECONDS_PER_CHUNK = 60;
export const CHUNK_MS = SECONDS_PER_CHUNK * 1000;
export const CHUNK_BYTES = SECONDS_PER_CHUNK * 8;

// The stored byte order is little-endian on every machine; where memory is too (almost
// everywhere), packing is the array's own bytes instead of a write per value.
const NATIVE_LITTLE_ENDIAN = os.endianness() === 'LE';

/**
 * The sealed row's first byte. Its low bits name how values are stored; SOME_MISSING says an
 * 8-byte presence bitmap (bit i = second i, little-endian) follows, else all 60 are present.
 * A new encoding takes a new value here, so every row written before still reads.
 */
const FORMAT_XOR = 0x01;
/** Every present second holds the same value, stored once: a series that did not move all minute. */
const FORMAT_CONSTANT = 0x02;
const FORMAT_VALUES_MASK = 0x07;
const SOME_MISSING = 0x08;
const BITMAP_BYTES = 8;
/** The longest a sealed encoding can get: header, bitmap, first value, then 78 bits a value at worst. */
const SEALED_CAPACITY = 1 + BITMAP_BYTES + 8 + Math.ceil(((SECONDS_PER_CHUNK - 1) * 78) / 8);

/**
 * The values as little-endian float64 bytes. Where memory is little-endian these are the
 * values' own bytes, not a copy: bind them (SQLite copies a bound blob) or copy them before
 * the values change.
 */
export function float64sToBytes(values: Float64Array): Buffer {
  const bytes = Buffer.from(values.buffer, values.byteOffset, values.byteLength);
  return NATIVE_LITTLE_ENDIAN ? bytes : Buffer.from(bytes).swap64();
}

/** Little-endian float64 bytes (at any offset, so not necessarily aligned) as values. */
export function bytesToFloat64s(bytes: Uint8Array): Float64Array {
  const values = new Float64Array(bytes.byteLength / 8);
  const raw = new Uint8Array(values.buffer);
  raw.set(bytes);
  if (!NATIVE_LITTLE_ENDIAN) Buffer.from(values.buffer).swap64();
  return values;
}

export function emptyChunk(): Float64Array {
  return new Float64Array(SECONDS_PER_CHUNK).fill(Number.NaN);
}

function checkSlots(slots: Float64Array): void {
  if (slots.length !== SECONDS_PER_CHUNK) {
    throw new RangeError(`a chunk holds ${SECONDS_PER_CHUNK} seconds, got ${slots.length}`);
  }
}

/** The open row's bytes (the slots' own where memory is little-endian: see float64sToBytes). */
export function encodeChunk(slots: Float64Array): Buffer {
  checkSlots(slots);
  return float64sToBytes(slots);
}

// One float64's bits as two uint32 halves, without allocating per value.
const bits = new DataView(new ArrayBuffer(8));
function high(value: number): number {
  bits.setFloat64(0, value);
  return bits.getUint32(0);
}
function low(): number {
  return bits.getUint32(4);
}

function clz64(hi: number, lo: number): number {
  return hi !== 0 ? Math.clz32(hi) : 32 + Math.clz32(lo);
}
function ctz32(x: number): number {
  return 31 - Math.clz32(x & -x);
}
function ctz64(hi: number, lo: number): number {
  return lo !== 0 ? ctz32(lo) : 32 + ctz32(hi);
}

/** The completed minute's row: sealed (see the top), or open-format when that would not be shorter. */
// The one writer every sealed chunk is encoded with: encoding is synchronous, and finish() copies out what it wrote.
const sealedWriter = new BitWriter(SEALED_CAPACITY);

export function encodeSealedChunk(slots: Float64Array): Buffer {
  checkSlots(slots);
  let present = 0;
  let first = Number.NaN;
  let constant = true;
  // Indexed loops here and below: this runs once a minute per series, too seldom to be
  // optimized, and an iterator over a typed array makes an object per value until it is.
  for (let i = 0; i < SECONDS_PER_CHUNK; i++) {
    const value = slots[i] as number;
    if (Number.isNaN(value)) continue;
    if (present === 0) first = value;
    // Object.is: -0 and 0 differ in their bits, so they are not one constant.
    else if (constant && !Object.is(value, first)) constant = false;
    present++;
  }
  const someMissing = present < SECONDS_PER_CHUNK;
  const writer = sealedWriter;
  writer.reset();
  writer.writeByte((constant ? FORMAT_CONSTANT : FORMAT_XOR) | (someMissing ? SOME_MISSING : 0));
  if (someMissing) {
    let lowWord = 0;
    let highWord = 0;
    for (let i = 0; i < SECONDS_PER_CHUNK; i++) {
      if (Number.isNaN(slots[i] as number)) continue;
      if (i < 32) lowWord |= 1 << i;
      else highWord |= 1 << (i - 32);
    }
    writer.writeUint32LE(lowWord >>> 0);
    writer.writeUint32LE(highWord >>> 0);
  }
  if (present > 0) writeXorValues(writer, slots, constant);
  const sealed = writer.finish();
  return sealed.byteLength < CHUNK_BYTES ? sealed : encodeChunk(slots);
}

/**
 * The present values, oldest first: the first as its 64 bits; each next one as its XOR with
 * the one before: `0` when equal; `10` + the meaningful bits when they fit the previous
 * value's window of leading and trailing zeros; else `11`, 6 bits of leading zeros, 6 bits of
 * (meaningful length - 1), and the meaningful bits. A constant minute stops after the first.
 */
function writeXorValues(writer: BitWriter, slots: Float64Array, constantOnly: boolean): void {
  let prevHi = 0;
  let prevLo = 0;
  let leading = -1;
  let trailing = 0;
  let started = false;
  for (let i = 0; i < SECONDS_PER_CHUNK; i++) {
    const value = slots[i] as number;
    if (Number.isNaN(value)) continue;
    const hi = high(value);
    const lo = low();
    if (!started) {
      writer.writeBits(hi, 32);
      writer.writeBits(lo, 32);
      if (constantOnly) return;
      started = true;
      prevHi = hi;
      prevLo = lo;
      continue;
    }
    const xHi = (hi ^ prevHi) >>> 0;
    const xLo = (lo ^ prevLo) >>> 0;
    prevHi = hi;
    prevLo = lo;
    if (xHi === 0 && xLo === 0) {
      writer.writeBits(0, 1);
      continue;
    }
    const lead = clz64(xHi, xLo);
    const trail = ctz64(xHi, xLo);
    if (leading >= 0 && lead >= leading && trail >= trailing) {
      writer.writeBits(0b10, 2);
      writeWindow(writer, xHi, xLo, leading, 64 - leading - trailing);
      continue;
    }
    leading = lead;
    trailing = trail;
    const length = 64 - lead - trail;
    writer.writeBits(0b11, 2);
    writer.writeBits(lead, 6);
    writer.writeBits(length - 1, 6);
    writeWindow(writer, xHi, xLo, lead, length);
  }
}

/** Writes bits [start, start + length) of the 64-bit word (bit 0 = the most significant). */
function writeWindow(writer: BitWriter, hi: number, lo: number, start: number, length: number): void {
  const end = start + length;
  if (start < 32) {
    const upTo = Math.min(end, 32);
    writer.writeBits(hi >>> (32 - upTo), upTo - start);
  }
  if (end > 32) {
    const from = Math.max(start, 32);
    writer.writeBits(lo >>> (64 - end), end - from);
  }
}

/** Reads bits [start, start + length) of a 64-bit word into windowHi and windowLo (no array per value). */
let windowHi = 0;
let windowLo = 0;
function readWindow(reader: BitReader, start: number, length: number): void {
  const end = start + length;
  windowHi = 0;
  windowLo = 0;
  if (start < 32) {
    const upTo = Math.min(end, 32);
    windowHi = (reader.readBits(upTo - start) << (32 - upTo)) >>> 0;
  }
  if (end > 32) {
    const from = Math.max(start, 32);
    windowLo = (reader.readBits(end - from) * 2 ** (64 - end)) >>> 0;
  }
}

/**
 * The 60 seconds of a stored row, whichever encoding wrote it. Throws on bytes that are
 * neither: a row we did not write is damage, not data.
 */
export function decodeChunk(bytes: Uint8Array): Float64Array {
  if (bytes.byteLength === CHUNK_BYTES) return bytesToFloat64s(bytes);
  const format = bytes.byteLength > 0 ? (bytes[0] as number) : -1;
  const values = format & FORMAT_VALUES_MASK;
  if (format < 0 || (format & ~(FORMAT_VALUES_MASK | SOME_MISSING)) !== 0 || (values !== FORMAT_XOR && values !== FORMAT_CONSTANT)) {
    throw new RangeError(
      `a chunk is ${CHUNK_BYTES} bytes or starts with a known format byte, got ${bytes.byteLength} bytes starting ${format}`,
    );
  }
  const reader = new BitReader(bytes, 1);
  let lowWord = 0xffffffff;
  let highWord = 0x0fffffff; // seconds 32..59
  if ((format & SOME_MISSING) !== 0) {
    lowWord = reader.readUint32LE();
    highWord = reader.readUint32LE();
  }
  const slots = emptyChunk();
  let prevHi = 0;
  let prevLo = 0;
  let leading = 0;
  let length = 0;
  let started = false;
  for (let i = 0; i < SECONDS_PER_CHUNK; i++) {
    const present = i < 32 ? (lowWord >>> i) & 1 : (highWord >>> (i - 32)) & 1;
    if (present === 0) continue;
    if (!started) {
      prevHi = reader.readBits(32);
      prevLo = reader.readBits(32);
      started = true;
    } else if (values === FORMAT_XOR && reader.readBits(1) === 1) {
      if (reader.readBits(1) === 1) {
        leading = reader.readBits(6);
        length = reader.readBits(6) + 1;
        if (leading + length > 64) throw new RangeError(`a sealed chunk's value window runs past 64 bits (${leading} + ${length})`);
      } else if (length === 0) {
        throw new RangeError('a sealed chunk reuses a value window it never set');
      }
      readWindow(reader, leading, length);
      prevHi = (prevHi ^ windowHi) >>> 0;
      prevLo = (prevLo ^ windowLo) >>> 0;
    }
    bits.setUint32(0, prevHi);
    bits.setUint32(4, prevLo);
    slots[i] = bits.getFloat64(0);
  }
  return slots;
}
