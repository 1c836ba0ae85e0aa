/**
 * One stored row of the 1 s tier: the 60 seconds of one minute of one series, packed as
 * little-endian float64 (480 bytes) with NaN where no sample came. A fixed size means
 * each flush rewrites the row in place instead of growing it.
 */
export const SECONDS_PER_CHUNK = 60;
export const CHUNK_MS = SECONDS_PER_CHUNK * 1000;
export const CHUNK_BYTES = SECONDS_PER_CHUNK * 8;

export function emptyChunk(): Float64Array {
  return new Float64Array(SECONDS_PER_CHUNK).fill(Number.NaN);
}

export function encodeChunk(slots: Float64Array): Buffer {
  if (slots.length !== SECONDS_PER_CHUNK) {
    throw new RangeError(`a chunk holds ${SECONDS_PER_CHUNK} seconds, got ${slots.length}`);
  }
  const bytes = Buffer.allocUnsafe(CHUNK_BYTES);
  for (let i = 0; i < SECONDS_PER_CHUNK; i++) bytes.writeDoubleLE(slots[i] as number, i * 8);
  return bytes;
}

/** Throws on a blob of the wrong size: a row we did not write is damage, not data. */
export function decodeChunk(bytes: Uint8Array): Float64Array {
  if (bytes.byteLength !== CHUNK_BYTES) {
    throw new RangeError(`a chunk is ${CHUNK_BYTES} bytes, got ${bytes.byteLength}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const slots = new Float64Array(SECONDS_PER_CHUNK);
  for (let i = 0; i < SECONDS_PER_CHUNK; i++) slots[i] = view.getFloat64(i * 8, true);
  return slots;
}
