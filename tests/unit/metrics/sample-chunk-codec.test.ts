import { describe, expect, it } from 'vitest';
import {
  CHUNK_BYTES,
  SECONDS_PER_CHUNK,
  decodeChunk,
  emptyChunk,
  encodeChunk,
  encodeSealedChunk,
} from '../../../electron/backend/metrics/sample-chunk-codec';

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

/** xorshift32: the same "random" minutes on every run. */
function randomSource(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 4294967296;
  };
}

/** Round-trips through the sealed encoding, comparing every value's bits (so -0 is not 0). */
function expectSealedRoundTrip(slots: Float64Array): Buffer {
  const bytes = encodeSealedChunk(slots);
  const decoded = decodeChunk(bytes);
  expect(decoded).toHaveLength(SECONDS_PER_CHUNK);
  for (let i = 0; i < SECONDS_PER_CHUNK; i++) {
    const [want, got] = [slots[i] as number, decoded[i] as number];
    if (Number.isNaN(want)) expect(Number.isNaN(got), `slot ${i} missing`).toBe(true);
    else expect(Object.is(got, want), `slot ${i}: ${got} for ${want}`).toBe(true);
  }
  return bytes;
}

describe('sample chunk codec: sealed minutes', () => {
  it('round-trips -0, both infinities, subnormals, extremes and missing seconds exactly', () => {
    const slots = emptyChunk();
    const specials = [
      0,
      -0,
      Infinity,
      -Infinity,
      Number.MIN_VALUE,
      -Number.MIN_VALUE,
      2.2250738585072e-308,
      Number.MAX_VALUE,
      -Number.MAX_VALUE,
      1e-300,
      0.1,
      -7,
    ];
    specials.forEach((value, i) => {
      slots[i * 5] = value;
      slots[i * 5 + 1] = value;
    });
    expectSealedRoundTrip(slots);
  });

  it('keeps a minute with every second missing as all missing, in a couple of bytes', () => {
    const bytes = expectSealedRoundTrip(emptyChunk());
    expect(bytes.byteLength).toBeLessThanOrEqual(9);
  });

  it('stores a constant minute in a few bytes, with or without missing seconds', () => {
    const full = new Float64Array(SECONDS_PER_CHUNK).fill(1234.5);
    expect(expectSealedRoundTrip(full).byteLength).toBeLessThanOrEqual(9);
    const gappy = full.map((v, i) => (i % 7 === 3 ? Number.NaN : v));
    expect(expectSealedRoundTrip(gappy).byteLength).toBeLessThanOrEqual(17);
    const zeros = new Float64Array(SECONDS_PER_CHUNK);
    zeros[10] = -0; // not the same bits as 0: the minute is not constant
    expectSealedRoundTrip(zeros);
  });

  it('round-trips random minutes: noisy, slowly moving, integer counters, sparse', () => {
    const random = randomSource(42);
    for (let round = 0; round < 200; round++) {
      const slots = emptyChunk();
      const kind = round % 4;
      let level = random() * 100;
      for (let i = 0; i < SECONDS_PER_CHUNK; i++) {
        if (kind === 3 && random() < 0.6) continue;
        if (kind === 0) slots[i] = (random() - 0.5) * 10 ** Math.floor(random() * 40 - 20);
        else if (kind === 1) slots[i] = level += (random() - 0.5) * 0.1;
        else slots[i] = Math.floor(4e9 + round * 4096 * Math.floor(i / 10));
      }
      expectSealedRoundTrip(slots);
    }
  });

  it('encodes each minute on its own: a sealed row does not depend on the minutes encoded before it, and stays valid after the next', () => {
    // One writer serves every chunk a flush seals; nothing of a long noisy minute may carry into a short constant one.
    const random = randomSource(11);
    const noisy = emptyChunk().map(() => random() * 1e6);
    const constant = emptyChunk().fill(5);
    const sparse = emptyChunk();
    sparse[7] = 1.5;
    sparse[50] = -2;
    const alone = [constant, sparse].map((slots) => Buffer.from(encodeSealedChunk(slots)));
    const first = encodeSealedChunk(noisy);
    const firstCopy = Buffer.from(first);
    expect(encodeSealedChunk(constant)).toEqual(alone[0]);
    expect(encodeSealedChunk(sparse)).toEqual(alone[1]);
    // A row handed out earlier is its own bytes, untouched by the encodes after it.
    expect(first).toEqual(firstCopy);
    expect([...decodeChunk(first)]).toEqual([...noisy]);
  });

  it('compresses a slowly moving gauge well below the open row, and a byte counter further', () => {
    const random = randomSource(7);
    let level = 40;
    const gauge = emptyChunk().map(() => (level += (random() - 0.5) * 2));
    expect(expectSealedRoundTrip(gauge).byteLength).toBeLessThan(CHUNK_BYTES * 0.9);
    const counter = emptyChunk().map((_, i) => 2_000_000_000 + 4096 * Math.floor(i / 15));
    expect(expectSealedRoundTrip(counter).byteLength).toBeLessThan(80);
  });

  it('falls back to the open row for a minute that does not compress, so a 480-byte row is always the open format', () => {
    const random = randomSource(3);
    const noise = emptyChunk().map(() => {
      const view = new DataView(new ArrayBuffer(8));
      view.setUint32(0, (random() * 2 ** 32) & 0x7fefffff);
      view.setUint32(4, random() * 2 ** 32);
      return view.getFloat64(0);
    });
    const bytes = expectSealedRoundTrip(noise);
    expect(bytes.byteLength).toBe(CHUNK_BYTES);
    expect(bytes).toEqual(encodeChunk(noise));
  });

  it('reads rows written in the open format before sealed rows existed', () => {
    const slots = emptyChunk();
    slots[0] = 3.25;
    slots[59] = -1;
    const legacy = Buffer.alloc(CHUNK_BYTES);
    for (let i = 0; i < SECONDS_PER_CHUNK; i++) legacy.writeDoubleLE(slots[i] as number, i * 8);
    expect(Array.from(decodeChunk(legacy))).toEqual(Array.from(slots));
  });

  it('refuses a row with an unknown format byte, or cut short', () => {
    const slots = emptyChunk().map((_, i) => i * 1.5);
    const sealed = encodeSealedChunk(slots);
    expect(sealed[0]).toBe(0x01);
    expect(() => decodeChunk(sealed.subarray(0, sealed.byteLength - 4))).toThrow(RangeError);
    expect(() => decodeChunk(Buffer.from([0x40, 0, 0]))).toThrow(RangeError);
    expect(() => decodeChunk(Buffer.alloc(0))).toThrow(RangeError);
  });
});
