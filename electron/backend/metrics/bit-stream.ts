/**
 * Bits written and read most significant first, for the sealed chunk encoding. The pending
 * bits live in a plain number (never more than 39 of them, well inside 2^53), so no BigInt
 * and no allocation per value.
 */
export class BitWriter {
  private readonly bytes: Uint8Array;
  private length = 0;
  private pending = 0;
  private pendingBits = 0;

  constructor(capacity: number) {
    this.bytes = new Uint8Array(capacity);
  }

  /** The low `count` bits of `value` (0 to 32 bits). */
  writeBits(value: number, count: number): void {
    if (count === 0) return;
    const masked = (value >>> 0) % 2 ** count;
    this.pending = this.pending * 2 ** count + masked;
    this.pendingBits += count;
    while (this.pendingBits >= 8) {
      this.pendingBits -= 8;
      const divisor = 2 ** this.pendingBits;
      const byte = Math.floor(this.pending / divisor);
      this.push(byte);
      this.pending -= byte * divisor;
    }
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
      this.push(this.pending * 2 ** (8 - this.pendingBits));
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
    while (this.pendingBits < count) {
      if (this.offset >= this.bytes.byteLength) throw new RangeError('a sealed chunk ends in the middle of a value');
      this.pending = this.pending * 256 + (this.bytes[this.offset++] as number);
      this.pendingBits += 8;
    }
    this.pendingBits -= count;
    const divisor = 2 ** this.pendingBits;
    const value = Math.floor(this.pending / divisor);
    this.pending -= value * divisor;
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
