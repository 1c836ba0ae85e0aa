import { describe, expect, it } from 'vitest';
import { CHUNK_BYTES, SECONDS_PER_CHUNK, decodeChunk, emptyChunk, encodeChunk } from '../../../electron/backend/metrics/sample-chunk-codec';

describe('sample chunk codec', () => {
  it('round-trips a minute with gaps, keeping NaN as missing', () => {
    const slots = emptyChunk();
    slots[0] = 12.5;
    slots[1] = -0.000123;
    slots[30] = 8_589_934_592_123; // byte counts above 2^32 keep full precision
    slots[59] = Number.MAX_VALUE;
    const decoded = decodeChunk(encodeChunk(slots));
    expect(Array.from(decoded)).toEqual(Array.from(slots));
    expect(decoded.filter((v) => !Number.isNaN(v))).toHaveLength(4);
    expect(Number.isNaN(decoded[2])).toBe(true);
  });

  it('packs 60 little-endian float64 values into 480 bytes', () => {
    const slots = emptyChunk();
    slots[1] = 1.5;
    const bytes = encodeChunk(slots);
    expect(bytes.byteLength).toBe(CHUNK_BYTES);
    expect(CHUNK_BYTES).toBe(SECONDS_PER_CHUNK * 8);
    expect(bytes.readDoubleLE(8)).toBe(1.5);
    expect(bytes.subarray(8, 16)).toEqual(Buffer.from([0, 0, 0, 0, 0, 0, 0xf8, 0x3f]));
  });

  it('decodes a chunk that sits at an offset inside a larger buffer', () => {
    const slots = emptyChunk();
    slots[5] = 42;
    const padded = Buffer.concat([Buffer.from([1, 2, 3]), encodeChunk(slots)]);
    expect(decodeChunk(padded.subarray(3))[5]).toBe(42);
  });

  it('refuses blobs and arrays of the wrong size', () => {
    expect(() => decodeChunk(Buffer.alloc(CHUNK_BYTES - 8))).toThrow(RangeError);
    expect(() => encodeChunk(new Float64Array(59))).toThrow(RangeError);
  });
});
