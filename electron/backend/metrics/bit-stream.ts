/**
 * Bits written and read most significant first, for the sealed chunk encoding. The pending
 * bits live in a 32-bit integer, so every step is an integer shift: fields wider than 24 bits
 * go in two parts, which keeps the pending bits (at most 7 left over, plus the field) within 31.
 */
export class BitWriter {
  private readonly bytes: Uint8Array;
  private length = 0;
  private pending = 0;
  private pendingBits = 0;

  constructor(capacity: number) {
    this.bytes = new Uint8Array(capacity);
  }

  /** Empties it for the next stream, keeping its memory (one writer serves every chunk a flush seals). */
  reset(): void {
    this.length = 0;
    this.pending = 0;
    this.pendingBits = 0;
  }

  /** The low `count` bits of `value` (0 to 32 bits). */
  writeBits(value: number, count: number): void {
    if (count > 24) {
      this.writeBits(value >>> 16, count - 16);
      this.writeBits(value & 0xffff, 16);
      return;
    }
    if (count === 0) return;
    this.pending = (this.pending << count) | (value & ((1 << count) - 1));
    this.pendingBits += count;
    while (this.pendingBits >= 8) {
      this.pendingBits -= 8;
      this.push((this.pending >>> this.pendingBits) & 0xff);
    }
    this.pending &= (1 << this.pendingBits) - 1;
  }

  /** A whole byte; only while the stream is byte-aligned (the header). */
  writeByte(byte: number): void {
    if (this.pendingBits !== 0) throw new Error('a byte is written only on a byte boundary');
    this.push(byte & 0xff);
  }

  writeUint32LE(value: number): void {
    for (let i = 0; i < 4; i++) this.writeByte(value >>> (8 * i));
  }

  /** The bytes written, the last padded with zero bits. */
  finish(): Buffer {
    if (this.pendingBits > 0) {
      this.push((this.pending << (8 - this.pendingBits)) & 0xff);
      this.pending = 0;
      this.pendingBits = 0;
    }
    return Buffer.from(this.bytes.subarray(0, this.length));
  }

  private push(byte: number): void {
    if (this.length === this.bytes.length) throw new RangeError(`a bit stream of at most ${this.bytes.length} bytes`);
    this.bytes[this.length++] = byte;
  }
}

export class BitReader {
  private offset: number;
  private pending = 0;
  private pendingBits = 0;

  constructor(
    private readonly bytes: Uint8Array,
    offset = 0,
  ) {
    this.offset = offset;
  }

  /** The next `count` bits (0 to 32) as an unsigned number; throws past the end: a cut row is damage. */
  readBits(count: number): number {
    if (count > 24) {
      const high = this.readBits(count - 16);
      return high * 0x10000 + this.readBits(16);
    }
    while (this.pendingBits < count) {
      if (this.offset >= this.bytes.byteLength) throw new RangeError('a sealed chunk ends in the middle of a value');
      this.pending = (this.pending << 8) | (this.bytes[this.offset++] as number);
      this.pendingBits += 8;
    }
    this.pendingBits -= count;
    const value = (this.pending >>> this.pendingBits) & ((1 << count) - 1);
    this.pending &= (1 << this.pendingBits) - 1;
    return value;
  }

  /** Four bytes, little-endian; only while the stream is byte-aligned (the header). */
  readUint32LE(): number {
    if (this.pendingBits !== 0) throw new Error('a word is read only on a byte boundary');
    if (this.offset + 4 > this.bytes.byteLength) throw new RangeError('a sealed chunk ends in its header');
    let value = 0;
    for (let i = 3; i >= 0; i--) value = value * 256 + (this.bytes[this.offset + i] as number);
    this.offset += 4;
    return value;
  }
}
