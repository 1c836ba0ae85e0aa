import os from 'node:os';

/**
 * One stored row of the 1 s tier: the 60 seconds of one minute of one series, packed as
 * little-endian float64 (480 bytes) with NaN where no sample came. A fixed size means
 * each flush rewrites the row in place instead of growing it.
 */
export const SECONDS_PER_CHUNK = 60;
export const CHUNK_MS = SECONDS_PER_CHUNK * 1000;
export const CHUNK_BYTES = SECONDS_PER_CHUNK * 8;

// The stored byte order is little-endian on every machine; where memory is too (almost
// everywhere), packing is the array's own bytes instead of a write per value.
const NATIVE_LITTLE_ENDIAN = os.endianness() === 'LE';

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

/** The row's bytes (the slots' own where memory is little-endian: see float64sToBytes). */
export function encodeChunk(slots: Float64Array): Buffer {
  if (slots.length !== SECONDS_PER_CHUNK) {
    throw new RangeError(`a chunk holds ${SECONDS_PER_CHUNK} seconds, got ${slots.length}`);
  }
  return float64sToBytes(slots);
}

/** Throws on a blob of the wrong size: a row we did not write is damage, not data. */
export function decodeChunk(bytes: Uint8Array): Float64Array {
  if (bytes.byteLength !== CHUNK_BYTES) {
    throw new RangeError(`a chunk is ${CHUNK_BYTES} bytes, got ${bytes.byteLength}`);
  }
  return bytesToFloat64s(bytes);
}
